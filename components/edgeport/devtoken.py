"""Development tokens for `edgeport token`: HS* JWTs signed with a local secret value.

Only for manual testing against `edgeport dev`; production tokens come from your
identity provider. Uses the standard library so it works without PyJWT.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Any

from .errors import EdgeportError
from .spec.models import JwtAuth

_HASH = {"HS256": hashlib.sha256, "HS384": hashlib.sha384, "HS512": hashlib.sha512}


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def mint(pattern: JwtAuth, secret: str, *, sub: str = "dev-user", ttl: int = 3600, extra: dict[str, Any] | None = None,
         now: int | None = None) -> str:
    alg = next((a for a in pattern.algorithms if a in _HASH), None)
    if alg is None:
        raise EdgeportError(f"pattern {pattern.name} accepts no HMAC algorithm; mint its tokens with your identity provider")
    now = int(time.time()) if now is None else now
    claims: dict[str, Any] = {"sub": sub, "iat": now, "exp": now + ttl}
    if pattern.issuer is not None:
        claims["iss"] = pattern.issuer
    if pattern.audience is not None:
        claims["aud"] = pattern.audience if isinstance(pattern.audience, str) else pattern.audience[0]
    for c in pattern.required_claims:
        claims.setdefault(c, "dev")
    claims.update(extra or {})
    key = base64.urlsafe_b64decode(secret + "=" * (-len(secret) % 4)) if pattern.secret_encoding == "base64url" else secret.encode()
    signing_input = f"{_b64(json.dumps({'alg': alg, 'typ': 'JWT'}).encode())}.{_b64(json.dumps(claims).encode())}"
    sig = hmac.new(key, signing_input.encode(), _HASH[alg]).digest()
    return f"{signing_input}.{_b64(sig)}"
