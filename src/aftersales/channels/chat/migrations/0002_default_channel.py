"""A first chat channel, so the widget and its demo page work right after `migrate`."""

import secrets

from django.db import migrations


def create_default_channel(apps, schema_editor):
    ChatChannel = apps.get_model("chat", "ChatChannel")
    if ChatChannel.objects.exists():
        return
    ChatChannel.objects.create(
        public_key="ch_" + secrets.token_urlsafe(12),
        name="澜泉卫浴官网在线客服",
        allowed_origins="",
        greeting="您好，欢迎咨询澜泉卫浴！请描述您的问题，智能助手会先为您解答，也可以随时转人工客服。",
        greeting_en="Hello and welcome to Lanquan Bathroom! Describe your question: our answer bot replies first, and you can ask for a person at any time.",
        is_active=True,
    )


def remove_default_channel(apps, schema_editor):
    ChatChannel = apps.get_model("chat", "ChatChannel")
    ChatChannel.objects.filter(name="澜泉卫浴官网在线客服", conversations__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("chat", "0001_initial")]

    operations = [migrations.RunPython(create_default_channel, remove_default_channel)]
