"""Change live settings (A/B ratios) of a running `edgeport dev`, on every target at once, the way a deploy's
stores would be changed: Workers KV in Miniflare, the Edge Config stand-in, SSM in moto.

    curl -X PUT  http://127.0.0.1:PORT/live/<pattern> -d '{"control": 10, "new": 90}'
    curl -X DELETE http://127.0.0.1:PORT/live/<pattern>        # back to the declared ratios
    curl http://127.0.0.1:PORT/live                             # patterns with live settings and their store keys

Loopback only. A value the edge would ignore (an unknown variant, a negative weight ...) is refused with 400 and
the reason. The edge code caches a live value for the pattern's liveTtl, so a change shows within that time.
A reload seeds the stores with the declared values again.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING

from .. import targets as registry
from ..patterns import kind_of

if TYPE_CHECKING:
    from .dev import DevServer


class LiveAdmin:
    def __init__(self, dev: "DevServer"):
        self.dev = dev
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
                if self.path.rstrip("/") != "/live":
                    return self._answer(404, {"error": "GET /live, PUT or DELETE /live/<pattern>"})
                self._answer(200, admin.keys())

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
        return 200, {"pattern": name, "value": json.loads(body) if body else None, "targets": sorted(keys[name])}

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
