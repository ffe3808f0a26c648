"""esi-compose: a cached HTML shell with personalised fragments, streamed where the platform allows.

The declaration, its rules, the runtime config the edge step (functions/src/patterns/esi.ts) reads, the demo
content `edgeport dev` serves, and the conformance placeholders.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import Field

from ..errors import PlaceholderError
from ..spec.types import Model
from .base import PatternBase, PatternKind, Placeholders, yes


class Fragment(Model):
    slot: str = Field(pattern=r"^[A-Za-z0-9_-]{1,64}$")
    path: str
    origin: str = "default"
    timeout_ms: int = Field(default=500, ge=10, le=10000)
    fallback: str = ""


class EsiCompose(PatternBase):
    """Compose a cached HTML shell with personalised fragments, streamed where the platform allows."""

    type: Literal["esi-compose"]
    shell: str
    fragments: list[Fragment] = Field(min_length=1)
    shell_cache_ttl: int = Field(default=300, ge=0)


def _check(p: EsiCompose, path: str, problems, app) -> None:
    slots = [f.slot for f in p.fragments]
    if len(set(slots)) != len(slots):
        problems.add(f"{path}.fragments", "two fragments fill the same slot", "give each fragment its own slot")
    for i, f in enumerate(p.fragments):
        if f.origin not in app.origins:
            problems.add(f"{path}.fragments[{i}].origin", f"unknown origin {f.origin!r}",
                         f"declare it under origins (known: {', '.join(app.origins)})")
        if not f.path.startswith("/"):
            problems.add(f"{path}.fragments[{i}].path", "must be a path starting with '/'")
    if not p.shell.startswith("/"):
        problems.add(f"{path}.shell", "must be a path starting with '/'", "e.g. /shell.html")


# The composed page's shell in conformance runs. Each slot sits in a marked <div> so a check can see exactly what
# landed in it (including an empty fallback). The same body is served in every scenario of a run: Cloudflare keeps
# the shell in its edge cache (shellCacheTtl).
SHELL_HEAD = "<!doctype html><html><head><title>edgeport conformance</title></head><body><h1>conformance shell</h1>\n"
SHELL_TAIL = "<footer>end of shell</footer></body></html>\n"


def shell_body(p: EsiCompose) -> str:
    slots = "".join(f'<div data-slot="{f.slot}"><!--esi:{f.slot}--></div>\n' for f in p.fragments)
    return SHELL_HEAD + slots + SHELL_TAIL


def _lookup(ctx: Any, name: str, scope: dict[str, Any]) -> Any:
    p: EsiCompose = ctx.pattern
    if name == "shell":
        return p.shell
    if name == "shell_origin":
        return "default"
    if name == "shell_body":
        return shell_body(p)
    m = re.fullmatch(r"(?:fragment\[([^\]]+)\]|first_fragment)\.(slot|path|origin|fallback|timeout_ms)", name)
    if m:
        f = p.fragments[0] if m[1] is None else next((x for x in p.fragments if x.slot == m[1]), None)
        if f is None:
            raise PlaceholderError(f"pattern {p.name} has no fragment slot {m[1]!r} ({', '.join(x.slot for x in p.fragments)})")
        return getattr(f, m[2])
    raise PlaceholderError(f"unknown placeholder {{{name}}} for esi-compose")


class Kind(PatternKind):
    type = "esi-compose"
    model = EsiCompose
    order = 40  # last of the request-time steps: it answers with the composed page
    component = "EsiCompose"
    summary = "Compose a cached HTML shell with personalised fragments, streamed where the platform allows."
    hosts = {
        "cloudflare": yes("Worker streams the cached shell and injects fragments as they arrive"),
        "lambda-edge": yes("origin-request generated response (no streaming; 1 MB limit, falls back to the origin page)",
                           "origin-request"),
        "vercel": yes("Routing Middleware streams the shell and injects fragments"),
    }
    answers_in = ("origin-request",)
    placeholders = Placeholders(
        names=(r"shell", r"shell_origin", r"shell_body", r"fragment\[[^\]]+\]\.(slot|path|origin|fallback|timeout_ms)",
               r"first_fragment\.(slot|path|origin|fallback|timeout_ms)"),
        for_each=frozenset({"routes", "fragments"}))


    def overlap_conflict(self, a, b):
        return "each would answer with its own composed page"
    def validate(self, p, path, problems, app):
        _check(p, path, problems, app)

    def runtime(self, p, app, live_key):
        return {"shell": p.shell, "shellCacheTtl": p.shell_cache_ttl,
                "fragments": [{"slot": f.slot, "path": f.path, "origin": f.origin, "timeoutMs": f.timeout_ms,
                               "fallback": f.fallback} for f in p.fragments]}

    def demo_content(self, p, app, echoes):
        slots = "\n".join(f"  <section>\n    <!--esi:{f.slot}-->\n  </section>" for f in p.fragments)
        shell = (f"<!doctype html>\n<html><body>\n  <h1>{app.name}: {p.name} (shell from %s)</h1>\n{slots}\n"
                 f"  <footer>served by edgeport dev</footer>\n</body></html>\n")
        for name, echo in echoes.items():
            echo.script(p.shell, body=shell % name)
        for f in p.fragments:
            if f.origin in echoes:
                echoes[f.origin].script(f.path, body=f"<p>{f.slot}: personalised fragment from the {f.origin} origin</p>")

    def with_deadlines_at_least(self, p, floor_ms):
        if not any(f.timeout_ms < floor_ms for f in p.fragments):
            return None
        return p.model_copy(update={"fragments": [f.model_copy(update={"timeout_ms": max(f.timeout_ms, floor_ms)})
                                                  for f in p.fragments]})

    def items(self, ctx, kind):
        if kind == "fragments":
            return [(f.slot, {"value": f.slot, "slot": f.slot, "path": f.path, "origin": f.origin, "fallback": f.fallback,
                              "timeout_ms": f.timeout_ms}) for f in ctx.pattern.fragments]
        return None

    def lookup(self, ctx, name, scope):
        return _lookup(ctx, name, scope)

    # Scenario files may write `shell: script` (the shell's path on the default origin) and
    # `fragments: {slot or '*': script}` (each fragment's path on its origin) instead of spelling out origins.
    scenario_sugar = {"shell": "script", "fragments": "scripts"}

    def sugar_scripts(self, p, sugar, resolve):
        out = [({}, {"default": {p.shell: sugar["shell"]}})] if sugar.get("shell") is not None else []
        for f in p.fragments:  # slot keys resolve with {slot} in scope, so "{slot}" names every fragment
            scope = {"slot": f.slot}
            merged: dict = {}
            for key, script in (sugar.get("fragments") or {}).items():
                if key == "*" or resolve(key, scope) == f.slot:
                    merged.update(script)
            if merged:
                out.append((scope, {f.origin: {f.path: merged}}))
        return out


KIND = Kind()
