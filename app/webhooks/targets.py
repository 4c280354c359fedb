"""Where a webhook may be sent: https, or http to a configured host; never to a private,
loopback, link-local or otherwise non-public address (unless its network is configured),
checked on the addresses the name resolves to at each delivery, and the request is sent to
the address that was checked (a second lookup could answer differently)."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx

from app.core.config import Settings

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class TargetRefused(Exception):
    """The target is not allowed (scheme, host or address): never retried as it is."""


@dataclass(frozen=True, slots=True)
class Policy:
    http_hosts: frozenset[str]
    networks: tuple[Network, ...]

    @classmethod
    def of(cls, settings: Settings) -> Policy:
        return cls(
            http_hosts=frozenset(h.lower() for h in settings.webhook_allowed_http_hosts),
            networks=tuple(
                ipaddress.ip_network(n, strict=False) for n in settings.webhook_allowed_networks
            ),
        )

    def address_allowed(self, address: Address) -> bool:
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        if any(address in network for network in self.networks):
            return True
        return address.is_global and not address.is_multicast

    def check_url(self, url: str) -> None:
        """Refuse a URL whose scheme, host or literal address is not allowed."""
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        if not host:
            raise TargetRefused("The URL has no host.")
        if parts.scheme == "http" and host not in self.http_hosts:
            raise TargetRefused(
                "Targets must use https (plain http only to hosts allowed by configuration)."
            )
        if parts.scheme not in ("http", "https"):
            raise TargetRefused("Targets must use https.")
        try:
            literal: Address | None = ipaddress.ip_address(host)
        except ValueError:
            literal = None
        if literal is not None and not self.address_allowed(literal):
            raise TargetRefused(f"{host} is a private, loopback or reserved address.")
        if literal is None and (host == "localhost" or host.endswith(".localhost")):
            if not self.address_allowed(ipaddress.ip_address("127.0.0.1")):
                raise TargetRefused(f"{host} is a loopback name.")


@dataclass(frozen=True, slots=True)
class Resolved:
    """A target URL with its host replaced by the checked address."""

    url: httpx.URL
    host: str
    address: str

    @property
    def host_header(self) -> str:
        port = self.url.port
        return self.host if port is None else f"{self.host}:{port}"

    def request(self, body: bytes, headers: dict[str, str]) -> httpx.Request:
        """The POST to the checked address, with the original `Host` and TLS server name."""
        extensions = {"sni_hostname": self.host} if self.url.scheme == "https" else {}
        return httpx.Request(
            "POST",
            self.url.copy_with(host=self.address),
            content=body,
            headers={**headers, "Host": self.host_header},
            extensions=extensions,
        )


async def resolve(policy: Policy, url: str) -> Resolved:
    """Check `url`, resolve its host and check every address it resolves to."""
    policy.check_url(url)
    parsed = httpx.URL(url)
    host = parsed.host
    try:
        literal: Address | None = ipaddress.ip_address(host)
    except ValueError:
        literal = None
    if literal is not None:
        return Resolved(url=parsed, host=host, address=str(literal))
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    addresses = [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos]
    if not addresses:
        raise OSError(f"{host} does not resolve")
    refused = [a for a in addresses if not policy.address_allowed(a)]
    if refused:
        raise TargetRefused(f"{host} resolves to a private, loopback or reserved address.")
    return Resolved(url=parsed, host=host, address=str(addresses[0]))
