"""Webhook pages: the signed inbound endpoint and the delivery log."""

from django.urls import path

from . import views

app_name = "webhooks"
urlpatterns = [
    path("in/<str:key>/", views.inbound, name="inbound"),
    path("", views.delivery_log, name="log"),
    path("deliveries/<int:delivery_id>/retry/", views.delivery_retry, name="retry"),
]
