"""Where a webhook may point (SSRF): http(s) only, and a host whose every address is a
public one — no loopback, private, link-local (cloud metadata), shared, multicast, reserved
or unspecified address, IPv4 mapped into IPv6 included. Checked when the webhook is
registered and again at every send, after resolving the name then: a name that resolved
to a public address at registration may resolve to an internal one later (DNS rebinding).
The sender connects to the very addresses checked (`Target.addresses`), so no second
lookup can slip another one in. WEBHOOK_ALLOW_PRIVATE_URLS lets internal addresses
through (tests with a loopback receiver, local development)."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from ediary_gql.errors import DomainError, ErrorCode

URL_MAX = 2000
SCHEMES = frozenset({"http", "https"})
DEFAULT_PORTS = {"http": 80, "https": 443}
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class UrlRefused(Exception):
    """A URL a webhook may not have (why, in Russian, for the user)."""


class UrlUnresolved(Exception):
    """The host has no address now (DNS failed): a sender tries again later."""


@dataclass(frozen=True, slots=True)
class Target:
    """A checked URL: its parts, and the addresses its host resolved to (all allowed)."""

    url: str
    scheme: str
    host: str  # as written, lower-case, without brackets
    port: int
    addresses: tuple[IPAddress, ...]

    @property
    def host_header(self) -> str:
        shown = f"[{self.host}]" if ":" in self.host else self.host
        return shown if self.port == DEFAULT_PORTS[self.scheme] else f"{shown}:{self.port}"


# Prefixes whose last 32 bits are an IPv4 address the packet reaches: the well-known and the
# local-use NAT64 prefixes (RFC 6052, RFC 8215), IPv4-compatible and IPv4-translated addresses.
CARRIES_IPV4 = tuple(
    ipaddress.ip_network(prefix) for prefix in ("64:ff9b::/96", "64:ff9b:1::/48", "::/96", "::ffff:0:0:0/96")
)


def is_public(address: IPAddress) -> bool:
    """An address on the public internet — and so is any IPv4 address an IPv6 one carries
    (mapped, 6to4, NAT64), which is what it would reach."""
    if isinstance(address, ipaddress.IPv6Address):
        inner = address.ipv4_mapped or address.sixtofour
        if inner is None and any(address in prefix for prefix in CARRIES_IPV4):
            inner = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if inner is not None and not is_public(inner):
            return False
        if address.ipv4_mapped is not None:
            return True
    return address.is_global and not address.is_multicast


def parse(url: str) -> tuple[str, str, int]:
    """(scheme, host, port) of a well-formed http(s) URL; UrlRefused otherwise."""
    if not url or len(url) > URL_MAX:
        raise UrlRefused(f"Адрес — от 1 до {URL_MAX} символов")
    if any(c.isspace() or ord(c) < 32 for c in url):
        raise UrlRefused("В адресе не должно быть пробелов и управляющих символов")
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in SCHEMES:
        raise UrlRefused("Адрес вебхука должен начинаться с https:// или http://")
    if parts.username is not None or parts.password is not None:
        raise UrlRefused("Адрес не должен содержать имя пользователя и пароль")
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise UrlRefused("В адресе нет имени сервера")
    try:
        port = parts.port or DEFAULT_PORTS[scheme]
    except ValueError:
        raise UrlRefused("Неверный порт в адресе") from None
    return scheme, host, port


async def resolve(host: str, port: int) -> tuple[IPAddress, ...]:
    """The host's addresses (an IP literal is its own), in the resolver's order."""
    try:
        return (ipaddress.ip_address(host),)
    except ValueError:
        pass
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise UrlUnresolved(f"Имя {host} не найдено в DNS ({exc})") from None
    found = dict.fromkeys(ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos)
    if not found:
        raise UrlUnresolved(f"У имени {host} нет адресов")
    return tuple(found)


async def check(url: str, *, allow_private: bool) -> Target:
    """The URL checked and resolved now: UrlRefused for a form or an address not allowed,
    UrlUnresolved when its name has no address."""
    scheme, host, port = parse(url)
    addresses = await resolve(host, port)
    if not allow_private:
        internal = [a for a in addresses if not is_public(a)]
        if internal:
            raise UrlRefused(
                # the address it resolved to is not told: that would let users probe internal DNS
                f"Адрес {host} указывает во внутреннюю сеть: вебхуки отправляются только на публичные адреса"
            )
    return Target(url=url, scheme=scheme, host=host.lower(), port=port, addresses=addresses)


async def check_for_webhook(url: str, *, allow_private: bool, field: str = "url") -> Target:
    """`check` for a URL a user gives: its refusals as INVALID at `field`."""
    try:
        return await check(url.strip(), allow_private=allow_private)
    except (UrlRefused, UrlUnresolved) as exc:
        raise DomainError(ErrorCode.INVALID, str(exc), field=field) from None
