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
from pathlib import Path

from ..errors import EdgeportError

NAME_RE = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
RESERVED = frozenset({"app"})
ENV_PREFIX = "EDGEPORT_SECRET_"
DEV_VARS = ".dev.vars"


def env_name(name: str) -> str:
    return ENV_PREFIX + name.upper()


def config_key(name: str) -> str:
    return f"edgeport:{name}"


def read_dev_vars(path: Path) -> dict[str, str]:
    """Parse a .dev.vars file: KEY=VALUE lines, # comments, optional surrounding quotes."""
    out: dict[str, str] = {}
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
        out[k.strip()] = v
    return out


def resolve_local(names: list[str], project_dir: Path, environ: dict[str, str] | None = None) -> dict[str, str]:
    """Local values for the named secrets, keyed by secret name. Raises naming every missing one."""
    environ = dict(os.environ if environ is None else environ)
    dev_vars = read_dev_vars(project_dir / DEV_VARS)
    values: dict[str, str] = {}
    missing = []
    for name in names:
        v = environ.get(env_name(name)) or dev_vars.get(name) or dev_vars.get(env_name(name))
        if v:
            values[name] = v
        else:
            missing.append(name)
    if missing:
        lines = "\n".join(f"  {env_name(m)}  (or '{m}=...' in {project_dir / DEV_VARS})" for m in missing)
        raise EdgeportError(
            f"no local value for secret{'s' if len(missing) > 1 else ''} {', '.join(missing)}; set\n{lines}\n"
            f"or run `edgeport secrets init-local --stack <stack>` to generate random development values"
        )
    return values


def init_local(names: list[str], project_dir: Path, nbytes: int = 32) -> list[str]:
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
