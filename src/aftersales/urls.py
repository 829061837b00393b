from django.contrib import admin
from django.urls import include, path

from aftersales.api.api import api
from aftersales.core import health
from aftersales.shell.views import favicon

# Uncaught errors outside views: 503 for a database or disk failure, JSON under /api/.
handler500 = "aftersales.core.unavailable.server_error"

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("favicon.ico", favicon, name="favicon"),
    path("api/v1/", api.urls),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("mail/", include("aftersales.channels.mail.urls")),
    path("chat/", include("aftersales.channels.chat.urls")),
    path("phone/", include("aftersales.channels.phone.urls")),
    path("webhooks/", include("aftersales.channels.webhooks.urls")),
    path("", include("aftersales.knowledge.urls")),
    path("", include("aftersales.web.urls")),
]
