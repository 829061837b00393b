"""Telephony pages."""

from django.urls import path

from . import views

app_name = "phone"
urlpatterns = [path("calls/", views.call_list, name="calls")]
