"""Service-level agreements: policies, business-time clocks, warnings and escalation."""
