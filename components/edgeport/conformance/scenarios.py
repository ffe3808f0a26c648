"""Scenario files: load `conformance/scenarios/*.yaml` and reject malformed ones with clear errors.

Every problem in every file is reported at once, with file, line, key path and (where
it helps) a fix - the same shape `edgeport validate` uses for stacks. The format is
described in docs/conformance.md; the checks here are the authority.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ..errors import SpecError, SpecIssue
from ..patterns import KINDS
from ..spec.capabilities import PATTERN_TYPES, TARGETS
from ..spec.yaml_lines import line_map, nearest_line, parse_yaml, path_str
from .context import FOR_EACH, REQUIRES, check_known
from .placeholders import PlaceholderError, names

# Scenario keys some pattern type gives a meaning to (PatternKind.scenario_sugar), e.g. esi-compose's shell.
SUGAR_KEYS = tuple(dict.fromkeys(k for kind in KINDS.values() for k in kind.scenario_sugar))
HTTP_METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}
WS_ACTIONS = ("connect", "send", "receive", "silent", "closed", "disconnect")
STEP_ACTIONS = ("request", "origins") + WS_ACTIONS
CLIENT_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,31}$")


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


# ---------------------------------------------------------------- YAML with line numbers


class _Checker:
    """Collects issues for one file; every check names the key path it is about."""

    def __init__(self, file: str, lines: dict[tuple, int], ptype: str | None):
        self.file, self.lines, self.ptype = file, lines, ptype
        self.issues: list[ScenarioIssue] = []
        self.for_each: str | None = None

    def line(self, path: tuple) -> int | None:
        return nearest_line(self.lines, path)

    def err(self, path: tuple, message: str, hint: str = "") -> None:
        self.issues.append(ScenarioIssue(path_str(path), message, hint, self.file, self.line(path)))

    # -- shapes
    def mapping(self, path: tuple, v: Any, allowed: tuple[str, ...], required: tuple[str, ...] = ()) -> bool:
        if not isinstance(v, dict):
            self.err(path, f"expected a mapping with keys {', '.join(allowed)}, got {_kind(v)}")
            return False
        for k in v:
            if k not in allowed:
                close = difflib.get_close_matches(str(k), allowed, n=1)
                self.err(path + (k,), f"unknown key {k!r}",
                         (f"did you mean {close[0]!r}? " if close else "") + f"allowed keys: {', '.join(allowed)}")
        for k in required:
            if k not in v:
                self.err(path, f"missing required key {k!r}")
        return True

    def string(self, path: tuple, v: Any, *, empty: bool = False) -> bool:
        if not isinstance(v, str) or (not empty and not v.strip()):
            self.err(path, f"expected a{'' if empty else ' non-empty'} string, got {_kind(v)}")
            return False
        self.placeholders(path, v)
        return True

    def strings(self, path: tuple, v: Any) -> None:
        """A string or a list of strings."""
        if isinstance(v, str):
            self.string(path, v, empty=True)
        elif isinstance(v, list) and v:
            for i, x in enumerate(v):
                self.string(path + (i,), x, empty=True)
        else:
            self.err(path, f"expected a string or a non-empty list of strings, got {_kind(v)}")

    def str_map(self, path: tuple, v: Any, *, values=(str,)) -> None:
        if not isinstance(v, dict):
            self.err(path, f"expected a mapping of names to values, got {_kind(v)}")
            return
        for k, x in v.items():
            if not isinstance(k, str) or not k:
                self.err(path, f"key {k!r} must be a non-empty string")
                continue
            self.placeholders(path + (k,), k)
            if not isinstance(x, values) or isinstance(x, bool) and bool not in values:
                self.err(path + (k,), f"expected {' or '.join(t.__name__ for t in values)}, got {_kind(x)}",
                         "quote values that YAML would read as numbers or booleans" if isinstance(x, (int, float, bool)) else "")
            elif isinstance(x, str):
                self.placeholders(path + (k,), x)

    def regex(self, path: tuple, v: Any) -> None:
        if not self.string(path, v):
            return
        if "{" not in v.replace("{{", "").replace("}}", ""):
            try:
                re.compile(v)
            except re.error as e:
                self.err(path, f"invalid regular expression {v!r}: {e}")

    def integer(self, path: tuple, v: Any, lo: int, hi: int, *, placeholder: bool = False) -> None:
        if placeholder and isinstance(v, str) and v.startswith("{"):
            self.string(path, v)
            return
        if not isinstance(v, int) or isinstance(v, bool) or not lo <= v <= hi:
            self.err(path, f"expected an integer from {lo} to {hi}{' or a placeholder' if placeholder else ''}, got {v!r}")

    def placeholders(self, path: tuple, text: str) -> None:
        try:
            found = names(text)
        except PlaceholderError as e:
            self.err(path, str(e))
            return
        for n in found:
            if self.ptype and not check_known(self.ptype, n) and n != "slot":
                self.err(path, f"unknown placeholder {{{n}}} for {self.ptype} scenarios",
                         "see docs/conformance.md for the placeholders each pattern type offers; write '{{' for a literal brace")
            elif (n == "each" or n.startswith("each.")) and self.for_each is None:
                self.err(path, f"{{{n}}} needs for_each on the scenario")

    # -- parts of a scenario
    def script(self, path: tuple, v: Any) -> None:
        if not self.mapping(path, v, ("status", "body", "headers", "delay_ms", "fail")):
            return
        if "status" in v:
            self.integer(path + ("status",), v["status"], 100, 599)
        if "body" in v:
            self.string(path + ("body",), v["body"], empty=True)
        if "headers" in v:
            self.str_map(path + ("headers",), v["headers"])
        if "delay_ms" in v:
            self.integer(path + ("delay_ms",), v["delay_ms"], 0, 60000, placeholder=True)
        if "fail" in v and not isinstance(v["fail"], bool):
            self.err(path + ("fail",), f"expected true or false, got {v['fail']!r}")

    def origin_scripts(self, path: tuple, v: Any) -> None:
        if not isinstance(v, dict) or not v:
            self.err(path, "expected a mapping origin name -> {path -> what the origin does}",
                     "e.g. origins: {default: {/shell.html: {status: 503}}}")
            return
        for origin, paths in v.items():
            self.string(path + (origin,), origin)
            if not isinstance(paths, dict) or not paths:
                self.err(path + (origin,), f"expected a mapping path -> script, got {_kind(paths)}")
                continue
            for p, script in paths.items():
                if not isinstance(p, str) or not (p.startswith("/") or p.startswith("{")):
                    self.err(path + (origin, p), f"origin path {p!r} must start with '/' (or be a placeholder)")
                else:
                    self.placeholders(path + (origin, p), p)
                self.script(path + (origin, p), script)

    def sugar(self, path: tuple, d: dict) -> None:
        """A pattern type's scenario sugar (PatternKind.scenario_sugar), checked by its kind."""
        own = KINDS[self.ptype].scenario_sugar if self.ptype in KINDS else ()
        foreign = [k for k in SUGAR_KEYS if k in d and k not in own]
        if foreign:
            self.err(path, f"{' and '.join(foreign)} {'is' if len(foreign) == 1 else 'are'} not a {self.ptype} "
                     "scenario key", "use origins: {name: {path: script}}")
            return
        if own:
            KINDS[self.ptype].check_sugar(self, path, d)

    def request(self, path: tuple, v: Any) -> None:
        if not self.mapping(path, v, ("method", "path", "headers", "cookies", "country", "body"), ("path",)):
            return
        if "method" in v and (not isinstance(v["method"], str) or v["method"].upper() not in HTTP_METHODS):
            self.err(path + ("method",), f"unknown method {v['method']!r}", f"one of {', '.join(sorted(HTTP_METHODS))}")
        if "path" in v and self.string(path + ("path",), v["path"]):
            p = v["path"]
            if not (p.startswith("/") or p.startswith("{") or re.match(r"^[a-z]+://", p)):
                self.err(path + ("path",), f"request path {p!r} must start with '/', a placeholder such as '{{route}}', "
                                           f"or be an absolute URL (absolute-form request line)")
        if "headers" in v:
            self.str_map(path + ("headers",), v["headers"])
        if "cookies" in v:
            self.str_map(path + ("cookies",), v["cookies"])
        if "country" in v and v["country"] is not None:
            self.string(path + ("country",), v["country"], empty=True)
        if "body" in v:
            self.string(path + ("body",), v["body"], empty=True)

    def header_spec(self, path: tuple, v: Any) -> None:
        if not self.mapping(path, v, ("present", "absent", "equal", "matches", "base64url_json")):
            return
        for k in ("present", "absent"):
            if k in v:
                self.strings(path + (k,), v[k])
        if "equal" in v:
            self.str_map(path + ("equal",), v["equal"], values=(str, int))
        if "matches" in v:
            if isinstance(v["matches"], dict):
                for h, rx in v["matches"].items():
                    self.regex(path + ("matches", h), rx)
            else:
                self.err(path + ("matches",), "expected a mapping header -> regular expression")
        if "base64url_json" in v and not isinstance(v["base64url_json"], dict):
            self.err(path + ("base64url_json",), "expected a mapping header -> JSON subset")

    def body_spec(self, path: tuple, v: Any) -> None:
        if not self.mapping(path, v, ("contains", "not_contains", "matches", "equals", "json")):
            return
        for k in ("contains", "not_contains"):
            if k in v:
                self.strings(path + (k,), v[k])
        if "matches" in v:
            self.regex(path + ("matches",), v["matches"])
        if "equals" in v:
            self.string(path + ("equals",), v["equals"], empty=True)
        if "json" in v:
            self.json_subset(path + ("json",), v["json"])

    def json_subset(self, path: tuple, v: Any) -> None:
        if isinstance(v, str):
            self.placeholders(path, v)
        elif isinstance(v, dict):
            for k, x in v.items():
                self.json_subset(path + (k,), x)
        elif isinstance(v, list):
            for i, x in enumerate(v):
                self.json_subset(path + (i,), x)

    def matcher(self, path: tuple, v: Any) -> None:
        if not self.mapping(path, v, ("name", "path", "query", "method", "headers", "body")):
            return
        if not v:
            self.err(path, "an origin matcher needs at least one of name, path, query, method, headers, body")
        for k in ("name", "path", "query", "method"):
            if k in v:
                self.string(path + (k,), v[k], empty=(k == "query"))
        if "headers" in v:
            self.header_spec(path + ("headers",), v["headers"])
        if "body" in v:
            self.body_spec(path + ("body",), v["body"])

    def expect(self, path: tuple, v: Any, *, partial: bool = False) -> None:
        keys = ("status", "headers", "body", "cookies", "first_chunk", "origin", "origin_requests", "origin_not_requested")
        if not self.mapping(path, v, keys):
            return
        if partial:
            v = {k: x for k, x in v.items() if x is not None}  # null in a difference drops a common expectation
        if not v and not partial:
            self.err(path, "an empty expect checks nothing", "expect at least a status")
        if "status" in v:
            st = v["status"]
            for i, s in enumerate(st if isinstance(st, list) else [st]):
                self.integer(path + (("status", i) if isinstance(st, list) else ("status",)), s, 100, 599)
        if "headers" in v:
            self.header_spec(path + ("headers",), v["headers"])
        if "body" in v:
            self.body_spec(path + ("body",), v["body"])
        if "first_chunk" in v:
            fc = v["first_chunk"]
            if self.mapping(path + ("first_chunk",), fc, ("contains", "not_contains")):
                for k in ("contains", "not_contains"):
                    if k in fc:
                        self.strings(path + ("first_chunk", k), fc[k])
        if "cookies" in v:
            ck = v["cookies"]
            if not isinstance(ck, dict) or not ck:
                self.err(path + ("cookies",), "expected a mapping cookie name -> absent | {values, attributes, capture}")
            else:
                for name, spec in ck.items():
                    p = path + ("cookies", name)
                    if isinstance(name, str):
                        self.placeholders(p, name)
                    if spec == "absent":
                        continue
                    if not self.mapping(p, spec, ("values", "attributes", "capture")):
                        continue
                    if "values" in spec:
                        self.strings(p + ("values",), spec["values"])
                    if "attributes" in spec:
                        self.strings(p + ("attributes",), spec["attributes"])
                    if "capture" in spec and (not isinstance(spec["capture"], str) or not CLIENT_RE.match(spec["capture"])):
                        self.err(p + ("capture",), f"capture names a variable: letters, digits, '-', '_' (got {spec['capture']!r})")
        if "origin" in v:
            if v["origin"] != "none":
                self.matcher(path + ("origin",), v["origin"])
        for k in ("origin_requests", "origin_not_requested"):
            if k in v:
                if not isinstance(v[k], list) or not v[k]:
                    self.err(path + (k,), f"expected a non-empty list of origin matchers, got {_kind(v[k])}")
                else:
                    for i, m in enumerate(v[k]):
                        self.matcher(path + (k, i), m)

    def differences(self, path: tuple, v: Any) -> tuple[Difference, ...]:
        if not isinstance(v, list) or not v:
            self.err(path, "expected a list of {targets, reason, expect}")
            return ()
        out = []
        seen: set[str] = set()
        for i, d in enumerate(v):
            p = path + (i,)
            if not self.mapping(p, d, ("targets", "reason", "expect"), ("targets", "reason", "expect")):
                continue
            targets = d.get("targets")
            if not isinstance(targets, list) or not targets or not all(isinstance(t, str) for t in targets):
                self.err(p + ("targets",), f"expected a non-empty list of targets ({', '.join(TARGETS)})")
                targets = []
            for t in targets:
                if t not in TARGETS:
                    self.err(p + ("targets",), f"unknown target {t!r}", f"one of {', '.join(TARGETS)}")
                elif t in seen:
                    self.err(p + ("targets",), f"target {t} has two differences for the same expectations")
                seen.add(t)
            if "reason" in d and (not isinstance(d["reason"], str) or len(d["reason"].strip()) < 10):
                self.err(p + ("reason",), "a declared difference needs its reason (a sentence saying why the platform differs)")
            self.expect(p + ("expect",), d.get("expect"), partial=True)
            out.append(Difference(tuple(targets), str(d.get("reason", "")).strip(), d.get("expect") or {}, self.line(p)))
        return tuple(out)

    def step(self, path: tuple, v: Any) -> Step | None:
        if not isinstance(v, dict):
            self.err(path, f"a step is a mapping with one of {', '.join(STEP_ACTIONS)}, got {_kind(v)}")
            return None
        actions = [a for a in STEP_ACTIONS if a in v]
        if len(actions) != 1:
            self.err(path, f"a step has exactly one action ({', '.join(STEP_ACTIONS)}); found "
                           f"{', '.join(actions) if actions else 'none'}")
            return None
        a = actions[0]
        allowed = {
            "request": ("request", "expect", "differences"),
            "origins": ("origins",),
            "connect": ("connect", "path", "headers", "expect", "differences"),
            "send": ("send", "text", "bytes", "repeat"),
            "receive": ("receive", "message", "within_ms"),
            "silent": ("silent", "message", "within_ms"),
            "closed": ("closed", "code", "within_ms"),
            "disconnect": ("disconnect",),
        }[a]
        if not self.mapping(path, v, allowed):
            return None
        data = dict(v)
        if a == "request":
            self.request(path + ("request",), v["request"])
            if "expect" not in v:
                self.err(path, "a request step needs expect")
            else:
                self.expect(path + ("expect",), v["expect"])
        elif a == "origins":
            self.origin_scripts(path + ("origins",), v["origins"])
        else:
            clients = v[a] if isinstance(v[a], list) and a in ("receive", "silent") else [v[a]]
            for c in clients:
                if not isinstance(c, str) or not CLIENT_RE.match(c):
                    self.err(path + (a,), f"{a} names a WebSocket client (e.g. 'alice'), got {c!r}")
        if a == "connect":
            if "path" not in v:
                self.err(path, "connect needs a path (e.g. '{prefix}{unique}')")
            else:
                self.string(path + ("path",), v["path"])
            if "headers" in v:
                self.str_map(path + ("headers",), v["headers"])
            if "expect" in v and self.mapping(path + ("expect",), v["expect"], ("status", "body")):
                if "status" in v["expect"]:
                    self.integer(path + ("expect", "status"), v["expect"]["status"], 100, 599)
                if "body" in v["expect"]:
                    self.body_spec(path + ("expect", "body"), v["expect"]["body"])
        if a == "send":
            if ("text" in v) == ("bytes" in v):
                self.err(path, "send needs exactly one of text (a message) or bytes (a message of that many bytes)")
            if "text" in v:
                self.string(path + ("text",), v["text"], empty=True)
            if "bytes" in v:
                self.integer(path + ("bytes",), v["bytes"], 0, 16 * 1024 * 1024, placeholder=True)
            if "repeat" in v:
                self.integer(path + ("repeat",), v["repeat"], 1, 10000, placeholder=True)
        if a in ("receive", "silent"):
            if not isinstance(v.get("message"), dict):
                self.err(path + ("message",), "expected the JSON message (a subset of its keys) to wait for")
            else:
                self.json_subset(path + ("message",), v["message"])
            if "within_ms" in v:
                self.integer(path + ("within_ms",), v["within_ms"], 1, 60000)
            elif a == "silent":
                self.err(path, "silent needs within_ms: how long no such message may arrive")
        if a == "closed":
            codes = v.get("code")
            if codes is None:
                self.err(path, "closed needs the close code the server must send (e.g. 1009)")
            else:
                for c in codes if isinstance(codes, list) else [codes]:
                    self.integer(path + ("code",), c, 1000, 4999)
            if "within_ms" in v:
                self.integer(path + ("within_ms",), v["within_ms"], 1, 60000)
        if "differences" in v:
            data["_differences"] = self.differences(path + ("differences",), v["differences"])
        return Step(a, data, self.line(path))


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


SCENARIO_KEYS = ("name", "description", "for_each", "applies_to", "requires", "fresh", "pattern", "origins",
                 *SUGAR_KEYS, "request", "expect", "differences", "steps")


def parse_file(path: Path, text: str | None = None) -> tuple[ScenarioFile | None, list[ScenarioIssue]]:
    """Parse one scenario file. Returns (file or None, issues)."""
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
    ptype = data.get("type")
    c = _Checker(disp, lines, ptype if ptype in PATTERN_TYPES else None)
    c.mapping((), data, ("type", "pattern", "description", "origins", *SUGAR_KEYS, "scenarios"), ("type", "scenarios"))
    if "type" in data and ptype not in PATTERN_TYPES:
        close = difflib.get_close_matches(str(ptype), PATTERN_TYPES, n=1)
        c.err(("type",), f"unknown pattern type {ptype!r}", f"did you mean {close[0]!r}?" if close else
              f"one of {', '.join(PATTERN_TYPES)}")
    if "pattern" in data:
        c.string(("pattern",), data["pattern"])
    if "origins" in data:
        c.origin_scripts(("origins",), data["origins"])
    c.sugar((), data)
    scen_list = data.get("scenarios")
    scenarios: list[Scenario] = []
    if "scenarios" in data and (not isinstance(scen_list, list) or not scen_list):
        c.err(("scenarios",), f"expected a non-empty list of scenarios, got {_kind(scen_list)}")
        scen_list = []
    seen: dict[str, int] = {}
    for i, s in enumerate(scen_list or []):
        sc = _scenario(c, ("scenarios", i), s, seen)
        if sc:
            scenarios.append(sc)
    if c.issues:
        return None, sorted(c.issues, key=lambda i: i.line or 0)
    return ScenarioFile(path=path, type=ptype, scenarios=tuple(scenarios), pattern=data.get("pattern"),
                        description=str(data.get("description", "")), origins=data.get("origins") or {},
                        sugar={k: data[k] for k in SUGAR_KEYS if k in data}), []


def _scenario(c: _Checker, path: tuple, s: Any, seen: dict[str, int]) -> Scenario | None:
    if not c.mapping(path, s, SCENARIO_KEYS, ("name",)):
        return None
    name = s.get("name")
    if isinstance(name, str) and name.strip():
        if name in seen:
            c.err(path + ("name",), f"scenario name {name!r} is used twice (first at scenarios[{seen[name]}])")
        seen[name] = path[-1]
    else:
        c.err(path + ("name",), f"a scenario needs a name (a short sentence), got {_kind(name)}")
    c.for_each = None
    if "for_each" in s:
        allowed = sorted(FOR_EACH.get(c.ptype or "", ()))
        if s["for_each"] not in allowed:
            c.err(path + ("for_each",), f"cannot iterate over {s['for_each']!r} in {c.ptype} scenarios",
                  f"one of {', '.join(allowed)}")
        else:
            c.for_each = s["for_each"]
    if s.get("applies_to", "hosting") not in ("hosting", "non-hosting"):
        c.err(path + ("applies_to",), f"applies_to is 'hosting' (default) or 'non-hosting', got {s['applies_to']!r}")
    req = s.get("requires", [])
    req = [req] if isinstance(req, str) else req
    allowed_req = REQUIRES.get(c.ptype or "", set())
    if not isinstance(req, list) or any(r not in allowed_req for r in req):
        c.err(path + ("requires",), f"unknown requirement in {s.get('requires')!r}",
              f"{c.ptype} scenarios may require: {', '.join(sorted(allowed_req)) or 'nothing'}")
        req = []
    if "fresh" in s and not isinstance(s["fresh"], bool):
        c.err(path + ("fresh",), f"expected true or false, got {s['fresh']!r}")
    if "pattern" in s:
        c.string(path + ("pattern",), s["pattern"])
    if "origins" in s:
        c.origin_scripts(path + ("origins",), s["origins"])
    c.sugar(path, s)
    single = [k for k in ("request", "expect", "differences") if k in s]
    steps: list[Step] = []
    if "steps" in s:
        if single:
            c.err(path, f"write either request/expect or steps, not both (found steps and {', '.join(single)})")
        st = s["steps"]
        if not isinstance(st, list) or not st:
            c.err(path + ("steps",), f"expected a non-empty list of steps, got {_kind(st)}")
        else:
            for i, step in enumerate(st):
                one = c.step(path + ("steps", i), step)
                if one:
                    steps.append(one)
            _check_clients(c, path, steps)
    elif "request" in s or "expect" in s:
        step = {k: s[k] for k in single}
        one = c.step(path, step)
        if one:
            steps.append(one)
    else:
        c.err(path, "a scenario needs request and expect, or steps")
    return Scenario(name=str(name), steps=tuple(steps), line=c.line(path), description=str(s.get("description", "")),
                    for_each=c.for_each, applies_to=s.get("applies_to", "hosting"), requires=tuple(req),
                    fresh=bool(s.get("fresh", False)), origins=s.get("origins") or {},
                    sugar={k: s[k] for k in SUGAR_KEYS if k in s}, pattern=s.get("pattern"))


def _check_clients(c: _Checker, path: tuple, steps: list[Step]) -> None:
    """WebSocket clients must be connected before they are used."""
    known: set[str] = set()
    for i, st in enumerate(steps):
        if st.action == "connect":
            known.add(st.data["connect"])
        elif st.action in WS_ACTIONS:
            who = st.data[st.action]
            for name in who if isinstance(who, list) else [who]:
                if isinstance(name, str) and name not in known:
                    c.err(path + ("steps", i, st.action), f"WebSocket client {name!r} is used before a connect step opens it")


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
