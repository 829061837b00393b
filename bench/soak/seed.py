"""What the soak needs beyond the demo company: an inbound webhook source, an outbound webhook
endpoint pointing at the harness's receiver, and the facts the load generator works from.

Run by the harness after ``seed_demo`` as ``python -m bench.soak.seed <receiver URL>`` with the
soak's environment; prints one JSON object. Configuration rows are written the way the admin
writes them (these are settings an administrator makes, not business actions)."""

from __future__ import annotations

import json
import sys


def main(receiver_url: str) -> None:
    import django

    django.setup()
    from aftersales.channels.chat.models import ChatChannel
    from aftersales.channels.webhooks.models import EventType, InboundSource, SourceKind, WebhookEndpoint
    from aftersales.core.models import Team
    from aftersales.customers.models import Customer

    team = Team.objects.order_by("id").first()
    source, _ = InboundSource.objects.get_or_create(
        key="soak-shop", defaults={"name": "Soak shop", "kind": SourceKind.SHOP, "default_team": team}
    )
    endpoint, _ = WebhookEndpoint.objects.get_or_create(
        name="Soak receiver", defaults={"url": receiver_url, "event_types": list(EventType.values)}
    )
    channel = ChatChannel.objects.filter(is_active=True).order_by("id").first()
    if channel is None:
        channel = ChatChannel.objects.create(name="Soak chat", team=team)
    customers = list(Customer.objects.exclude(email="").order_by("id").values_list("id", "email")[:300])
    print(
        json.dumps(
            {
                "source_key": source.key,
                "source_secret": source.secret,
                "endpoint_id": endpoint.pk,
                "endpoint_secret": endpoint.secret,
                "chat_key": channel.public_key,
                "customers": customers,
            }
        )
    )


if __name__ == "__main__":
    main(sys.argv[1])
