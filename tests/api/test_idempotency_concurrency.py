"""Concurrent retries of one create, racing on real connections: exactly one ticket results."""

from __future__ import annotations

import threading

import pytest
from django.db import connection
from django.test import Client

from aftersales.core.roles import Role
from aftersales.core.services import api_token_create
from aftersales.tickets.models import Ticket
from tests.factories import CustomerFactory, UserFactory


@pytest.mark.django_db(transaction=True)
def test_simultaneous_retries_with_one_key_create_one_ticket():
    agent = UserFactory(role=Role.AGENT)
    customer = CustomerFactory()
    _token, raw = api_token_create(user=agent)
    payload = {"subject": "并发重试", "customer": customer.pk}
    start = threading.Barrier(6)
    answers: list[tuple[int, str]] = []
    lock = threading.Lock()

    def retry() -> None:
        try:
            client = Client(HTTP_AUTHORIZATION=f"Bearer {raw}")
            start.wait()
            response = client.post(
                "/api/v1/tickets",
                payload,
                content_type="application/json",
                headers={"Idempotency-Key": "race-1"},
            )
            with lock:
                answers.append(
                    (response.status_code, response.json().get("number", response.content.decode()))
                )
        finally:
            connection.close()

    threads = [threading.Thread(target=retry) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert Ticket.objects.filter(subject="并发重试").count() == 1
    number = Ticket.objects.get(subject="并发重试").number
    assert answers == [(201, number)] * 6
