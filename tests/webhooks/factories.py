"""Factories of the webhooks tests."""

from __future__ import annotations

import factory

from aftersales.channels.webhooks.models import InboundSource, WebhookEndpoint


class InboundSourceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = InboundSource

    key = factory.Sequence(lambda n: f"wechat-{n}")
    name = factory.Sequence(lambda n: f"微信服务号 {n}")
    kind = "wechat"
    channel = "wechat"
    secret = factory.Sequence(lambda n: f"whsec_test_secret_{n:04d}")


class WebhookEndpointFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = WebhookEndpoint

    name = factory.Sequence(lambda n: f"ERP {n}")
    url = "http://127.0.0.1:9/hook"
    secret = factory.Sequence(lambda n: f"whsec_out_{n:04d}")
    event_types = factory.LazyFunction(
        lambda: ["ticket.opened", "ticket.stage_changed", "ticket.message_added", "ticket.updated"]
    )
