"""Signed inbound and outbound webhooks, call-centre (CTI) events and call records."""
