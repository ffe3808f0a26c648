"""Prerequisites a deploy relies on but does not create, checked by `edgeport plan` when credentials are present.

- Cloudflare: Workers routes run only on a hostname whose DNS record is proxied ("orange-clouded"): "To add a
  route, you must have: ... A DNS record set up for the domain or subdomain proxied by Cloudflare"
  (developers.cloudflare.com/workers/configuration/routing/routes/). Without one the hostname does not resolve;
  with a DNS-only record requests go straight to its target and the Worker - the jwt-auth guard included -
  never runs. Not checked when edgeport or a Workers custom domain creates the record (`dns`, `customDomain`).
- Lambda@Edge: an alternate domain name needs "a trusted, valid SSL/TLS certificate that covers the alternate
  domain name", requested or imported in us-east-1 (CloudFront Developer Guide, "Use custom URLs by adding
  alternate domain names (CNAMEs)" > Requirements, and "Requirements for using SSL/TLS certificates with
  CloudFront"). CloudFront refuses the distribution update otherwise.

A finding the deploy would fail on, or that leaves the edge code bypassed, is an error (`edgeport plan` exits 1).
What could not be checked (no credentials, an unreachable API, a token without read access) is a note or a
warning: the plan itself stays offline-capable, and a missing permission is not a missing prerequisite.
Each target's checks live in its package (`edgeport.targets.<name>.prereq`, a `check(app, env, offline)`); this
module holds what they share. No Pulumi import: plain urllib for Cloudflare, boto3 for ACM.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, replace
from typing import Any, Callable, Mapping

from . import targets
from .errors import SpecIssue

TIMEOUT = 10.0  # seconds per request to a platform API
LEVELS = ("error", "warning", "ok", "skipped")


@dataclass(frozen=True)
class Finding:
    """One prerequisite check: what was found, where it is declared, and how to fix it."""

    target: str  # a registered target
    check: str  # what was checked, e.g. dns, certificate
    level: str  # one of LEVELS
    message: str
    path: str  # key path under edgeport:app
    hint: str = ""
    file: str | None = None
    line: int | None = None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    def where(self) -> str:
        loc = f"{self.file}:{self.line}: " if self.file and self.line else (f"{self.file}: " if self.file else "")
        return f"{loc}{self.path}"

    def format(self) -> str:
        text = f"{self.level}: {self.target} {self.check}: {self.where()}: {self.message}"
        return text + (f"\n    fix: {self.hint}" if self.hint else "")


def errors(findings: list[Finding]) -> list[Finding]:
    return [f for f in findings if f.level == "error"]


def check_prerequisites(app, locate: Callable[[SpecIssue], SpecIssue] | None = None, env: Mapping[str, str] | None = None,
                        offline: bool = False) -> list[Finding]:
    """Every prerequisite check for the app's targets, in target order, each located in the stack file."""
    env = os.environ if env is None else env
    found: list[Finding] = []
    for t in app.targets.names():  # each target package's prereq module, where it has one
        module = targets.prereq(t)
        if module is not None:
            found += module.check(app, env, offline)
    return [_located(f, locate) for f in found] if locate else found


def _located(f: Finding, locate: Callable[[SpecIssue], SpecIssue]) -> Finding:
    issue = locate(SpecIssue(f.path, f.message, f.hint))
    return replace(f, file=issue.file, line=issue.line)


