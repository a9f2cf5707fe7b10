"""Outbound goes only where an administrator pointed it (docs/activation.md, "Where messages may go").

A destination's URL is checked twice: when it is added (its form, and its host if that is an
address), and at every send, where the host is resolved and every address it resolves to is
checked, and the connection is then made to the checked address itself (``pinned``), so a DNS
answer that changes between the check and the connection (rebinding) cannot send a request
elsewhere. Link-local addresses (169.254.0.0/16, fe80::/10), which hold the clouds' metadata
services, and the known metadata addresses are refused always; loopback and private ranges only
unless the destination was added with ``allow_private`` (a receiver on the same host or network).
Redirects are never followed (``cdp.activation.destinations.webhook``).
"""

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from cdp.errors import CdpError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

_ALWAYS_REFUSED = (
    ipaddress.ip_network("169.254.0.0/16"),  # link-local: AWS, GCP, Azure, OpenStack metadata at 169.254.169.254
    ipaddress.ip_network("fe80::/10"),
    ipaddress.ip_network("fd00:ec2::254/128"),  # AWS metadata over IPv6
    ipaddress.ip_network("100.100.100.200/32"),  # Alibaba Cloud metadata
    ipaddress.ip_network("0.0.0.0/8"),
    ipaddress.ip_network("::/128"),
)
_METADATA_HOSTS = frozenset({"metadata.google.internal", "metadata", "instance-data", "instance-data.ec2.internal"})


class RefusedAddress(CdpError):
    """An outbound address a destination may not reach; the message names the field."""


@dataclass(frozen=True)
class Target:
    """Where one send goes: the host as named (for the Host header and TLS) and the address checked."""

    scheme: str
    host: str
    port: int
    address: str
    path: str

    def pinned_url(self) -> str:
        """The URL with the checked address in place of the host name."""
        shown = f"[{self.address}]" if ":" in self.address else self.address
        return f"{self.scheme}://{shown}:{self.port}{self.path}"


def check_url(url: str, allow_private: bool, field: str = "url", schemes: tuple[str, ...] = ("http", "https")) -> str:
    """``url`` if it may be a destination: its scheme, a host, and, when the host is an address or a
    known metadata name, that address's range. Raises ``RefusedAddress`` naming ``field``."""
    parts = _split(url, field, schemes)
    host = parts.hostname or ""
    if host.lower().rstrip(".") in _METADATA_HOSTS:
        raise RefusedAddress(f"{field}: {host!r} is a cloud metadata service, never a destination")
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return url  # a name: checked with what it resolves to, at every send
    check_address(address, allow_private, field)
    return url


def check_address(address: IPAddress, allow_private: bool, field: str = "url") -> None:
    if address.version == 6 and address.ipv4_mapped:
        address = address.ipv4_mapped
    if any(address in network for network in _ALWAYS_REFUSED) or address.is_link_local or address.is_multicast or address.is_unspecified:
        raise RefusedAddress(f"{field}: {address} is a link-local, metadata or reserved address, never a destination")
    if not allow_private and not address.is_global:
        raise RefusedAddress(f"{field}: {address} is a loopback or private address; add the destination with allow_private to reach it")


def resolve(url: str, allow_private: bool, field: str = "url") -> Target:
    """Resolves the URL's host now; every address it resolves to must be allowed, and the first is
    the one to connect to."""
    parts = _split(url, field, ("http", "https"))
    host = parts.hostname or ""
    check_url(url, allow_private, field)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    path = parts.path or "/"
    return Target(parts.scheme, host, port, resolve_host(host, port, allow_private, field), path + (f"?{parts.query}" if parts.query else ""))


def resolve_host(host: str, port: int, allow_private: bool, field: str = "url") -> str:
    """The first address ``host`` resolves to, once every address it resolves to was found allowed."""
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as error:
        raise RefusedAddress(f"{field}: cannot resolve {host!r}: {error.strerror}") from None
    addresses = [ipaddress.ip_address(info[4][0].split("%")[0]) for info in found]
    for address in addresses:
        check_address(address, allow_private, field)
    return str(addresses[0])


def _split(url: str, field: str, schemes: tuple[str, ...]):
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises on a bad port
    except ValueError as error:
        raise RefusedAddress(f"{field}: not a URL ({error})") from None
    if parts.scheme not in schemes:
        raise RefusedAddress(f"{field}: the scheme must be {' or '.join(schemes)}, not {parts.scheme[:20]!r}")
    if not parts.hostname:
        raise RefusedAddress(f"{field}: no host in the URL")
    if parts.username or parts.password:
        raise RefusedAddress(f"{field}: credentials in the URL are not accepted; give the secret separately")
    return parts
