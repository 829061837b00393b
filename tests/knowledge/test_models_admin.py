"""The admin lists every knowledge model; article text and history are read-only there."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from aftersales.knowledge import services
from aftersales.knowledge.models import ArticleVersion

from .core_factories import published_article, reviewer, writer

pytestmark = pytest.mark.django_db

MODELS = [
    "category",
    "kbtag",
    "article",
    "articleversion",
    "manual",
    "manualedition",
    "articlefeedback",
    "searchquerylog",
    "ticketarticleuse",
    "botsession",
]


def test_every_model_has_a_working_admin(admin_user):
    article, version = published_article(actor=writer(), approver=reviewer())
    manual = services.manual_create(actor=admin_user, slug="m", title_zh="手册")
    services.manual_section_add(actor=admin_user, manual=manual, title="一", article=article)
    services.manual_publish_edition(actor=admin_user, manual=manual)
    client = Client()
    client.force_login(admin_user)
    for model in MODELS:
        response = client.get(reverse(f"admin:knowledge_{model}_changelist"))
        assert response.status_code == 200, model
    assert client.get(reverse("admin:knowledge_article_change", args=[article.pk])).status_code == 200
    assert client.get(reverse("admin:knowledge_manual_change", args=[manual.pk])).status_code == 200
    # A published version cannot be edited or deleted through the admin.
    assert client.get(reverse("admin:knowledge_articleversion_add")).status_code == 403
    client.post(reverse("admin:knowledge_articleversion_change", args=[version.pk]), {"title": "changed"})
    assert ArticleVersion.objects.get(pk=version.pk).title == "Reset the filter"
