"""`edgeport dev`: serve a stack on every target at once, and rebuild + restart on changes.

Changes to the edge sources (functions/src, functions/platforms, functions/build.mjs) or to the stack file are
picked up by polling modification times four times a second; a change that does not validate or build is
reported and the previous version keeps serving. Each target is served behind a front on a stable port
(local/front.py): a reload starts the new hosts first and retires the old ones after, so clients never see a
refused connection. Every request and the edge code's console output are logged per target.
"""

from __future__ import annotations

import json
import os
import threading
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable

from ..build import build_app, default_out_dir, functions_dir
from ..errors import EdgeportError
from ..spec import load_stack
from ..spec.loader import stack_file
from ..patterns import kind_of
from ..spec.models import App
from ..spec.secret_refs import resolve_local
from ..spec import routes as declared
from .echo import EchoOrigin
from .dev_keys import trusting_local_keys
from .front import Front
from .live_admin import LiveAdmin, announce, withdraw
from .sourcemap import Chained, Shifted, SourceMap, bundle_maps, map_text
from .procs import STOP_GRACE, stop_groups
from .runner import LocalRunner, spawn_standby
from .runtime import checkout_functions, runtime_dir


def demo_content(app: App, echoes: dict[str, EchoOrigin]) -> None:
    """Give built-in echo origins something to show for each pattern (PatternKind.demo_content)."""
    for p in app.patterns:
        kind_of(p).demo_content(p, app, echoes)


def _mtimes(paths: list[Path]) -> dict[Path, float]:
    out: dict[Path, float] = {}
    for root in paths:
        if root.is_file():
            out[root] = root.stat().st_mtime
        elif root.is_dir():
            for dirpath, _dirs, files in os.walk(root):
                for f in files:
                    p = Path(dirpath) / f
                    try:
                        out[p] = p.stat().st_mtime
                    except OSError:
                        pass
    return out


def _port(url: str) -> int:
    return int(url.rstrip("/").rsplit(":", 1)[1])


# ANSI colours per target label (when the output is a terminal and NO_COLOR is unset: no-color.org).
_COLOURS = ("36", "35", "33", "32", "34", "31")
LOG_FORMATS = ("pretty", "quiet", "json")
DRAIN_S = 5.0  # how long a replaced host may finish the connections it still serves


@dataclass
class DevServer:
    """Serves a stack on every target behind fronts on stable ports (local/front.py); a reload swaps the hosts
    behind the fronts. Host events (requests, edge code's console) go to `log` as lines in `log_format`."""

    stack_name: str
    project_dir: Path
    targets: list[str] | None = None  # None: every declared target
    ports: dict[str, int] = field(default_factory=dict)
    origins: dict[str, str] = field(default_factory=dict)  # user-provided stand-ins; the rest are echo origins
    say: Callable[[str], None] = print
    echo_logs: bool = True
    log: Callable[[str], None] = print
    log_format: str = "pretty"
    colour: bool = False

    def __post_init__(self):
        self.runner: LocalRunner | None = None
        self.echoes: dict[str, EchoOrigin] = {}
        self.fronts: dict[str, Front] = {}
        self.maps: dict[str, dict] = {}  # target -> frame file -> source map (local/sourcemap.py)
        self.key_notes: list[str] = []
        self.standbys: dict = {}  # target -> a host process with its runtime loaded, for the next reload  # patterns trusting local key pairs (dev_keys.py)
        self.live: LiveAdmin | None = None  # PUT /live/<pattern>: live settings on every target (live_admin.py)
        self.app: App | None = None
        self._lock = threading.Lock()
        self._log_lock = threading.Lock()

    def watched(self) -> list[Path]:
        own = [stack_file(self.project_dir, self.stack_name), self.project_dir / ".dev.vars"]
        fdir = checkout_functions()
        if fdir is None:  # an installed edgeport: its engines and hosts do not change while it runs
            return own
        fdir = functions_dir()
        return [fdir / "src", fdir / "platforms", fdir / "local", fdir / "build.mjs", *own]

    def urls(self) -> dict[str, str]:
        """Where each target is served (the fronts' addresses; stable across reloads)."""
        return {t: f.url for t, f in self.fronts.items()}

    # ---------------------------------------------------------------- events -> log lines
    def _label(self, target: str) -> str:
        tag = f"[{target}]"
        if not self.colour:
            return tag
        from .. import targets as registry

        names = list(registry.NAMES)
        code = _COLOURS[names.index(target) % len(_COLOURS)] if target in names else "0"
        return f"\033[{code}m{tag}\033[0m"

    def _event(self, target: str, event: dict) -> None:
        if event.get("event") == "sourcemap":  # what the host runs -> the bundle (Vercel's format change)
            maps = self.maps.setdefault(target, {})
            bundle = maps.get(str(event.get("bundle")))
            if bundle and event.get("map"):
                maps[str(event.get("frame"))] = Chained(SourceMap(event["map"]), bundle)
            elif bundle and event.get("firstLineShift"):
                maps[str(event.get("frame"))] = Shifted(bundle, int(event["firstLineShift"]))
            return
        if event.get("event") in ("console", "stderr") and self.maps.get(target):
            event = {**event, "text": map_text(str(event.get("text", "")), self.maps[target], Path.cwd())}
        line = self.format_event(target, event)
        if line is not None:
            with self._log_lock:
                self.log(line)

    def format_event(self, target: str, event: dict) -> str | None:
        """One log line for a host event, or None when the format leaves it out (quiet: no request lines)."""
        kind = event.get("event")
        if self.log_format == "json":
            return json.dumps({"target": target, **event}, ensure_ascii=False)
        if kind == "request":
            if self.log_format == "quiet":
                return None
            return f"{self._label(target)} {self.describe_request(event)}"
        if kind in ("console", "stderr"):
            level = event.get("level", "log") if kind == "console" else "log"
            first, *rest = str(event.get("text", "")).split("\n")
            label = self._label(target)
            # Every line labelled (a stack trace stays attributable when targets interleave).
            return "\n".join([f"{label} {'' if level in ('log', 'info', 'debug') else level + ': '}{first}",
                              *(f"{label} {line}" for line in rest)])
        return None

    def describe_request(self, event: dict) -> str:
        """`GET /api/orders 401 3 ms  api-auth (answered at the edge)` or `GET /shop 200 9 ms  exp -> us /b/shop`.
        The patterns are those whose declared routes cover the path; where it went is what the host saw fetched."""
        path = str(event.get("path", ""))
        head = f"{event.get('method')} {path} {event.get('status')} {event.get('ms')} ms"
        app = self.app
        bare = path.split("?", 1)[0]
        names = [p.name for p in app.patterns if any(declared.matches(r, bare) for r in p.routes)] if app else []
        origins = event.get("origins") or []
        where = ", ".join(f"{o.get('name')} {o.get('path')}" for o in origins)
        if where:
            return f"{head}  {', '.join(names) + ' ' if names else ''}-> {where}"
        return f"{head}  {', '.join(names) or 'no pattern'} (answered at the edge)"

    # ---------------------------------------------------------------- serving
    def _prepare(self):
        """Validate and build (before touching anything that serves)."""
        st = load_stack(self.stack_name, self.project_dir)
        targets = self.targets or st.app.targets.names()
        missing = [t for t in targets if t not in st.app.targets.names()]
        if missing:
            raise EdgeportError(f"stack {self.stack_name} declares no {missing[0]} target "
                                f"(it has: {', '.join(st.app.targets.names())})")
        # Patterns accepting RS256/ES256 also trust the stack's local key pairs here (never in a deploy).
        app, self.key_notes = trusting_local_keys(st.app, st.project_dir, st.name)
        st = replace(st, app=app)
        build = build_app(st.app, st.name, default_out_dir(st.project_dir, st.name), st.locate)
        return st, targets, build

    def _serve(self, st, targets: list[str], build, previous: LocalRunner | None = None) -> LocalRunner:
        """Start every target's host on a port of its own (in parallel) and point its front at it as soon as it
        is ready. If any target fails, the fronts go back to `previous` and the new hosts stop: all or nothing."""
        secrets = resolve_local(st.app, st.project_dir, stack=st.name)
        for name in st.app.origins:
            if name not in self.origins and name not in self.echoes:
                self.echoes[name] = EchoOrigin(name=name).start()
        demo_content(st.app, {n: e for n, e in self.echoes.items() if n not in self.origins})
        local = {**{n: e.url for n, e in self.echoes.items()}, **self.origins}
        runner = LocalRunner(st.app, build, secrets, {n: local[n] for n in st.app.origins}, echo_logs=self.echo_logs,
                             on_event=self._event)
        if previous:
            runner.adopt_stores(previous)
        errors: list[BaseException] = []
        switched: dict[str, int | None] = {}
        # Stack frames in the edge code's error output point into the bundles; their maps lead back to the sources.
        self.maps = {t: bundle_maps(build, t) for t in targets}
        self.timings: dict[str, float] = {}
        t0 = time.monotonic()

        standbys, self.standbys = self.standbys, {}

        def start(t: str) -> None:
            try:
                host = runner.start(t, 0, public_port=self.fronts[t].port, standby=standbys.pop(t, None))
                switched[t] = self.fronts[t].switch(_port(host.url))
                self.timings[t] = time.monotonic() - t0
            except BaseException as e:  # noqa: BLE001 - reported below, after every start has finished
                errors.append(e)

        threads = [threading.Thread(target=start, args=(t,)) for t in targets]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        stop_groups(list(standbys.values()), 1.0)  # not used (a target no longer served)
        if errors:
            for t, old_port in switched.items():
                if old_port is not None:
                    self.fronts[t].switch(old_port)
            if previous:
                previous.adopt_stores(runner)
            runner.stop()
            raise errors[0]
        self.app = st.app
        self._replaced = switched
        # The next reload's hosts, their runtimes loaded while nothing changes.
        self.standbys = {t: spawn_standby(t) for t in targets}
        return runner

    def start(self) -> LocalRunner:
        runtime_dir()  # an installed edgeport installs the local runtimes on first use (progress on stderr)
        st, targets, build = self._prepare()
        try:
            for t in targets:
                if t not in self.fronts:
                    self.fronts[t] = Front(self.ports.get(t, 0))
            self.runner = self._serve(st, targets, build)
            self.live = LiveAdmin(self)
            announce(self.project_dir, self.stack_name, self.live.url)
        except BaseException:
            self.stop()
            raise
        return self.runner

    def reload(self) -> bool:
        """Rebuild and start the new hosts, point the fronts at them, then retire the old ones. On failure the
        running version stays and keeps serving; returns success."""
        t0 = time.monotonic()
        with self._lock:
            old = self.runner
            try:
                st, targets, build = self._prepare()
                t_built = time.monotonic() - t0
                new = self._serve(st, targets, build, previous=old)
            except EdgeportError as e:
                self.say(f"reload failed, still serving the previous version:\n{e}")
                return False
            previous = self._replaced
            self.runner = new
            if self.live:
                self.live.values.clear()  # the new hosts' stores hold the declared values again
        starts = ", ".join(f"{t} {s:.1f} s" for t, s in sorted(self.timings.items()))
        self.say(f"reloaded in {time.monotonic() - t0:.1f} s (validate + build {t_built:.1f} s; new version served by {starts})")
        if old:
            threading.Thread(target=self._retire, args=(old, previous), daemon=True).start()
        return True

    def _retire(self, old: LocalRunner, ports: dict[str, int | None]) -> None:
        """Stop replaced hosts once the connections they still serve are done (at most DRAIN_S)."""
        deadline = time.monotonic() + DRAIN_S
        for t, port in ports.items():
            self.fronts[t].drain(port, max(0.0, deadline - time.monotonic()))
        old.stop()

    def watch(self, stop: threading.Event, interval: float = 0.25) -> None:
        """Poll for changes until `stop` is set; also stops when a host dies."""
        seen = _mtimes(self.watched())
        while not stop.wait(interval):
            now = _mtimes(self.watched())
            if now != seen:
                changed = sorted(str(p.relative_to(self.project_dir)) if p.is_relative_to(self.project_dir) else str(p)
                                 for p in set(now) ^ set(seen) | {p for p in now if seen.get(p) != now[p]})
                self.say(f"changed: {', '.join(changed[:5])}{' ...' if len(changed) > 5 else ''}; rebuilding")
                fdir = checkout_functions() and functions_dir()
                if fdir and any(p.is_relative_to(fdir / "local") or p.is_relative_to(fdir / "platforms") and p.suffix == ".mjs"
                       for p in set(now) ^ set(seen) | {p for p in now if seen.get(p) != now[p]}):
                    self.drop_standbys()
                seen = now
                self.reload()
            runner = self.runner
            if runner:
                dead = [t for t, h in runner.hosts.items() if h.process.poll() is not None]
                if dead:
                    raise EdgeportError(f"the {dead[0]} host exited:\n" + "\n".join(runner.hosts[dead[0]].stderr_tail[-10:]))

    def drop_standbys(self) -> None:
        """Standby hosts hold the local host code as it was when they started: after a change to it, discard them."""
        stop_groups(list(self.standbys.values()), 1.0)
        self.standbys = {}

    def stop(self) -> None:
        # Standbys and serving hosts get their stop signal together (each takes a while to exit on a busy machine).
        serving = [h.process for h in self.runner.hosts.values()] if self.runner else []
        stop_groups(list(self.standbys.values()) + serving, STOP_GRACE)
        self.standbys = {}
        if self.live:
            withdraw(self.project_dir, self.stack_name, self.live.url)
            self.live.close()
            self.live = None
        for f in self.fronts.values():
            f.close()
        self.fronts.clear()
        if self.runner:
            self.runner.stop()
            self.runner = None
        for e in self.echoes.values():
            e.stop()
        self.echoes.clear()
