"""Scenario files: load `conformance/scenarios/*.yaml` and reject malformed ones with clear errors.

Every problem in every file is reported at once, with file, line, key path and (where it helps) a fix - the
same shape and the same converter `edgeport validate` uses for stacks (spec/pydantic_issues.py). The format is
the pydantic models in model.py (docs/conformance.md describes it; conformance/scenario.schema.json is generated
from the models); the rules relating several keys are here.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from ..errors import SpecError, SpecIssue
from ..patterns import KINDS
from ..spec.pydantic_issues import Contract, issue_from_pydantic
from ..spec.yaml_lines import duplicate_keys, line_map, nearest_line, parse_yaml, path_str
from .model import SUGAR_KEYS, TAGS, WS_ACTIONS, ScenarioFileModel, step_action


# A problem in a scenario file has the shape of a stack-declaration problem (file, line, key path, message, fix).
ScenarioIssue = SpecIssue


class ScenarioError(SpecError):
    """Scenario files are malformed; carries every issue found. Exit code 2, like an invalid stack."""

    def format(self) -> str:
        n = len(self.issues)
        return "\n".join([f"{n} problem{'s' if n != 1 else ''} in the conformance scenarios:",
                          *(i.format() for i in self.issues)])


@dataclass(frozen=True)
class Difference:
    """An intended per-target difference: on `targets`, these expectations replace the common ones."""

    targets: tuple[str, ...]
    reason: str
    expect: dict[str, Any]
    line: int | None = None


@dataclass(frozen=True)
class Step:
    action: str  # one of STEP_ACTIONS
    data: dict[str, Any]  # the step as written (placeholders unresolved)
    line: int | None = None

    @property
    def expect(self) -> dict[str, Any]:
        return self.data.get("expect") or {}

    @property
    def differences(self) -> tuple[Difference, ...]:
        return self.data.get("_differences", ())


@dataclass(frozen=True)
class Scenario:
    name: str
    steps: tuple[Step, ...]
    line: int | None
    description: str = ""
    for_each: str | None = None
    applies_to: str = "hosting"  # or "non-hosting": targets that do not run the pattern
    requires: tuple[str, ...] = ()
    fresh: bool = False  # needs a host that has served nothing yet (cold edge cache)
    origins: dict[str, Any] = field(default_factory=dict)
    sugar: dict[str, Any] = field(default_factory=dict)  # the pattern type's scenario_sugar keys (PatternKind)
    pattern: str | None = None


@dataclass(frozen=True)
class ScenarioFile:
    path: Path
    type: str
    scenarios: tuple[Scenario, ...]
    pattern: str | None = None  # only the stack's pattern with this name
    description: str = ""
    origins: dict[str, Any] = field(default_factory=dict)
    sugar: dict[str, Any] = field(default_factory=dict)

    @property
    def display(self) -> str:
        return display_path(self.path)


# ---------------------------------------------------------------- parsing


def _contract() -> Contract:
    return Contract(model=ScenarioFileModel, tags=TAGS, tag_noun="step action")


def _cross_rules(data: dict, ptype: str | None) -> list[tuple[tuple, str, str]]:
    """The rules that relate several keys, run on the raw document (whatever else failed): a pattern type's own
    scenario keys only in its files, scenario names unique, a WebSocket client connected before it is used, one
    declared difference per target and step."""
    out: list[tuple[tuple, str, str]] = []
    scenarios = data.get("scenarios") if isinstance(data.get("scenarios"), list) else []
    if ptype in KINDS:
        own = KINDS[ptype].scenario_sugar
        for path, d in [((), data), *((("scenarios", i), sc) for i, sc in enumerate(scenarios))]:
            foreign = [k for k in SUGAR_KEYS if isinstance(d, dict) and k in d and k not in own]
            if foreign:
                out.append((path, f"{' and '.join(foreign)} {'is' if len(foreign) == 1 else 'are'} not a {ptype} "
                                  "scenario key", "use origins: {name: {path: script}}"))
    seen: dict[str, int] = {}
    for i, sc in enumerate(scenarios):
        if not isinstance(sc, dict):
            continue
        name = sc.get("name")
        if isinstance(name, str) and name in seen:
            out.append((("scenarios", i, "name"), f"scenario name {name!r} is used twice (first at scenarios[{seen[name]}])", ""))
        elif isinstance(name, str):
            seen[name] = i
        steps = sc.get("steps") if isinstance(sc.get("steps"), list) else []
        for at, st in [((), sc), *((("steps", j), st) for j, st in enumerate(steps))]:
            diffs = st.get("differences") if isinstance(st, dict) else None
            seen_t: set[str] = set()
            for k, d in enumerate(diffs if isinstance(diffs, list) else []):
                named = d.get("targets") if isinstance(d, dict) else None
                for t in (x for x in (named if isinstance(named, list) else []) if isinstance(x, str)):
                    if t in seen_t:
                        out.append((("scenarios", i, *at, "differences", k, "targets"),
                                    f"target {t} has two differences for the same expectations", ""))
                    seen_t.add(t)
        known: set[str] = set()
        for j, st in enumerate(steps):
            action = step_action(st)
            if action == "connect" and isinstance(st["connect"], str):
                known.add(st["connect"])
            elif action in WS_ACTIONS:
                for who in st[action] if isinstance(st[action], list) else [st[action]]:
                    if isinstance(who, str) and who not in known:
                        out.append((("scenarios", i, "steps", j, action),
                                    f"WebSocket client {who!r} is used before a connect step opens it", ""))
    return out


def _kind(v: Any) -> str:
    if v is None:
        return "nothing"
    if isinstance(v, dict):
        return "a mapping"
    if isinstance(v, list):
        return "a list"
    if isinstance(v, str):
        return f"the string {v!r}"
    return f"{type(v).__name__} {v!r}"


def display_path(path: Path) -> str:
    """A path as people read it: relative to the working directory when it is below it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def parse_file(path: Path, text: str | None = None) -> tuple[ScenarioFile | None, list[ScenarioIssue]]:
    """Parse one scenario file against ScenarioFileModel plus the cross-key rules. Returns (file or None, issues)."""
    disp = display_path(path)
    try:
        text = path.read_text() if text is None else text
    except OSError as e:
        return None, [ScenarioIssue("", f"cannot read: {e.strerror}", file=disp)]
    try:
        node, data = parse_yaml(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        return None, [ScenarioIssue("", f"not valid YAML: {getattr(e, 'problem', e)}", file=disp,
                                    line=mark.line + 1 if mark else None)]
    lines = line_map(node)
    if not isinstance(data, dict):
        return None, [ScenarioIssue("", f"a scenario file is a mapping with type and scenarios, got {_kind(data)}",
                                    file=disp, line=1)]
    issues = [ScenarioIssue(path_str(p), msg, hint, disp, nearest_line(lines, p)) for p, msg, hint in
              [(p, f"{k!r} is written twice (first on line {first})", "keep one") for p, first, _ in duplicate_keys(node)
               for k in p[-1:]]]
    ptype = data.get("type") if data.get("type") in KINDS else None
    try:
        ScenarioFileModel.model_validate(data, context={"ptype": ptype, "for_each": None})
    except ValidationError as e:
        for err in e.errors():
            p, issue = issue_from_pydantic(err, _contract())
            issues.append(replace(issue, file=disp, line=nearest_line(lines, p)))
    issues += [ScenarioIssue(path_str(p), msg, hint, disp, nearest_line(lines, p)) for p, msg, hint in _cross_rules(data, ptype)]
    if issues:
        return None, sorted(issues, key=lambda i: i.line or 0)
    return _build(path, data, lines), []


def _differences(raw: list | None, lines: dict, path: tuple) -> tuple[Difference, ...]:
    return tuple(Difference(tuple(d["targets"]), d["reason"].strip(), d["expect"], nearest_line(lines, path + (i,)))
                 for i, d in enumerate(raw or []))


def _step(raw: dict, lines: dict, path: tuple) -> Step:
    data = dict(raw)
    if "differences" in raw:
        data["_differences"] = _differences(raw["differences"], lines, path + ("differences",))
    return Step(step_action(raw), data, nearest_line(lines, path))


def _build(path: Path, data: dict, lines: dict) -> ScenarioFile:
    """The runner's view of a file that validated (the raw values: placeholders resolve per stack and target)."""
    out = []
    for i, s in enumerate(data["scenarios"]):
        at = ("scenarios", i)
        if "steps" in s:
            steps = tuple(_step(st, lines, at + ("steps", j)) for j, st in enumerate(s["steps"]))
        else:
            steps = (_step({k: s[k] for k in ("request", "expect", "differences") if k in s}, lines, at),)
        req = s.get("requires") or []
        out.append(Scenario(name=s["name"], steps=steps, line=nearest_line(lines, at), description=str(s.get("description") or ""),
                            for_each=s.get("for_each"), applies_to=s.get("applies_to", "hosting"),
                            requires=tuple([req] if isinstance(req, str) else req), fresh=bool(s.get("fresh", False)),
                            origins=s.get("origins") or {}, sugar={k: s[k] for k in SUGAR_KEYS if k in s},
                            pattern=s.get("pattern")))
    return ScenarioFile(path=path, type=data["type"], scenarios=tuple(out), pattern=data.get("pattern"),
                        description=str(data.get("description") or ""), origins=data.get("origins") or {},
                        sugar={k: data[k] for k in SUGAR_KEYS if k in data})


def load_scenarios(directory: Path) -> list[ScenarioFile]:
    """Every *.yaml / *.yml file in `directory`, sorted by name. Raises ScenarioError listing every problem."""
    if not directory.is_dir():
        raise ScenarioError([ScenarioIssue("", "no such scenario directory", file=str(directory))])
    files = sorted(p for p in directory.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file())
    if not files:
        raise ScenarioError([ScenarioIssue("", "no scenario files (*.yaml) here", file=str(directory))])
    out: list[ScenarioFile] = []
    issues: list[ScenarioIssue] = []
    for p in files:
        f, errs = parse_file(p)
        issues += errs
        if f:
            out.append(f)
    if issues:
        raise ScenarioError(issues)
    return out
