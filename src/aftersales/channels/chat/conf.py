"""Chat settings: a Django setting wins, else the environment variable, else the default."""

from __future__ import annotations

import os
from typing import Any

from django.conf import settings

DEFAULTS: dict[str, Any] = {
    # The answer bot answers first, until the visitor asks for a person or an agent accepts.
    "AFTERSALES_CHAT_BOT": True,
    # Server-Sent Events: how long one stream lives (EventSource then reconnects), how often it
    # looks for news, and how often it sends a keep-alive comment.
    "AFTERSALES_CHAT_STREAM_SECONDS": 55.0,
    "AFTERSALES_CHAT_POLL_SECONDS": 1.0,
    "AFTERSALES_CHAT_HEARTBEAT_SECONDS": 15.0,
    # Visitor requests per minute, per IP address and per conversation (0 turns a limit off).
    "AFTERSALES_CHAT_RATE_PER_IP": 300,
    "AFTERSALES_CHAT_RATE_PER_CONVERSATION": 40,
    # New conversations per IP address per hour.
    "AFTERSALES_CHAT_STARTS_PER_IP_HOUR": 30,
}


def _from_env(name: str, default: Any) -> Any:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    if isinstance(default, bool):
        return raw.strip().lower() in {"1", "true", "yes", "on"}
    try:
        return type(default)(raw)
    except ValueError:
        return default


def chat_setting(name: str) -> Any:
    default = DEFAULTS[name]
    if hasattr(settings, name):
        return getattr(settings, name)
    return _from_env(name, default)
