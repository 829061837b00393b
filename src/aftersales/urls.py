from django.contrib import admin
from django.urls import include, path

from aftersales.api.api import api
from aftersales.core import health

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("api/v1/", api.urls),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("mail/", include("aftersales.mail.urls")),
    path("chat/", include("aftersales.chat.urls")),
    path("integrations/", include("aftersales.integrations.urls")),
    path("", include("aftersales.knowledge.urls")),
    path("", include("aftersales.web.urls")),
]
