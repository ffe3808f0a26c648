"""How a secret declared by name reaches each place that needs its value.

A pattern names a secret (e.g. ``secret: jwt_hmac``). Its value comes from:
- deploy: Pulumi config secret ``edgeport:<name>`` (``pulumi config set --secret jwt_hmac ...``);
- local: the environment variable ``EDGEPORT_SECRET_<NAME>``, else a git-ignored ``.dev.vars``
  file next to Pulumi.yaml with a line ``<name>=<value>`` or ``EDGEPORT_SECRET_<NAME>=<value>``.
At the edge the value is read from a binding / environment variable named ``EDGEPORT_SECRET_<NAME>``
(Cloudflare, Vercel) or from Secrets Manager in us-east-1 (Lambda@Edge).
"""

from __future__ import annotations

import os
import re
import secrets as _random
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import EdgeportError, LocalSecretError, SpecIssue

if TYPE_CHECKING:
    from .models import App

NAME_RE = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
RESERVED = frozenset({"app"})
ENV_PREFIX = "EDGEPORT_SECRET_"
DEV_VARS = ".dev.vars"


def env_name(name: str) -> str:
    return ENV_PREFIX + name.upper()


def config_key(name: str) -> str:
    return f"edgeport:{name}"


def _dev_vars_entries(path: Path) -> dict[str, tuple[str, int]]:
    """KEY -> (value, line number) of a .dev.vars file: KEY=VALUE lines, # comments, optional surrounding quotes."""
    out: dict[str, tuple[str, int]] = {}
    if not path.exists():
        return out
    for n, raw in enumerate(path.read_text().splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if "=" not in line:
            raise EdgeportError(f"{path}:{n}: expected NAME=value, got {raw!r}")
        k, v = line.split("=", 1)
        v = v.strip()
        if len(v) >= 2 and v[0] == v[-1] and v[0] in "'\"":
            v = v[1:-1]
        out[k.strip()] = (v, n)
    return out


def read_dev_vars(path: Path) -> dict[str, str]:
    """Parse a .dev.vars file: KEY=VALUE lines, # comments, optional surrounding quotes."""
    return {k: v for k, (v, _line) in _dev_vars_entries(path).items()}


@dataclass(frozen=True)
class LocalValue:
    """A local secret value and where it was found, so that a problem with it names the place to fix."""

    value: str
    key: str  # the environment variable or .dev.vars key holding it
    file: Path | None = None  # the .dev.vars file, or None for the environment
    line: int | None = None

    @property
    def where(self) -> str:
        return f"environment variable {self.key}" if self.file is None else str(self.file)


def find_local(names: list[str], project_dir: Path, environ: dict[str, str] | None = None) -> dict[str, LocalValue]:
    """The local values that exist for the named secrets: env EDGEPORT_SECRET_<NAME>, else .dev.vars."""
    environ = dict(os.environ if environ is None else environ)
    path = project_dir / DEV_VARS
    dev_vars = _dev_vars_entries(path)
    found: dict[str, LocalValue] = {}
    for name in names:
        if environ.get(env_name(name)):
            found[name] = LocalValue(environ[env_name(name)], env_name(name))
            continue
        for key in (name, env_name(name)):
            if dev_vars.get(key, ("", 0))[0]:
                value, line = dev_vars[key]
                found[name] = LocalValue(value, key, path, line)
                break
    return found


def _local_fix(name: str, v: LocalValue, need: int, stack: str) -> str:
    from .validate import token_command

    init = f"`edgeport secrets init-local --stack {stack}`"
    if v.file is None:
        # init-local skips names whose variable is set, so the variable has to go first.
        return (f"unset {v.key} and run {init} (it writes a long random value to {DEV_VARS}), or "
                f"export {v.key}=\"$({token_command(need)})\"")
    return (f"delete line {v.line} ({v.key}=...) from {v.file} and run {init} (it only adds names that are missing), "
            f"or replace the value with the output of `{token_command(need)}`")


def check_local(app: "App", found: dict[str, LocalValue], stack: str = "<stack>") -> None:
    """Refuse local values the edge would refuse: raises LocalSecretError naming each value's source and the fix."""
    from .validate import secret_value_problems

    issues = []
    for name, v in found.items():
        for p in secret_value_problems(name, v.value, app):
            issues.append(SpecIssue(path=name, message=f"value {p.message}", hint=_local_fix(name, v, p.need, stack),
                                    file=v.where, line=v.line))
    if issues:
        raise LocalSecretError(issues)


def resolve_local(app: "App", project_dir: Path, names: list[str] | None = None, *, stack: str = "<stack>",
                  environ: dict[str, str] | None = None, missing_ok: bool = False) -> dict[str, str]:
    """Local values for the named secrets (default: every secret of the app), keyed by secret name.

    The one way `edgeport dev`, `token` and `conformance` read local secrets: each value is checked like a
    deployed one (HMAC length, base64url), so a weak local key fails here instead of at `pulumi up`.
    Raises naming every missing one, unless missing_ok (then they are left out)."""
    names = app.secret_names() if names is None else names
    found = find_local(names, project_dir, environ)
    missing = [n for n in names if n not in found]
    if missing and not missing_ok:
        lines = "\n".join(f"  {env_name(m)}  (or '{m}=...' in {project_dir / DEV_VARS})" for m in missing)
        raise EdgeportError(
            f"no local value for secret{'s' if len(missing) > 1 else ''} {', '.join(missing)}; set\n{lines}\n"
            f"or run `edgeport secrets init-local --stack {stack}` to generate random development values"
        )
    check_local(app, found, stack)
    return {n: v.value for n, v in found.items()}


# 64 random bytes: enough for HS512 (the longest HMAC key edgeport asks for, RFC 7518 §3.2) whether the pattern
# reads the value as UTF-8 (86 characters) or as base64url (64 bytes).
LOCAL_SECRET_BYTES = 64


def init_local(names: list[str], project_dir: Path, nbytes: int = LOCAL_SECRET_BYTES) -> list[str]:
    """Append random values for secrets that have none in .dev.vars. Returns the names it added."""
    path = project_dir / DEV_VARS
    have = read_dev_vars(path)
    added = [n for n in names if n not in have and env_name(n) not in have]
    if added:
        with path.open("a") as f:
            if path.stat().st_size == 0:
                f.write("# Local secret values for `edgeport dev` (git-ignored). Never commit this file.\n")
            for n in added:
                f.write(f"{n}={_random.token_urlsafe(nbytes)}\n")
        path.chmod(0o600)
    return added
