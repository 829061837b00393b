"""How the customer pages show identities and history items (shared by the view and the tag)."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from aftersales.customers.models import Customer, IdentityKind
from aftersales.tickets.models import Channel
from aftersales.tickets.selectors_history import HistoryItem

# The channel an identity is used on, for the "identities by channel" panel.
IDENTITY_CHANNEL = {
    IdentityKind.EMAIL: Channel.EMAIL,
    IdentityKind.PHONE: Channel.PHONE,
    IdentityKind.WECHAT_OPENID: Channel.WECHAT,
}


def channel_label(channel: str) -> str:
    return str(Channel(channel).label) if channel in Channel.values else channel


def history_rows(items: list[HistoryItem]) -> list[dict[str, Any]]:
    return [
        {
            "kind": item.kind,
            "at": item.at,
            "channel": item.channel,
            "channel_label": channel_label(item.channel),
            "ticket": item.ticket,
            "message": item.message,
            "excerpt": item.excerpt,
        }
        for item in items
    ]


def identities_by_channel(customer: Customer) -> list[dict[str, Any]]:
    """``[{kind, label, channel, rows: [(identity, contact)]}]`` in a fixed order, from the
    prefetched contacts of ``customer_with_identities``."""
    grouped: dict[str, list[Any]] = defaultdict(list)
    for contact in customer.contacts.all():
        for identity in contact.identities.all():
            grouped[identity.kind].append((identity, contact))
    return [
        {
            "kind": kind,
            "label": IdentityKind(kind).label,
            "channel": IDENTITY_CHANNEL[IdentityKind(kind)],
            "rows": grouped[kind],
        }
        for kind in (IdentityKind.PHONE, IdentityKind.EMAIL, IdentityKind.WECHAT_OPENID)
        if grouped[kind]
    ]
