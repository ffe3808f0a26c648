"""`edgeport dev`: serve a stack on every target at once, and rebuild + restart on changes.

Changes to the edge sources (functions/src, functions/platforms, functions/build.mjs) or to the stack file are
picked up by polling modification times once a second; a change that does not validate
or build is reported and the previous version keeps serving.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from ..build import build_app, default_out_dir, functions_dir
from ..errors import EdgeportError
from ..spec import load_stack
from ..spec.loader import stack_file
from ..patterns import kind_of
from ..spec.models import App
from ..spec.secret_refs import resolve_local
from .echo import EchoOrigin
from .runner import LocalRunner


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


@dataclass
class DevServer:
    stack_name: str
    project_dir: Path
    targets: list[str] | None = None  # None: every declared target
    ports: dict[str, int] = field(default_factory=dict)
    origins: dict[str, str] = field(default_factory=dict)  # user-provided stand-ins; the rest are echo origins
    say: Callable[[str], None] = print
    echo_logs: bool = True

    def __post_init__(self):
        self.runner: LocalRunner | None = None
        self.echoes: dict[str, EchoOrigin] = {}
        self.app: App | None = None
        self._lock = threading.Lock()

    def watched(self) -> list[Path]:
        fdir = functions_dir()
        return [fdir / "src", fdir / "platforms", fdir / "build.mjs", stack_file(self.project_dir, self.stack_name),
                self.project_dir / ".dev.vars"]

    def _serve(self) -> LocalRunner:
        st = load_stack(self.stack_name, self.project_dir)
        targets = self.targets or st.app.targets.names()
        missing = [t for t in targets if t not in st.app.targets.names()]
        if missing:
            raise EdgeportError(f"stack {self.stack_name} declares no {missing[0]} target "
                                f"(it has: {', '.join(st.app.targets.names())})")
        secrets = resolve_local(st.app, st.project_dir, stack=st.name)
        build = build_app(st.app, st.name, default_out_dir(st.project_dir, st.name), st.locate)
        for name in st.app.origins:
            if name not in self.origins and name not in self.echoes:
                self.echoes[name] = EchoOrigin(name=name).start()
        demo_content(st.app, {n: e for n, e in self.echoes.items() if n not in self.origins})
        local = {**{n: e.url for n, e in self.echoes.items()}, **self.origins}
        runner = LocalRunner(st.app, build, secrets, {n: local[n] for n in st.app.origins}, echo_logs=self.echo_logs)
        try:
            for t in targets:
                runner.start(t, self.ports.get(t, 0))
        except BaseException:
            runner.stop()
            raise
        self.app = st.app
        return runner

    def start(self) -> LocalRunner:
        self.runner = self._serve()
        return self.runner

    def reload(self) -> bool:
        """Rebuild and restart on the same ports. On failure the running version stays; returns success."""
        t0 = time.monotonic()
        with self._lock:
            old = self.runner
            ports = {t: int(h.url.rsplit(":", 1)[1]) for t, h in old.hosts.items()} if old else self.ports
            try:
                # validate and build before touching the running hosts
                st = load_stack(self.stack_name, self.project_dir)
                build_app(st.app, st.name, default_out_dir(st.project_dir, st.name), st.locate)
            except EdgeportError as e:
                self.say(f"reload failed, still serving the previous version:\n{e}")
                return False
            if old:
                old.stop()
            saved, self.ports = self.ports, ports
            try:
                self.runner = self._serve()
            except EdgeportError as e:
                self.say(f"reload failed:\n{e}")
                self.runner = None
                return False
            finally:
                self.ports = saved
        self.say(f"reloaded in {time.monotonic() - t0:.1f} s")
        return True

    def watch(self, stop: threading.Event, interval: float = 1.0) -> None:
        """Poll for changes until `stop` is set; also stops when a host dies."""
        seen = _mtimes(self.watched())
        while not stop.wait(interval):
            now = _mtimes(self.watched())
            if now != seen:
                changed = sorted(str(p.relative_to(self.project_dir)) if p.is_relative_to(self.project_dir) else str(p)
                                 for p in set(now) ^ set(seen) | {p for p in now if seen.get(p) != now[p]})
                self.say(f"changed: {', '.join(changed[:5])}{' ...' if len(changed) > 5 else ''}; rebuilding")
                seen = now
                self.reload()
            runner = self.runner
            if runner:
                dead = [t for t, h in runner.hosts.items() if h.process.poll() is not None]
                if dead:
                    raise EdgeportError(f"the {dead[0]} host exited:\n" + "\n".join(runner.hosts[dead[0]].stderr_tail[-10:]))

    def stop(self) -> None:
        if self.runner:
            self.runner.stop()
            self.runner = None
        for e in self.echoes.values():
            e.stop()
        self.echoes.clear()
