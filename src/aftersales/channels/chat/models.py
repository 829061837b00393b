"""Website chat: the embeddable widget, conversations, the agent side, live updates."""
