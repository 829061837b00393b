"""The address of the client behind the request, for rate limits and logs.

``X-Forwarded-For`` is anyone's to write, so it is believed only as far as trusted proxies vouch
for it: when the direct peer (``REMOTE_ADDR``) is one of ``AFTERSALES_TRUSTED_PROXIES`` (CIDRs),
the header is read from the right, skipping further trusted proxies, and the first address that
is not one of them is the client. Otherwise the peer itself is the client and the header is
ignored.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache

from django.conf import settings
from django.http import HttpRequest

IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

UNKNOWN = "unknown"


@lru_cache(maxsize=8)
def _parse_networks(spec: tuple[str, ...]) -> tuple[IpNetwork, ...]:
    return tuple(ipaddress.ip_network(item, strict=False) for item in spec)


def trusted_proxy_networks() -> tuple[IpNetwork, ...]:
    configured = getattr(settings, "AFTERSALES_TRUSTED_PROXIES", ()) or ()
    return _parse_networks(tuple(str(item) for item in configured))


def _address(value: str) -> IpAddress | None:
    value = value.strip()
    if value.startswith("[") and "]" in value:  # [2001:db8::1]:443
        value = value[1 : value.index("]")]
    elif value.count(":") == 1:  # 203.0.113.9:51234
        value = value.split(":", 1)[0]
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _is_trusted(address: IpAddress, networks: tuple[IpNetwork, ...]) -> bool:
    return any(address.version == network.version and address in network for network in networks)


def client_address(request: HttpRequest) -> str:
    """The client's IP address as text, or ``"unknown"`` when there is none."""
    peer = _address(str(request.META.get("REMOTE_ADDR") or ""))
    if peer is None:
        return UNKNOWN
    networks = trusted_proxy_networks()
    if not networks or not _is_trusted(peer, networks):
        return str(peer)
    forwarded = str(request.META.get("HTTP_X_FORWARDED_FOR") or "")
    hops = [hop for hop in forwarded.split(",") if hop.strip()]
    client = peer
    for hop in reversed(hops):
        address = _address(hop)
        if address is None:
            break  # garbage from beyond the proxies: the last address we could trust stands
        client = address
        if not _is_trusted(address, networks):
            break
    return str(client)
