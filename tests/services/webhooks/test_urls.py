"""Where a webhook may point: http(s) URLs whose host resolves only to public addresses
(no loopback, private, link-local, shared, multicast, reserved or unspecified one, nor
one of those inside an IPv6 address), unless private addresses are allowed."""

from __future__ import annotations

import ipaddress

import pytest

from ediary_gql.errors import DomainError
from ediary_gql.services.webhooks import urls


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "127.8.9.10",
        "10.0.0.1",
        "172.16.5.4",
        "192.168.1.1",
        "169.254.169.254",  # cloud metadata
        "100.64.0.1",  # carrier-grade NAT
        "0.0.0.0",  # noqa: S104 - the address under test
        "224.0.0.251",
        "239.255.255.250",
        "255.255.255.255",
        "198.18.0.1",  # benchmarking
        "::1",
        "::",
        "fe80::1",
        "fc00::1",
        "ff02::1",
        "::ffff:127.0.0.1",
        "::ffff:10.0.0.1",
        "64:ff9b::a00:1",  # NAT64 of 10.0.0.1
        "64:ff9b:1::a9fe:a9fe",  # local-use NAT64 of 169.254.169.254
        "::a9fe:a9fe",  # IPv4-compatible 169.254.169.254
        "::ffff:0:7f00:1",  # IPv4-translated 127.0.0.1
    ],
)
def test_internal_addresses_are_not_public(address: str) -> None:
    assert not urls.is_public(ipaddress.ip_address(address))


@pytest.mark.parametrize("address", ["93.184.215.14", "8.8.8.8", "2606:4700:4700::1111", "::ffff:8.8.8.8"])
def test_public_addresses_are(address: str) -> None:
    assert urls.is_public(ipaddress.ip_address(address))


@pytest.mark.parametrize(
    "url",
    [
        "",
        "example.com/hook",
        "ftp://example.com/hook",
        "javascript:alert(1)",
        "http://",
        "https://user:secret@example.com/",
        "http://example.com:99999/",
        "http://exa mple.com/",
        "http://example.com/\n",
        "https://" + "a" * 2000 + ".com/",
    ],
)
def test_malformed_or_other_schemes_are_refused(url: str) -> None:
    with pytest.raises(urls.UrlRefused):
        urls.parse(url)


async def test_a_name_is_resolved_and_every_address_checked() -> None:
    with pytest.raises(urls.UrlRefused, match="внутреннюю сеть") as refused:
        await urls.check("http://localhost:8080/hook", allow_private=False)
    assert "127.0.0.1" not in str(refused.value)  # where a name points inside is not told
    target = await urls.check("http://localhost:8080/hook", allow_private=True)
    assert target.host == "localhost"
    assert target.port == 8080
    assert ipaddress.ip_address("127.0.0.1") in target.addresses
    assert target.host_header == "localhost:8080"


async def test_an_ip_literal_is_its_own_address() -> None:
    target = await urls.check("https://[2606:4700:4700::1111]/x", allow_private=False)
    assert target.addresses == (ipaddress.ip_address("2606:4700:4700::1111"),)
    assert target.host_header == "[2606:4700:4700::1111]"
    with pytest.raises(urls.UrlRefused):
        await urls.check("http://[::ffff:169.254.169.254]/", allow_private=False)


async def test_a_name_without_addresses_is_unresolved() -> None:
    with pytest.raises(urls.UrlUnresolved):
        await urls.check("http://no-such-host.invalid/", allow_private=False)


async def test_a_users_url_is_refused_at_its_field() -> None:
    with pytest.raises(DomainError) as refused:
        await urls.check_for_webhook("http://10.0.0.1/", allow_private=False)
    assert [(e.code.value, e.field) for e in refused.value.errors] == [("INVALID", ("url",))]


def test_6to4_of_a_private_address_is_not_public() -> None:
    assert not urls.is_public(ipaddress.ip_address("2002:a00:1::1"))  # 6to4 of 10.0.0.1
