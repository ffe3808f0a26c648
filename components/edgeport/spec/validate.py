"""Rules across fields and against outside data; every problem is collected with its key path."""

from __future__ import annotations

from .. import targets
from ..errors import Problems
from ..patterns import kind_of
from ..patterns.base import SecretValueProblem
from . import capabilities, routes
from .models import App
from .types import ROOT



def validate_app(app: App) -> Problems:
    problems = Problems()
    if "default" not in app.origins:
        problems.add(f"{ROOT}.origins", "has no 'default' origin", "add `default: https://your-origin.example.com`")
    declared = app.targets.names()
    if not declared:
        problems.add(f"{ROOT}.targets", "declares no target", f"add at least one of {', '.join(targets.NAMES)}")
    for t in declared:
        targets.profile(t).validate(app, problems)

    names: dict[str, int] = {}
    current = {p.name for p in app.patterns}
    for i, p in enumerate(app.patterns):
        for j, old in enumerate(p.previous_names):
            if old in current:
                problems.add(f"{ROOT}.patterns[{i}].previousNames[{j}]", f"{old!r} is the name of a pattern in this stack",
                             "list only names this pattern no longer uses")
        path = f"{ROOT}.patterns[{i}]"
        if p.name in names:
            problems.add(f"{path}.name", f"duplicate pattern name {p.name!r} (also patterns[{names[p.name]}])",
                         "give every pattern a unique name")
        names.setdefault(p.name, i)
        if len(set(p.routes)) != len(p.routes):
            problems.add(f"{path}.routes", "lists a route twice", "list each route once")
        for j, ex in enumerate(p.exclude):
            if not any(routes.contains(r, ex) for r in p.routes):
                problems.add(f"{path}.exclude[{j}]", f"{ex!r} is outside the pattern's routes ({', '.join(p.routes)})",
                             "exclude only paths inside `routes`, or remove it")
        explicit = p.targets is not None
        for t in app.pattern_targets(p):
            tp = f"{path}.targets" if explicit else path
            if t not in declared:
                problems.add(tp, f"targets {t}, but the stack has no targets.{t} section",
                             f"add targets.{t} or remove {t} from this pattern's targets")
                continue
            cap = capabilities.capability(p.type, t)
            if not cap.supported:
                can = capabilities.hosts(p.type)
                problems.add(tp, f"{p.type} cannot run on {t}: {cap.how}",
                             f"targets that can host it: {', '.join(can)}; set `targets: [{', '.join(t2 for t2 in can if t2 in declared) or can[0]}]` on this pattern")
        kind_of(p).validate(p, path, problems, app)
    _overlaps(app, problems)
    return problems


def _shared(a, b, ra: str, rb: str) -> bool:
    """Whether routes ra (of a) and rb (of b) share a path that neither pattern excludes. Two routes either nest or
    share nothing; the inner one's paths are the shared ones, unless an exclude of either pattern covers them."""
    if not (routes.contains(ra, rb) or routes.contains(rb, ra)):
        return False
    inner = rb if routes.contains(ra, rb) else ra
    return not any(routes.contains(ex, inner) for ex in (*a.exclude, *b.exclude))


def _overlaps(app: App, problems: Problems) -> None:
    """Two patterns of one type whose routes share paths on a target both run on: the engine runs both, in
    declaration order. Each type says whether that composes (two A/B experiments that only label requests) or
    conflicts (two geo-routes would both pick the origin); a conflict is refused here. An `exclude` that keeps
    the shared paths away from one of them resolves it (the prod example's api-auth excludes /partner/*)."""
    for i, j in _nesting_pairs(app):
        a, b = app.patterns[i], app.patterns[j]
        if a.name == b.name or not set(app.pattern_targets(a)) & set(app.pattern_targets(b)):
            continue
        shared = [(ra, rb) for ra in a.routes for rb in b.routes if _shared(a, b, ra, rb)]
        why = kind_of(a).overlap_conflict(a, b) if shared else None
        if why:
            ra, rb = shared[0]
            problems.add(f"{ROOT}.patterns[{j}].routes", f"{rb} overlaps {a.name}'s {ra}, and two {a.type} patterns on "
                         f"one path conflict: {why}", "give them routes that do not overlap, or merge them into one pattern")


def _nesting_pairs(app: App) -> list[tuple[int, int]]:
    """Pairs (i, j), i < j, of patterns of one type where a route of one contains a route of the other (the only
    pairs _overlaps has to look at), sorted. Each route looks up the routes that contain it (routes.contains): an
    exact route equal to it, and the prefix routes whose prefix is one of its own leading substrings. That is linear
    in the length of the routes, where trying every pair of patterns was quadratic (0.3 s at 300 patterns)."""
    pairs: set[tuple[int, int]] = set()
    by_type: dict[str, list[int]] = {}
    for i, p in enumerate(app.patterns):
        by_type.setdefault(p.type, []).append(i)
    for members in by_type.values():
        if len(members) < 2:
            continue
        prefixes: dict[str, set[int]] = {}  # "/api/" of "/api/*" -> patterns declaring it
        exact: dict[str, set[int]] = {}
        for i in members:
            for r in app.patterns[i].routes:
                (prefixes.setdefault(r[:-1], set()) if r.endswith("*") else exact.setdefault(r, set())).add(i)
        for j in members:
            for inner in app.patterns[j].routes:
                outers = set(exact.get(inner, ()))
                for k in range(len(inner) + 1):
                    outers.update(prefixes.get(inner[:k], ()))
                pairs.update((min(i, j), max(i, j)) for i in outers if i != j)
    return sorted(pairs)


def secret_value_problems(name: str, value: str, app: App) -> list[SecretValueProblem]:
    """Problems with a secret's value for every pattern using it (PatternKind.secret_problems); the value itself
    never appears."""
    return [x for p in app.patterns for x in kind_of(p).secret_problems(p, name, value)]


def token_command(need: int) -> str:
    """A command printing a random value of `need` bytes (valid in utf8 and base64url encoding alike)."""
    return f"python -c 'import secrets; print(secrets.token_urlsafe({need}))'"


def check_secret_value(name: str, value: str, app: App) -> list[str]:
    """Problems with a secret's deployed value (too short for the HMAC algorithms that use it), as messages."""
    return [f"secret {name} {p.message} - generate one with `{token_command(p.need)}`" for p in secret_value_problems(name, value, app)]
