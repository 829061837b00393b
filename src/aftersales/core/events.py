"""A small, explicit domain-event bus.

Services publish named business facts (``TicketStageChanged``); other apps subscribe handlers
in their ``AppConfig.ready()``. Handlers run inside the publishing transaction unless they are
subscribed with ``on_commit=True``. Every subscription is listed in docs/architecture.md.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any, TypeVar

from django.db import transaction

EventT = TypeVar("EventT")


@dataclass(frozen=True)
class _Subscription:
    handler: Callable[[Any], None]
    on_commit: bool


_subscriptions: dict[type, list[_Subscription]] = defaultdict(list)


def subscribe(
    event_type: type[EventT], handler: Callable[[EventT], None], *, on_commit: bool = False
) -> None:
    subscription = _Subscription(handler=handler, on_commit=on_commit)
    if subscription not in _subscriptions[event_type]:
        _subscriptions[event_type].append(subscription)


def publish(event: object) -> None:
    for subscription in list(_subscriptions.get(type(event), [])):
        if subscription.on_commit:
            transaction.on_commit(partial(subscription.handler, event))
        else:
            subscription.handler(event)


def subscriptions() -> dict[type, list[_Subscription]]:
    return {event_type: list(subs) for event_type, subs in _subscriptions.items()}
