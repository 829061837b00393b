"""Factories of the telephony tests."""

from __future__ import annotations

import factory

from aftersales.channels.phone.models import CtiSource


class CtiSourceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CtiSource

    key = factory.Sequence(lambda n: f"callcenter-{n}")
    name = factory.Sequence(lambda n: f"呼叫中心 {n}")
    secret = factory.Sequence(lambda n: f"ctisec_test_{n:04d}")
