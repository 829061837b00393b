"""Where outbound webhooks may be sent: public addresses only, unless a setting allows more.

An endpoint URL that names (or resolves to) loopback, private, link-local, multicast or reserved
addresses would let whoever configures it make the server probe its own network (SSRF). The
URL is checked when the endpoint is saved, and the address actually connected to is checked
again on every delivery, so a name that re-resolves to an internal address later (DNS
rebinding) is refused too.

``AFTERSALES_WEBHOOK_ALLOW_PRIVATE`` (bool) lifts the rule; ``AFTERSALES_WEBHOOK_ALLOWED_NETWORKS``
(CIDR list, e.g. an on-premises ERP at ``10.8.0.0/16``) allows just those networks.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
from urllib.parse import urlsplit

from django.conf import settings
from django.utils.translation import gettext_lazy as _

from aftersales.core.errors import ValidationFailed

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class WebhookUrlNotAllowed(ValidationFailed):
    code = "webhook_url_not_allowed"
    default_message = _(
        "This webhook URL points at a loopback, private or link-local address; "
        "only public addresses may receive webhooks unless an administrator allows them."
    )


def _allowed_networks() -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    configured = getattr(settings, "AFTERSALES_WEBHOOK_ALLOWED_NETWORKS", ()) or ()
    return [ipaddress.ip_network(str(value).strip(), strict=False) for value in configured]


def address_allowed(address: str) -> bool:
    """Whether a webhook may be delivered to this IP address."""
    if getattr(settings, "AFTERSALES_WEBHOOK_ALLOW_PRIVATE", False):
        return True
    try:
        ip: IpAddress = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if any(ip in network for network in _allowed_networks()):
        return True
    return ip.is_global and not ip.is_multicast


def check_url(url: str) -> None:
    """Refuse (422 ``webhook_url_not_allowed``) a URL whose host resolves to a forbidden address.

    A host that does not resolve now is accepted: delivery checks again and retries.
    """
    parts = urlsplit(url)
    host = parts.hostname or ""
    if not host:
        raise WebhookUrlNotAllowed(details={"url": url})
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise WebhookUrlNotAllowed(details={"url": url}) from None
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        return
    refused = sorted({str(info[4][0]) for info in infos if not address_allowed(str(info[4][0]))})
    if refused:
        raise WebhookUrlNotAllowed(details={"url": url, "addresses": refused})


class GuardedHTTPConnection(http.client.HTTPConnection):
    def connect(self) -> None:
        super().connect()
        _check_peer(self)


class GuardedHTTPSConnection(http.client.HTTPSConnection):
    def connect(self) -> None:
        super().connect()
        _check_peer(self)


def _check_peer(connection: http.client.HTTPConnection) -> None:
    """Check the address the socket really reached (after any DNS answer), before sending."""
    peer = str(connection.sock.getpeername()[0])
    if not address_allowed(peer):
        connection.close()
        raise WebhookUrlNotAllowed(details={"address": peer})
