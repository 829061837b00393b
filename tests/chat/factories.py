from __future__ import annotations

import factory

from aftersales.channels.chat.models import ChatChannel


class ChatChannelFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ChatChannel

    public_key = factory.Sequence(lambda n: f"ch_test{n:04d}")
    name = factory.Sequence(lambda n: f"官网在线客服{n}")
    allowed_origins = "https://www.lanquan.example"
    greeting = "您好，请问有什么可以帮您？"
    greeting_en = "Hello, how can we help?"
