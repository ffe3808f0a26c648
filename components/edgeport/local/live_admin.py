"""Change live settings (A/B ratios) of a running `edgeport dev`, on every target at once, the way a deploy's
stores would be changed: Workers KV in Miniflare, the Edge Config stand-in, SSM in moto.

    curl -X PUT  http://127.0.0.1:PORT/live/<pattern> -d '{"control": 10, "new": 90}'
    curl -X DELETE http://127.0.0.1:PORT/live/<pattern>        # back to the declared ratios
    curl http://127.0.0.1:PORT/live                             # patterns with live settings and their store keys

Loopback only. A value the edge would ignore (an unknown variant, a negative weight ...) is refused with 400 and
the reason. The edge code caches a live value for the pattern's liveTtl, so a change shows within that time.
A reload seeds the stores with the declared values again.

`edgeport experiment set|get` finds a running `edgeport dev` of the same stack through the file it announces
itself in, .edgeport/dev/<stack>.json ({"pid", "live"}), removed when dev stops.
"""

from __future__ import annotations

import json
import os
import threading
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING

from .. import targets as registry
from ..patterns import kind_of

if TYPE_CHECKING:
    from .dev import DevServer


class LiveAdmin:
    def __init__(self, dev: "DevServer"):
        self.dev = dev
        self.values: dict[str, object] = {}  # pattern -> the value set since the last (re)load; absent: declared
        admin = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet: dev prints its own lines
                pass

            def _answer(self, status: int, body: dict) -> None:
                data = (json.dumps(body, indent=1) + "\n").encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):
                parts = self.path.strip("/").split("/")
                if parts == ["live"]:
                    return self._answer(200, admin.keys())
                if len(parts) == 2 and parts[0] == "live" and parts[1] in admin.keys():
                    return self._answer(200, admin.current(parts[1]))
                self._answer(404, {"error": "GET /live or /live/<pattern>, PUT or DELETE /live/<pattern>"})

            def do_PUT(self):
                n = int(self.headers.get("content-length") or 0)
                self._answer(*admin.change(self.path, self.rfile.read(n).decode("utf-8", "replace")))

            def do_DELETE(self):
                self._answer(*admin.change(self.path, None))

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def keys(self) -> dict[str, dict[str, str]]:
        """pattern -> {target: store key} for the patterns with live settings on the served targets."""
        runner, app = self.dev.runner, self.dev.app
        out: dict[str, dict[str, str]] = {}
        if runner and app:
            stack = runner.build.stack
            for t in runner.hosts:
                for pattern, key in registry.profile(t).live_keys(app, stack).items():
                    out.setdefault(pattern, {})[t] = key
        return out

    def change(self, path: str, body: str | None) -> tuple[int, dict]:
        parts = path.strip("/").split("/")
        if len(parts) != 2 or parts[0] != "live":
            return 404, {"error": "PUT or DELETE /live/<pattern>"}
        name, keys = parts[1], self.keys()
        if name not in keys:
            return 404, {"error": f"no pattern {name!r} with live settings here (have: {', '.join(keys) or 'none'})"}
        pattern = next(p for p in self.dev.app.patterns if p.name == name)
        if body is not None:
            try:
                value = json.loads(body)
            except ValueError as e:
                return 400, {"error": f"not JSON: {e}"}
            problem = kind_of(pattern).live_problem(pattern, value)
            if problem:
                return 400, {"error": problem}
            body = json.dumps(value)
        for t, key in keys[name].items():
            self.dev.runner.set_live(t, key, body)
        if body is None:
            self.values.pop(name, None)
        else:
            self.values[name] = json.loads(body)
        return 200, {"pattern": name, "value": json.loads(body) if body else None, "targets": sorted(keys[name])}

    def current(self, name: str) -> dict:
        """What the local stores hold for a pattern: the value last set, or the declared one a (re)load seeds."""
        pattern = next(p for p in self.dev.app.patterns if p.name == name)
        declared = kind_of(pattern).live_default(pattern)
        return {"pattern": name, "value": self.values.get(name, declared), "declared": name not in self.values,
                "targets": sorted(self.keys()[name])}

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def announce_file(project_dir: Path, stack: str) -> Path:
    return project_dir / ".edgeport" / "dev" / f"{stack}.json"


def announce(project_dir: Path, stack: str, url: str) -> Path:
    path = announce_file(project_dir, stack)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps({"pid": os.getpid(), "live": url}))
    tmp.replace(path)
    return path


def withdraw(project_dir: Path, stack: str, url: str) -> None:
    path = announce_file(project_dir, stack)
    try:
        if json.loads(path.read_text()).get("live") == url:
            path.unlink()
    except (OSError, ValueError):
        pass


def running(project_dir: Path, stack: str, timeout: float = 3.0) -> str | None:
    """The live-settings URL of a running `edgeport dev` of this stack, or None (no file, a dead process, or
    nothing answering there: a crashed dev leaves its file behind)."""
    try:
        seen = json.loads(announce_file(project_dir, stack).read_text())
        url = str(seen["live"])
        os.kill(int(seen["pid"]), 0)
        with urllib.request.urlopen(f"{url}/live", timeout=timeout) as res:
            res.read()
        return url
    except (OSError, ValueError, KeyError, TypeError, urllib.error.URLError):
        return None


def put(url: str, pattern: str, value: object | None, timeout: float = 10.0) -> tuple[int, dict]:
    """PUT (or DELETE, value None) one pattern's live setting on a running dev; (status, answer)."""
    data = None if value is None else json.dumps(value).encode()
    req = urllib.request.Request(f"{url}/live/{pattern}", data=data, method="DELETE" if value is None else "PUT")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as res:
            return res.status, json.loads(res.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"{}")
