"""The building blocks of every declaration: the pydantic base model and the validated scalar types
(names, routes, header names, origin URLs). A leaf module: pattern and target modules build on it."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict
from pydantic.alias_generators import to_camel

SLUG_RE = re.compile(r"^[a-z][a-z0-9-]{0,30}[a-z0-9]$")
HEADER_RE = re.compile(r"^[a-z0-9!#$%&'*+.^_`|~-]+$")
# Route characters: unreserved URL characters and "/", plus one trailing "*".
ROUTE_RE = re.compile(r"^/[A-Za-z0-9._~!$&'()+,;=:@%/-]*\*?$")


def _slug(v: str) -> str:
    if not SLUG_RE.match(v):
        raise ValueError(
            f"{v!r} is not a valid name: use 2-32 characters of lower-case letters, digits and '-', starting with a letter"
        )
    return v


def _route(v: str) -> str:
    if not v.startswith("/"):
        raise ValueError(f"route {v!r} must start with '/' (e.g. '/{v.lstrip('*')}')")
    if "*" in v[:-1]:
        raise ValueError(
            f"route {v!r}: '*' may only end a route, e.g. '{v.split('*')[0]}*' (every target matches prefixes, not inner wildcards)"
        )
    if "?" in v or "#" in v:
        raise ValueError(f"route {v!r}: routes match paths only; remove the query or fragment")
    if not ROUTE_RE.match(v):
        raise ValueError(f"route {v!r} has characters that are not allowed in a URL path; percent-encode them")
    segs = v.rstrip("*").split("/")
    if any(s in (".", "..") for s in segs) or "//" in v:
        raise ValueError(f"route {v!r}: write the normalised path (no '.', '..' or '//' segments)")
    canonical = _canonical_route(v)
    if canonical != v:
        raise ValueError(f"route {v!r} is not in the canonical form requests are matched in: write {canonical!r} "
                         "(see docs/jwt.md, Paths)")
    if len(v) > 255:
        raise ValueError(f"route {v!r} is longer than CloudFront's 255-character path pattern limit")
    return v


_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")


def _canonical_route(v: str) -> str:
    """A route spelled the way the edge engine canonicalises request paths (functions/src/core/path.ts):
    unreserved characters unescaped, other escapes with upper-case hex. Raises for what the engine refuses."""
    out, i = "", 0
    while i < len(v):
        if v[i] == ";":
            raise ValueError(f"route {v!r}: ';' (path parameters) is refused in requests, so no route can contain it")
        if v[i] != "%":
            out, i = out + v[i], i + 1
            continue
        byte = int(v[i + 1:i + 3], 16) if re.fullmatch(r"[0-9A-Fa-f]{2}", v[i + 1:i + 3]) else -1
        if byte < 0:
            raise ValueError(f"route {v!r}: '%' must start a percent-escape such as %20")
        if byte in (0x2F, 0x5C) or byte < 0x20 or byte == 0x7F:
            raise ValueError(f"route {v!r}: requests with an encoded '/', '\\' or control character are refused, "
                             "so no route can contain one")
        out += chr(byte) if chr(byte) in _UNRESERVED else f"%{byte:02X}"
        i += 3
    return out


def _header(v: str) -> str:
    if not HEADER_RE.match(v):
        raise ValueError(f"{v!r} is not a valid header name: use lower-case letters, digits and '-' (e.g. 'x-user-id')")
    return v


def _origin_url(v: str) -> str:
    from urllib.parse import urlsplit

    u = urlsplit(v)
    if u.scheme not in ("https", "http") or not u.hostname:
        raise ValueError(f"origin {v!r} must be an absolute http(s) URL such as 'https://origin.example.com'")
    if u.query or u.fragment or u.username or u.password:
        raise ValueError(f"origin {v!r} may carry a host, port and path only (no query, fragment or credentials)")
    return v.rstrip("/")


Slug = Annotated[str, AfterValidator(_slug)]
Route = Annotated[str, AfterValidator(_route)]
HeaderName = Annotated[str, AfterValidator(_header)]
OriginUrl = Annotated[str, AfterValidator(_origin_url)]


ROOT = "edgeport:app"  # the stack-file key every declaration path starts with


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", alias_generator=to_camel, populate_by_name=True, frozen=True)
