"""Domain events the customer services publish; tickets (and later analytics) subscribe."""

from __future__ import annotations

from dataclasses import dataclass

from aftersales.core.models import User

from .models import Customer


@dataclass(frozen=True)
class CustomerTierChanged:
    customer: Customer
    from_tier: str
    to_tier: str
    actor: User | None


@dataclass(frozen=True)
class CustomersMerged:
    """``source`` was folded into ``target``: what higher apps hold of ``source`` must follow."""

    source: Customer
    target: Customer
    actor: User | None
