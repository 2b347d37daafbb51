"""Client addresses as the limits see them: the key an address is counted by, and whether
it belongs to a list of networks (trusted proxies)."""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

Network = ipaddress.IPv4Network | ipaddress.IPv6Network

UNKNOWN_ADDRESS = "-"


def address_key(address: str | None) -> str:
    """What an address limit counts by: the IPv4 address, or the IPv6 /64 holding it (the
    share of a network one host usually holds); an IPv4-mapped IPv6 address as IPv4."""
    if not address:
        return UNKNOWN_ADDRESS
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return str(ip)


def in_networks(address: str | None, networks: Sequence[Network]) -> bool:
    """True when `address` is an IP address inside one of `networks` (an IPv4-mapped IPv6
    address counts as its IPv4 address)."""
    if not networks or not address:
        return False
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return any(ip in network for network in networks)
