"""Day-2 operations on a deployed stack: live settings (`edgeport experiment`), logs, status and the Lambda@Edge
teardown check. Pure Python, no Pulumi: what is deployed is found from the stack declaration alone (names, tags,
keys edgeport derives), through each platform's API.

Each target's side lives in its package, `edgeport.targets.<name>.ops` (targets.ops(name)); this package holds what
they share: the per-target outcome, credentials, and the JSON API client with bounded timeouts and retries
(ops/http.py). Every command asks every target and reports per target: one target failing never hides what the
others did.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any, Mapping

from ..errors import EdgeportError


class OpsError(EdgeportError):
    """A day-2 operation could not be done on one target (credentials, API refusal, network)."""

    def __init__(self, message: str, hint: str = ""):
        super().__init__(message)
        self.hint = hint


class MissingCredentials(OpsError):
    pass


@dataclass
class Outcome:
    """What one target answered. ok=False carries the error and how to fix it; `data` is the target's result."""

    target: str
    ok: bool
    data: dict[str, Any] = field(default_factory=dict)
    error: str = ""
    hint: str = ""

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"target": self.target, "ok": self.ok, **self.data}
        if not self.ok:
            out["error"] = self.error
            if self.hint:
                out["hint"] = self.hint
        return out


def attempt(target: str, fn, *args, **kwargs) -> Outcome:
    """Run one target's operation; an OpsError becomes that target's failed Outcome (others carry on)."""
    try:
        return Outcome(target, True, fn(*args, **kwargs) or {})
    except OpsError as e:
        return Outcome(target, False, error=str(e), hint=e.hint)


def require(env: Mapping[str, str], name: str, target: str, what: str) -> str:
    """A credential from the environment, or a MissingCredentials naming the variable (never its value)."""
    value = env.get(name, "")
    if not value.strip():
        raise MissingCredentials(f"{target}: no {name} in the environment", f"export {name}=<a token with {what}>")
    return value.strip()


def parse_value(raw: str | None) -> Any:
    """A stored live value as the edge reads it: JSON when it parses, else the text itself (None: nothing stored)."""
    import json

    if raw is None:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return raw


def environ(env: Mapping[str, str] | None) -> Mapping[str, str]:
    return os.environ if env is None else env
