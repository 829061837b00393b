"""Channels: every way a contact reaches the service desk (e-mail, chat, phone, webhooks)."""
