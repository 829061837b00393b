"""Telephony: call records on tickets (direction, duration, recording) and call-centre (CTI) events."""
