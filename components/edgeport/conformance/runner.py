"""Run the scenario files against a built stack in every target's local runtime.

One LocalRunner and one set of EchoOrigins per target: targets run in parallel and each
target's origin recorder sees only its own traffic. A host is started once per run and
reused by every scenario on it; origin scripts and recordings are reset between
scenarios (and recordings before each request). Pure Python over edgeport.local - no Pulumi.
"""

from __future__ import annotations

import secrets as _random
import threading
import time
import traceback
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from ..build import BuildResult, build_app, default_out_dir
from ..errors import EdgeportError
from ..local.echo import EchoOrigin
from ..local.runner import LocalRunner
from ..local.runtime import runtime_dir
from ..spec import find_project_dir, load_stack
from ..spec.capabilities import capability
from ..patterns import PatternBase, kind_of
from ..spec.models import App
from ..spec.secret_refs import LOCAL_SECRET_BYTES, resolve_local
from . import placeholders
from .checks import Mismatch, as_list, check_body, evaluate, subset_diff
from .client import Inbox, StepFailed, http_exchange, ws_connect
from .context import PatternContext
from .placeholders import PlaceholderError
from .scenarios import Scenario, ScenarioFile, Step, load_scenarios

# The scenarios an installed edgeport carries (edgeport/data/, written by `python -m edgeport.dist`): a project
# without a conformance/scenarios directory of its own runs these.
SHIPPED_SCENARIOS = Path(__file__).resolve().parents[1] / "data" / "conformance" / "scenarios"

PASS, FAIL, DIFFERENCE, NA = "pass", "fail", "declared-difference", "n/a"
RECEIVE_WITHIN_MS = 5000


@dataclass
class Result:
    """One scenario (one for_each item) on one target."""

    pattern: str
    type: str
    target: str
    scenario: str
    file: str
    line: int | None
    status: str
    reason: str = ""  # why n/a, or the declared difference(s) that applied
    mismatches: list[Mismatch] = field(default_factory=list)
    error: str | None = None
    duration_ms: float = 0.0
    steps: list[dict] = field(default_factory=list)
    order: tuple = ()

    def to_json(self) -> dict[str, Any]:
        return {"pattern": self.pattern, "type": self.type, "target": self.target, "scenario": self.scenario,
                "file": self.file, "line": self.line, "status": self.status, "reason": self.reason or None,
                "duration_ms": round(self.duration_ms, 1), "mismatches": [m.to_json() for m in self.mismatches],
                "error": self.error, "steps": self.steps}


@dataclass
class Report:
    stack: str
    targets: list[str]
    results: list[Result]
    duration_s: float
    scenario_count: int  # scenario definitions that applied (before for_each items and targets)
    scenarios_dir: str
    build_dir: str
    secrets: dict[str, str]  # name -> "local" | "ephemeral" (never the value)
    notes: list[str] = field(default_factory=list)

    def count(self, status: str) -> int:
        return sum(1 for r in self.results if r.status == status)

    @property
    def ok(self) -> bool:
        return self.count(FAIL) == 0

    @property
    def case_count(self) -> int:
        """Scenario instances: one per for_each item (a target's run of a case is a run)."""
        return len({(r.order, r.scenario) for r in self.results})

    def summary(self) -> dict[str, int]:
        return {"scenarios": self.scenario_count, "cases": self.case_count, "runs": len(self.results), "pass": self.count(PASS), "fail": self.count(FAIL),
                "declared_difference": self.count(DIFFERENCE), "not_applicable": self.count(NA)}

    def to_json(self) -> dict[str, Any]:
        return {"ok": self.ok, "stack": self.stack, "targets": self.targets, "duration_s": round(self.duration_s, 2),
                "summary": self.summary(), "scenarios_dir": self.scenarios_dir,
                "build_dir": self.build_dir, "secrets": self.secrets, "notes": self.notes,
                "results": [r.to_json() for r in self.results]}


@dataclass
class Job:
    order: tuple
    file: ScenarioFile
    scenario: Scenario
    pattern: PatternBase
    label: str
    each: dict | None
    ctx: PatternContext


# ---------------------------------------------------------------- secrets


def local_secrets(app: App, project_dir: Path, stack: str = "<stack>") -> tuple[dict[str, str], dict[str, str]]:
    """Values for the stack's secrets: the local ones where set, else random for this run only
    (nothing is written: a conformance run must not leave secrets behind). A local value that is set but
    unusable (too short, undecodable) is an error, not silently replaced: `edgeport dev` would refuse it too."""
    local = resolve_local(app, project_dir, stack=stack, missing_ok=True)
    values, source = {}, {}
    for name in app.secret_names():
        if name in local:
            values[name], source[name] = local[name], "local"
        else:
            values[name], source[name] = _random.token_urlsafe(LOCAL_SECRET_BYTES), "ephemeral"
    return values, source


# ---------------------------------------------------------------- planning


def _na_reason(app: App, stack: str, p: PatternBase, target: str) -> str:
    cap = capability(p.type, target)
    if not cap.supported:
        return f"{target} cannot host {p.type}: {cap.how}"
    return f"stack {stack} deploys {p.name} to {', '.join(app.pattern_targets(p))} only"


def plan(app: App, stack: str, files: list[ScenarioFile], targets: list[str], pattern_filter: list[str] | None,
         secrets: dict[str, str]) -> tuple[list[Job], list[Result], list[str]]:
    """Expand files x stack patterns x targets x for_each items into jobs; what cannot run becomes an n/a result."""
    jobs: list[Job] = []
    na: list[Result] = []
    notes: list[str] = []
    for fi, f in enumerate(files):
        pats = [p for p in app.patterns if p.type == f.type and (f.pattern is None or p.name == f.pattern)]
        if pattern_filter:
            pats = [p for p in pats if p.name in pattern_filter or p.type in pattern_filter]
        if not pats:
            if not pattern_filter:
                what = f"no {f.type} pattern named {f.pattern!r}" if f.pattern else f"no {f.type} pattern"
                notes.append(f"{f.display}: stack {stack} declares {what}; its scenarios did not run")
            continue
        for p in pats:
            for si, sc in enumerate(f.scenarios):
                if sc.pattern is not None and sc.pattern != p.name:
                    continue
                for target in targets:
                    others = [o for o in app.patterns if o is not p and target in app.pattern_targets(o)]
                    ctx = PatternContext(app, p, target, secrets, others)
                    base = dict(pattern=p.name, type=p.type, target=target, file=f.display, line=sc.line)
                    order = (fi, app.patterns.index(p), si)
                    hosted = target in app.pattern_targets(p)
                    reason = None
                    if sc.applies_to == "hosting" and not hosted:
                        reason = _na_reason(app, stack, p, target)
                    elif sc.applies_to == "non-hosting" and hosted:
                        reason = f"checks targets that do not run {p.name}; {target} runs it"
                    else:
                        reason = next((why for why in map(ctx.unmet, sc.requires) if why), None)
                    items = [(None, None)] if not sc.for_each or reason else ctx.items(sc.for_each)
                    if not items and not reason:
                        reason = f"pattern {p.name} has no {sc.for_each}"
                    if reason:
                        na.append(Result(scenario=sc.name, status=NA, reason=reason, order=order + (0,), **base))
                        continue
                    for ii, (label, each) in enumerate(items):
                        jobs.append(Job(order + (ii,), f, sc, p, f"{sc.name} [{label}]" if label else sc.name, each, ctx))
    return jobs, na, notes


# ---------------------------------------------------------------- executing one scenario


class Execution:
    """One job on one target's host: scripts the origins, runs the steps, collects mismatches."""

    def __init__(self, job: Job, host_url: str, origins: dict[str, EchoOrigin]):
        self.job, self.host_url, self.origins = job, host_url, origins
        self.scope: dict[str, Any] = {"unique": "c" + _random.token_hex(5), "captured": {}, "each": job.each}
        self.scripts: dict[str, dict[str, dict]] = {}
        self.mismatches: list[Mismatch] = []
        self.reasons: list[str] = []
        self.steps: list[dict] = []
        self.clients: dict[str, Inbox] = {}
        self.exits = ExitStack()  # WebSocket connections, closed when the scenario ends

    def lookup(self, name: str) -> Any:
        if name == "slot":
            if "slot" not in self.scope:
                raise PlaceholderError("{slot} is only known in fragment scripts")
            return self.scope["slot"]
        if name == "token" or name.startswith("token:"):
            # One token per kind per scenario: the request and the expectations must see the same one.
            tokens = self.scope.setdefault("tokens", {})
            if name not in tokens:
                tokens[name] = self.job.ctx.lookup(name, self.scope)
            return tokens[name]
        return self.job.ctx.lookup(name, self.scope)

    def resolve(self, value: Any) -> Any:
        return placeholders.resolve(value, self.lookup)

    # -- origins
    def _merge_scripts(self, raw: dict[str, Any], resolve: Any = None) -> None:
        for origin, paths in (resolve or self.resolve)(raw).items():
            if origin not in self.origins:
                raise EdgeportError(f"origin {origin!r} is not declared by the stack (declared: {', '.join(self.origins)})")
            for path, script in paths.items():
                self.scripts.setdefault(origin, {})[path] = {**self.scripts.get(origin, {}).get(path, {}), **script}

    def _scoped(self, extra: dict[str, Any]):
        """Resolve with `extra` placeholders in scope (restored afterwards)."""
        def resolve(value: Any, scope: dict[str, Any] = extra) -> Any:
            saved = {k: self.scope[k] for k in scope if k in self.scope}
            self.scope.update(scope)
            try:
                return self.resolve(value)
            finally:
                for k in scope:
                    self.scope.pop(k, None)
                self.scope.update(saved)
        return resolve

    def _sugar_scripts(self, sugar: dict[str, Any]) -> None:
        """Origin scripts written as the pattern type's scenario sugar (e.g. esi-compose's shell/fragments)."""
        if not sugar:
            return
        p = self.job.pattern
        for scope, raw in kind_of(p).sugar_scripts(p, sugar, lambda v, sc: self._scoped(sc)(v)):
            self._merge_scripts(raw, self._scoped(scope))

    def _apply_scripts(self) -> None:
        for name, o in self.origins.items():
            o.scripts.clear()
            for path, s in self.scripts.get(name, {}).items():
                o.script(path, status=int(s.get("status", 200)), body=s.get("body"), headers=dict(s.get("headers") or {}),
                         delay=int(s.get("delay_ms", 0)) / 1000, fail=bool(s.get("fail", False)))

    def prepare(self) -> None:
        f, sc = self.job.file, self.job.scenario
        self._merge_scripts(f.origins)
        self._sugar_scripts(f.sugar)
        self._merge_scripts(sc.origins)
        self._sugar_scripts(sc.sugar)
        for o in self.origins.values():
            o.clear()
        self._apply_scripts()

    # -- steps
    def expectations(self, step: Step, target: str) -> dict:
        for d in step.differences:
            if target in d.targets:
                self.reasons.append(d.reason)
                merged = {**step.expect, **d.expect}
                return {k: v for k, v in merged.items() if v is not None}
        return step.expect

    def fail(self, n: int, what: str, expected: str, actual: str) -> None:
        self.mismatches.append(Mismatch(n, what, expected, actual))

    def run(self, target: str) -> None:
        self.prepare()
        try:
            for n, step in enumerate(self.job.scenario.steps, 1):
                before = len(self.mismatches)
                try:
                    getattr(self, "_" + step.action)(n, step, target)
                except StepFailed as e:
                    self.fail(n, e.what, e.expected, e.actual)
                if len(self.mismatches) > before and step.action in ("connect", "request"):
                    break  # later steps build on this one: their failures would only repeat it
        finally:
            self.exits.close()

    def _origins(self, n: int, step: Step, target: str) -> None:
        self._merge_scripts(step.data["origins"])
        self._apply_scripts()

    def _request(self, n: int, step: Step, target: str) -> None:
        req = self.resolve(step.data["request"])
        path, _, query = str(req["path"]).partition("?")
        self.scope["request"] = {"path": path, "query": query}
        ex = http_exchange(self.host_url, req, list(self.origins.values()), step_id=f"{self.scope['unique']}-{n}")
        self.steps.append({"step": n, **ex.summary()})
        for what, exp, act in evaluate(self.expectations(step, target), ex, self.resolve, self.scope["captured"]):
            self.fail(n, what, exp, act)

    def _connect(self, n: int, step: Step, target: str) -> None:
        name = step.data["connect"]
        path = self.resolve(step.data["path"])
        headers = {str(k): str(v) for k, v in self.resolve(step.data.get("headers") or {}).items()}
        expect = self.resolve(self.expectations(step, target))
        want = int(expect.get("status", 101))
        status, ws, body = ws_connect(self.host_url, path, headers, self.exits)
        self.steps.append({"step": n, "websocket": name, "path": path, "status": status})
        if ws is not None:
            self.clients[name] = Inbox(ws)
        if status != want:
            extra = f" (refused: {body[:160]!r})" if body else (" (connected)" if ws else "")
            self.fail(n, f"WebSocket upgrade {name}", str(want), f"{status}{extra}")
            return
        if "body" in expect and ws is None:
            for what, exp, act in check_body(expect["body"], body, f"refusal body {name}"):
                self.fail(n, what, exp, act)

    def _client(self, name: str) -> Inbox:
        if name not in self.clients:
            raise StepFailed(f"WebSocket {name}", "an open connection", "it never connected (an earlier step failed)")
        return self.clients[name]

    def _send(self, n: int, step: Step, target: str) -> None:
        c = self._client(step.data["send"])
        text = self.resolve(step.data["text"]) if "text" in step.data else "x" * int(self.resolve(step.data["bytes"]))
        for _ in range(int(self.resolve(step.data.get("repeat", 1)))):
            try:
                c.ws.send(str(text))
            except Exception:  # closed by the server mid-burst: a later `closed` step says whether that was expected
                break

    def _receive(self, n: int, step: Step, target: str) -> None:
        want = self.resolve(step.data["message"])
        within = int(step.data.get("within_ms", RECEIVE_WITHIN_MS)) / 1000
        for name in as_list(step.data["receive"]):
            c = self._client(name)
            got = c.wait_for(lambda m: subset_diff(want, m) is None, within)
            if got is None:
                state = f"closed with {c.closed_code}" if c.closed else f"nothing matching within {within * 1000:.0f} ms"
                recent = "; ".join(_short(m) for m in c.seen[-4:]) or "no messages"
                self.fail(n, f"message to {name}", _short(want), f"{state} (last: {recent})")

    def _silent(self, n: int, step: Step, target: str) -> None:
        want = self.resolve(step.data["message"])
        within = int(step.data["within_ms"]) / 1000
        for name in as_list(step.data["silent"]):
            got = self._client(name).observe(lambda m: subset_diff(want, m) is None, within)
            if got is not None:
                self.fail(n, f"no message to {name}", f"nothing matching {_short(want)} within {within * 1000:.0f} ms",
                          _short(got))

    def _closed(self, n: int, step: Step, target: str) -> None:
        name = step.data["closed"]
        codes = [int(c) for c in as_list(self.resolve(step.data["code"]))]
        within = int(step.data.get("within_ms", RECEIVE_WITHIN_MS)) / 1000
        c = self._client(name)
        if not c.wait_closed(within):
            self.fail(n, f"close of {name}", f"closed by the server with {' or '.join(map(str, codes))}",
                      f"still open after {within * 1000:.0f} ms")
        elif c.closed_code not in codes:
            self.fail(n, f"close code of {name}", " or ".join(map(str, codes)), str(c.closed_code))

    def _disconnect(self, n: int, step: Step, target: str) -> None:
        name = step.data["disconnect"]
        self._client(name).ws.close()
        del self.clients[name]


def _short(v: Any) -> str:
    import json

    s = json.dumps(v, separators=(",", ":"))
    return s if len(s) <= 120 else s[:120] + "…"


# ---------------------------------------------------------------- one target


class TargetRun:
    """Everything for one target: its echo origins, its host, its jobs in order."""

    def __init__(self, app: App, build: BuildResult, secrets: dict[str, str], target: str, jobs: list[Job],
                 on_result: Callable[[Result], None], cancel: threading.Event | None = None):
        self.app, self.build, self.secrets, self.target = app, build, secrets, target
        self.jobs, self.on_result = jobs, on_result
        self.cancel = cancel or threading.Event()
        self.origins: dict[str, EchoOrigin] = {}
        self.runner: LocalRunner | None = None
        self.served = False

    def _start(self) -> str:
        self.runner = LocalRunner(self.app, self.build, self.secrets, {n: o.url for n, o in self.origins.items()})
        return self.runner.start(self.target).url

    def _restart(self) -> str:
        self.runner.stop()
        self.served = False
        return self._start()

    def run(self) -> None:
        try:
            self.origins = {n: EchoOrigin(name=n).start() for n in self.app.origins}
            try:
                url = self._start()
            except EdgeportError as e:
                for job in self.jobs:
                    self.on_result(_result(job, self.target, FAIL, error=f"the {self.target} host did not start: {e}"))
                return
            # Scenarios that need a host that has served nothing go first, so that normally no restart is needed.
            for job in sorted(self.jobs, key=lambda j: (not j.scenario.fresh, j.order)):
                if self.cancel.is_set():  # Ctrl-C: stop after the scenario in progress, then stop the host
                    break
                if job.scenario.fresh and self.served:
                    url = self._restart()
                self.on_result(self._execute(job, url))
                self.served = True
        finally:
            if self.runner is not None:
                self.runner.stop()
            for o in self.origins.values():
                o.stop()

    def _execute(self, job: Job, url: str) -> Result:
        t0 = time.monotonic()
        ex = Execution(job, url, self.origins)
        error = None
        try:
            ex.run(self.target)
        except (EdgeportError, PlaceholderError) as e:
            error = str(e)
        except Exception as e:  # a bug in a scenario or in the runner: report it on this row, keep going
            error = f"{type(e).__name__}: {e}\n{traceback.format_exc(limit=4)}"
        status = FAIL if ex.mismatches or error else (DIFFERENCE if ex.reasons else PASS)
        return _result(job, self.target, status, error=error, mismatches=ex.mismatches,
                       reason="; ".join(dict.fromkeys(ex.reasons)), steps=ex.steps, duration_ms=(time.monotonic() - t0) * 1000)


def _result(job: Job, target: str, status: str, **kw) -> Result:
    return Result(pattern=job.pattern.name, type=job.pattern.type, target=target, scenario=job.label, file=job.file.display,
                  line=job.scenario.line, status=status, order=job.order, **kw)


# ---------------------------------------------------------------- deadlines on a shared machine

# Fragment deadlines of a few hundred ms are right in production (the fragment origin is near the edge) and wrong
# for a local run, where the origins are Python threads on a machine that also runs workerd, edge-runtime and Node,
# often next to other work: a 200 ms deadline there is missed for reasons that say nothing about edgeport. The
# scenarios derive their delays from the deadline ("{each.timeout_ms+700}"), so raising it keeps every case
# meaningful: a fast fragment must fill its slot, one that is late by 700 ms must leave its fallback.
DEADLINE_FLOOR_MS = 1500


def widen_deadlines(app: App) -> tuple[App, list[str]]:
    """The app with every pattern deadline raised to DEADLINE_FLOOR_MS (PatternKind.with_deadlines_at_least), and
    the names of the patterns that were changed."""
    widened: list[str] = []
    patterns = []
    for p in app.patterns:
        raised = kind_of(p).with_deadlines_at_least(p, DEADLINE_FLOOR_MS)
        if raised is not None:
            widened.append(p.name)
            p = raised
        patterns.append(p)
    return (app.model_copy(update={"patterns": patterns}) if widened else app), widened


# ---------------------------------------------------------------- the whole run


def run_conformance(stack: str, *, project_dir: Path | None = None, targets: list[str] | None = None,
                    patterns: list[str] | None = None, scenarios_dir: Path | None = None, out_dir: Path | None = None,
                    progress: Callable[[str], None] | None = None, parallel: bool = True) -> Report:
    """Load, build, start and run. Raises EdgeportError (ScenarioError for malformed files) before anything starts."""
    say = progress or (lambda _m: None)
    t0 = time.monotonic()
    st = load_stack(stack, project_dir or find_project_dir())
    app = st.app
    own = st.project_dir / "conformance" / "scenarios"
    sdir = Path(scenarios_dir) if scenarios_dir else own if own.is_dir() else SHIPPED_SCENARIOS
    files = load_scenarios(sdir)
    declared = app.targets.names()
    for t in targets or []:
        if t not in declared:
            raise EdgeportError(f"stack {stack} declares no {t} target (it has: {', '.join(declared)})")
    chosen = [t for t in declared if not targets or t in targets]
    for p in patterns or []:
        if not any(p in (x.name, x.type) for x in app.patterns):
            raise EdgeportError(f"stack {stack} has no pattern named or typed {p!r} "
                                f"(patterns: {', '.join(f'{x.name} ({x.type})' for x in app.patterns)})")
    app, widened = widen_deadlines(app)
    secrets, source = local_secrets(app, st.project_dir, stack)
    jobs, results, notes = plan(app, stack, files, chosen, patterns, secrets)
    kinds = {p.name: p.type for p in app.patterns}
    widened = [w for w in widened if not patterns or any(x in (w, kinds[w]) for x in patterns)]
    if widened:
        notes.append(f"deadlines under {DEADLINE_FLOOR_MS} ms ran at {DEADLINE_FLOOR_MS} ms (patterns "
                     f"{', '.join(widened)}): the local origins share the machine with three runtimes, and the "
                     "scenarios test what a deadline does, not its figure")
    out = out_dir or default_out_dir(st.project_dir, stack)
    runtime_dir()  # an installed edgeport installs the local runtimes on first use (progress on stderr)
    say(f"building {stack} into {out} ...")
    build = build_app(app, stack, out, st.locate)
    by_target = {t: [j for j in jobs if j.ctx.target == t] for t in chosen}
    lock = threading.Lock()

    def record(r: Result) -> None:
        with lock:
            results.append(r)

    cancel = threading.Event()
    runs = [TargetRun(app, build, secrets, t, js, record, cancel) for t, js in by_target.items() if js]
    say(f"running {len(jobs)} scenario run(s) on {', '.join(r.target for r in runs) or 'no target'} ...")
    threads = [threading.Thread(target=r.run, name=f"conformance-{r.target}") for r in runs]
    try:
        if parallel:
            for th in threads:
                th.start()
            for th in threads:
                th.join()
        else:
            for th in threads:
                th.start()
                th.join()
    except KeyboardInterrupt:
        cancel.set()  # every target finishes its current scenario and stops its host before we leave
        for th in threads:
            if th.is_alive():
                th.join()
        raise
    target_rank = {t: i for i, t in enumerate(chosen)}
    results.sort(key=lambda r: (r.order, target_rank.get(r.target, 99)))
    return Report(stack=stack, targets=chosen, results=results, duration_s=time.monotonic() - t0,
                  scenario_count=len({(r.file, r.line) for r in results}), scenarios_dir=str(sdir), build_dir=str(out),
                  secrets=source, notes=notes)
