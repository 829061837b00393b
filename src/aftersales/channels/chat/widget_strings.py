"""Every text the widget shows, sent in its config JSON in the visitor's language."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

WIDGET_STRINGS = {
    "launcher": _("Chat with us"),
    "title": _("Customer service"),
    "online": _("Agents are online"),
    "offline": _("No agent is online right now"),
    "bot_status": _("Our answer bot replies first"),
    "close_panel": _("Minimise"),
    "intro": _("Ask us anything about your products, repairs or installation."),
    "name": _("Your name"),
    "contact": _("E-mail or phone"),
    "contact_optional": _("E-mail or phone (optional, so we can reach you)"),
    "message": _("Your message"),
    "placeholder": _("Type a message…"),
    "start": _("Start chat"),
    "send": _("Send"),
    "solved": _("This solved it"),
    "person": _("Talk to a person"),
    "ask_contact": _(
        "So that we can follow up if the chat is interrupted, leave your e-mail or phone (optional)."
    ),
    "continue": _("Continue"),
    "skip": _("Skip"),
    "sources": _("From our help articles:"),
    "waiting": _("Waiting for an agent…"),
    "agent_joined": _("You are chatting with %(agent)s"),
    "end_chat": _("End chat"),
    "ended": _("This chat has ended."),
    "new_chat": _("Start a new chat"),
    "leave_message": _("Leave a message"),
    "leave_intro": _("No agent is online right now. Leave a message and we will get back to you."),
    "leave_send": _("Send message"),
    "left_message": _("Thank you. Your message was received as ticket %(ticket)s; we will get back to you."),
    "deflected": _("Glad we could help!"),
    "error": _("Something went wrong. Please try again."),
    "connection_lost": _("Connection lost, reconnecting…"),
    "you": _("You"),
    "agent": _("Agent"),
    "bot": _("Answer bot"),
    "powered": _("After-sales service"),
}
