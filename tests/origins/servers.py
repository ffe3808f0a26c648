"""Start the corpus origins on 127.0.0.1 (free ports) and read what reached them.

Every origin records each request it answers ({"handler": "protected"|"public", ...}).
The records never travel through the port the edge forwards to: Python origins keep them
in this process, the Express ones hand them out on a separate control port.
"""

from __future__ import annotations

import http.client
import json
import queue
import socket
import subprocess
import threading
from functools import partial
from pathlib import Path
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server as wsgiref_server

import uvicorn
from werkzeug.serving import WSGIRequestHandler as WerkzeugHandler, make_server as werkzeug_server

from .asgi_app import starlette_app
from .wsgi_apps import flask_app, plain_wsgi_app

HERE = Path(__file__).resolve().parent
FRAMEWORKS = ["express4", "express5", "flask", "wsgi", "starlette"]
START_TIMEOUT = 30.0


class Origin:
    framework: str
    url: str

    def records(self) -> list[dict]:
        raise NotImplementedError

    def clear(self) -> None:
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError


class InProcessOrigin(Origin):
    """A Python app served from threads of this process; `stop_server` ends its serving loop."""

    def __init__(self, framework: str):
        self.framework = framework
        self._records: list[dict] = []
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self.stop_server = lambda: None

    def record(self, seen: dict) -> None:
        with self._lock:
            self._records.append(seen)

    def records(self) -> list[dict]:
        with self._lock:
            return list(self._records)

    def clear(self) -> None:
        with self._lock:
            self._records.clear()

    def serve(self, run, port: int) -> "InProcessOrigin":
        self.url = f"http://127.0.0.1:{port}"
        self._thread = threading.Thread(target=run, daemon=True, name=f"origin-{self.framework}")
        self._thread.start()
        return self

    def stop(self) -> None:
        self.stop_server()
        if self._thread:
            self._thread.join(10)


class _ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, *args):  # one line per request would drown the test output
        pass


class _QuietWerkzeugHandler(WerkzeugHandler):
    def log_request(self, *args):  # same reason as _QuietHandler
        pass


def _close(server) -> None:
    server.shutdown()
    server.server_close()


def _start_werkzeug(framework: str, build) -> Origin:
    o = InProcessOrigin(framework)
    server = werkzeug_server("127.0.0.1", 0, build(o.record), threaded=True, request_handler=_QuietWerkzeugHandler)
    o.stop_server = partial(_close, server)
    return o.serve(server.serve_forever, server.server_port)


def _start_wsgiref(framework: str, build) -> Origin:
    o = InProcessOrigin(framework)
    server = wsgiref_server("127.0.0.1", 0, build(o.record), server_class=_ThreadingWSGIServer, handler_class=_QuietHandler)
    o.stop_server = partial(_close, server)
    return o.serve(server.serve_forever, server.server_port)


def _start_uvicorn(framework: str, build) -> Origin:
    o = InProcessOrigin(framework)
    # A socket that already listens: requests wait in its backlog until uvicorn's loop runs,
    # so nothing has to poll for "started".
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    server = uvicorn.Server(uvicorn.Config(build(o.record), log_level="warning", lifespan="off"))

    def stop():
        server.should_exit = True

    o.stop_server = stop
    return o.serve(lambda: server.run(sockets=[sock]), sock.getsockname()[1])


def _drain(stream, tail: list[str]) -> None:
    for line in stream:
        tail.append(line.rstrip("\n"))
        del tail[:-50]


class NodeOrigin(Origin):
    """tests/origins/express_app.mjs in its own node process."""

    def __init__(self, framework: str, package: str, node: str, cwd: Path):
        self.framework = framework
        self.proc = subprocess.Popen([node, str(HERE / "express_app.mjs"), package], cwd=cwd,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        # Express logs every routing error (e.g. an undecodable %ff) to stderr: drain it, or a
        # full pipe would block the origin mid-corpus. The tail explains a failed start.
        self.stderr_tail: list[str] = []
        drain = threading.Thread(target=_drain, args=(self.proc.stderr, self.stderr_tail), daemon=True)
        drain.start()
        lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=lambda: lines.put(self.proc.stdout.readline()), daemon=True).start()
        try:
            ready = json.loads(lines.get(timeout=START_TIMEOUT))
        except (queue.Empty, ValueError):
            self.stop()
            drain.join(5)  # the whole of what it said before it died
            raise RuntimeError(f"{framework} origin did not start: " + "\n".join(self.stderr_tail[-20:]))
        self.url, self._control = ready["ready"], ready["control"]

    def _call(self, method: str) -> list[dict]:
        port = int(self._control.rsplit(":", 1)[1])
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=15)
        try:
            conn.request(method, "/records")
            return json.loads(conn.getresponse().read())
        finally:
            conn.close()

    def records(self) -> list[dict]:
        return self._call("GET")

    def clear(self) -> None:
        self._call("DELETE")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)


def start_origin(framework: str, *, node: str, functions: Path) -> Origin:
    if framework == "express4":
        return NodeOrigin(framework, "express4", node, functions)
    if framework == "express5":
        return NodeOrigin(framework, "express", node, functions)
    if framework == "flask":
        return _start_werkzeug(framework, flask_app)
    if framework == "wsgi":
        return _start_wsgiref(framework, plain_wsgi_app)
    if framework == "starlette":
        return _start_uvicorn(framework, starlette_app)
    raise ValueError(f"unknown framework {framework}")
