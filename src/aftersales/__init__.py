"""aftersales: an after-sales service platform (售后服务管理平台)."""

from .celery import app as celery_app

__all__ = ["celery_app"]
