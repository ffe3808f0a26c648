"""Local key pairs for RS256/ES256 development tokens: `edgeport token --alg ES256` signs with them, and local
runs (`edgeport dev`) add their public keys to the patterns that accept the algorithm. Deploys never see them:
`build`, `plan` and the Pulumi program build from the stack as declared.

The private keys live in .edgeport/dev-keys/<stack>-<alg>.pem (git-ignored, mode 0600), created on first use.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ..patterns import kind_of
from ..spec.models import App


def key_path(project_dir: Path, stack: str, alg: str) -> Path:
    return project_dir / ".edgeport" / "dev-keys" / f"{stack}-{alg}.pem"


def private_key(project_dir: Path, stack: str, alg: str, pattern_kind: Any = None):
    """The stack's local key for `alg`, created (and stored) when it does not exist yet."""
    from cryptography.hazmat.primitives import serialization

    from ..patterns.jwt_auth import new_private_key

    path = key_path(project_dir, stack, alg)
    if path.exists():
        return serialization.load_pem_private_key(path.read_bytes(), password=None)
    key = new_private_key(alg)
    path.parent.mkdir(parents=True, exist_ok=True)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(pem)
    return key


def trusting_local_keys(app: App, project_dir: Path, stack: str) -> tuple[App, list[str]]:
    """The app with every pattern that accepts RS256/ES256 also trusting the stack's local key for it, and a
    line per pattern saying so (dev prints them)."""
    from ..patterns.jwt_auth import local_kid, public_jwk

    patterns, notes = [], []
    for p in app.patterns:
        algs = kind_of(p).local_signing_algs(p)
        if algs:
            jwks = [public_jwk(private_key(project_dir, stack, a), a) for a in algs]
            p = kind_of(p).trust_local_keys(p, jwks)
            notes.append(f"{p.name} also trusts {', '.join(local_kid(a) for a in algs)} (local runs only; "
                         f"tokens: edgeport token --stack {stack} --pattern {p.name} --alg {algs[0]})")
        patterns.append(p)
    return app.model_copy(update={"patterns": patterns}), notes
