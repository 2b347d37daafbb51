"""Client addresses as the limits see them (app.domain.addresses)."""

from __future__ import annotations

import ipaddress

import pytest

from app.domain.addresses import in_networks

PROXIES = [ipaddress.ip_network("10.0.0.0/8"), ipaddress.ip_network("2001:db8::/32")]


@pytest.mark.parametrize(
    ("address", "inside"),
    [
        ("10.1.2.3", True),
        ("::ffff:10.1.2.3", True),  # IPv4-mapped: as its IPv4 address
        ("2001:db8:5::1", True),
        ("11.0.0.1", False),
        ("not-an-ip", False),
        (None, False),
    ],
)
def test_in_networks(address: str | None, inside: bool) -> None:
    assert in_networks(address, PROXIES) is inside
    assert in_networks(address, []) is False
