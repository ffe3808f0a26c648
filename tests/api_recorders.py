"""Local stand-ins for the Cloudflare API v4 and the Vercel REST API that record every request and answer only the
documented request shapes (anything else gets the API's own "no route" answer, so a wrong client fails its test).

Each keeps a little state (KV namespaces and values, Edge Configs and items, scripts, routes, projects, deployments,
env vars) and can inject faults: `fail(n, status, headers)` answers the next n requests with that status, `delay`
holds every answer that many seconds.
"""

from __future__ import annotations

import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable
from urllib.parse import parse_qs, unquote, urlsplit


class Recorder:
    def __init__(self, token: str):
        self.token = token
        self.requests: list[dict[str, Any]] = []
        self.faults: list[tuple[int, dict[str, str]]] = []
        self.delay = 0.0
        rec = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _any(self):
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n) if n else b""
                u = urlsplit(self.path)
                seen = {"method": self.command, "path": u.path, "query": {k: v[0] for k, v in parse_qs(u.query).items()},
                        "headers": {k.lower(): v for k, v in self.headers.items()}, "body": body}
                rec.requests.append(seen)
                if rec.delay:
                    time.sleep(rec.delay)
                if rec.faults:
                    status, headers = rec.faults.pop(0)
                    out: tuple = (status, rec.failure(status), headers)
                elif seen["headers"].get("authorization") != f"Bearer {rec.token}":
                    out = (403, rec.failure(403), {})
                else:
                    out = rec.answer(seen)
                status, payload = out[0], out[1]
                headers = out[2] if len(out) > 2 else {}
                data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", headers.pop("Content-Type", "application/json"))
                    for k, v in headers.items():
                        self.send_header(k, v)
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):  # the client gave up (timeout tests)
                    pass

            do_GET = do_PUT = do_PATCH = do_POST = do_DELETE = _any

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def fail(self, n: int, status: int, headers: dict[str, str] | None = None) -> None:
        self.faults += [(status, dict(headers or {}))] * n

    def answer(self, seen: dict) -> tuple:
        raise NotImplementedError

    def failure(self, status: int) -> Any:
        raise NotImplementedError

    def calls(self, method: str | None = None) -> list[dict]:
        return [r for r in self.requests if method is None or r["method"] == method]

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class CloudflareApi(Recorder):
    """api.cloudflare.com/client/v4 for KV namespaces and values, Workers scripts and routes."""

    def __init__(self, token: str, account: str, zone: str):
        super().__init__(token)
        self.account, self.zone = account, zone
        self.namespaces: dict[str, dict[str, Any]] = {}  # id -> {"title", "values": {key: bytes}}
        self.scripts: list[dict[str, Any]] = []
        self.routes: list[dict[str, Any]] = []
        self.on_write: Callable[[str, str], None] | None = None  # key, value: a local store behind the API
        self.base = f"{self.url}/client/v4"

    def add_namespace(self, title: str, values: dict[str, str] | None = None) -> str:
        ns = f"{len(self.namespaces) + 1:032x}"
        self.namespaces[ns] = {"title": title, "values": {k: v.encode() for k, v in (values or {}).items()}}
        return ns

    @staticmethod
    def envelope(result: Any, **extra) -> dict:
        return {"success": True, "errors": [], "messages": [], "result": result, **extra}

    def failure(self, status: int, code: int | None = None, message: str | None = None) -> dict:
        code = code or {403: 10000, 404: 10009, 429: 971}.get(status, 10013)
        message = message or {403: "Authentication error", 429: "Please wait and consider throttling your request speed"}.get(status, "error")
        return {"success": False, "errors": [{"code": code, "message": message}], "messages": [], "result": None}

    def answer(self, seen: dict) -> tuple:
        p, m, q = seen["path"], seen["method"], seen["query"]
        acct = f"/client/v4/accounts/{self.account}"
        if m == "GET" and p == f"{acct}/storage/kv/namespaces":
            page, per = int(q.get("page", 1)), int(q.get("per_page", 20))
            items = [{"id": i, "title": n["title"], "supports_url_encoding": True} for i, n in self.namespaces.items()]
            chunk = items[(page - 1) * per: page * per]
            return 200, self.envelope(chunk, result_info={"page": page, "per_page": per, "count": len(chunk),
                                                          "total_count": len(items), "total_pages": -(-len(items) // per) or 1})
        mv = re.fullmatch(rf"{acct}/storage/kv/namespaces/([0-9a-f]{{32}})/values/([^/]+)", p)
        if mv and mv.group(1) in self.namespaces:
            values, key = self.namespaces[mv.group(1)]["values"], unquote(mv.group(2))
            if m == "GET":
                if key not in values:
                    return 404, self.failure(404, 10009, "get: 'key not found'")
                return 200, values[key], {"Content-Type": "application/octet-stream"}
            if m == "PUT":
                values[key] = seen["body"]
                if self.on_write:
                    self.on_write(key, seen["body"].decode())
                return 200, self.envelope(None)
        if m == "GET" and p == f"{acct}/workers/scripts":
            return 200, self.envelope(self.scripts)
        if m == "GET" and p == f"/client/v4/zones/{self.zone}/workers/routes":
            return 200, self.envelope(self.routes)
        return 400, self.failure(400, 7003, "No route for that URI")


class VercelApi(Recorder):
    """api.vercel.com for Edge Configs and their items, projects, deployments, env vars and runtime logs."""

    KEY = re.compile(r"^[\w-]+$")

    def __init__(self, token: str, team: str | None = None):
        super().__init__(token)
        self.team = team
        self.configs: dict[str, dict[str, Any]] = {}  # id -> {"slug", "items": {key: value}}
        self.projects: dict[str, dict[str, Any]] = {}  # id -> {"id", "name"}
        self.deployments: list[dict[str, Any]] = []
        self.envs: dict[str, list[dict[str, Any]]] = {}  # project id -> env entries
        self.logs: dict[str, list[dict[str, Any]]] = {}  # deployment id -> runtime log lines
        self.on_write: Callable[[str, Any], None] | None = None

    def add_config(self, slug: str, items: dict[str, Any] | None = None) -> str:
        cid = f"ecfg_{len(self.configs) + 1:028d}"
        self.configs[cid] = {"slug": slug, "items": dict(items or {})}
        return cid

    def failure(self, status: int, code: str | None = None, message: str | None = None) -> dict:
        code = code or {403: "forbidden", 404: "not_found", 429: "rate_limited"}.get(status, "internal_server_error")
        return {"error": {"code": code, "message": message or code.replace("_", " ")}}

    def answer(self, seen: dict) -> tuple:
        p, m, q = seen["path"], seen["method"], seen["query"]
        if self.team and q.get("teamId") != self.team:  # the resources are the team's: not found elsewhere
            return 404, self.failure(404)
        if m == "GET" and p == "/v1/edge-config":
            return 200, [{"id": i, "slug": c["slug"], "itemCount": len(c["items"]), "sizeInBytes": 0, "digest": "d",
                          "createdAt": 1, "updatedAt": 1, "ownerId": "o"} for i, c in self.configs.items()]
        mi = re.fullmatch(r"/v1/edge-config/(ecfg_\w+)/item/([^/]+)", p)
        if m == "GET" and mi and mi.group(1) in self.configs:
            items, key = self.configs[mi.group(1)]["items"], unquote(mi.group(2))
            if key not in items:
                return 404, self.failure(404, "not_found", "The Edge Config item was not found")
            return 200, {"key": key, "value": items[key], "edgeConfigId": mi.group(1), "createdAt": 1, "updatedAt": 2}
        mp = re.fullmatch(r"/v1/edge-config/(ecfg_\w+)/items", p)
        if m == "PATCH" and mp and mp.group(1) in self.configs:
            if seen["headers"].get("content-type") != "application/json":
                return 400, self.failure(400, "bad_request", "Content-Type must be application/json")
            try:
                ops = json.loads(seen["body"])["items"]
            except (ValueError, KeyError, TypeError):
                return 400, self.failure(400, "bad_request", "Invalid request body")
            items = self.configs[mp.group(1)]["items"]
            for op in ops:
                if op.get("operation") not in ("create", "update", "upsert", "delete") or not self.KEY.match(str(op.get("key", ""))):
                    return 400, self.failure(400, "bad_request", "Invalid item")
            for op in ops:
                if op["operation"] == "delete":
                    items.pop(op["key"], None)
                else:
                    items[op["key"]] = op["value"]
                    if self.on_write:
                        self.on_write(op["key"], op["value"])
            return 200, {"status": "ok"}
        mproj = re.fullmatch(r"/v9/projects/([^/]+)", p)
        if m == "GET" and mproj:
            ref = unquote(mproj.group(1))
            proj = next((x for x in self.projects.values() if ref in (x["id"], x["name"])), None)
            return (200, proj) if proj else (404, self.failure(404, "not_found", "Project not found"))
        if m == "GET" and p == "/v6/deployments":
            deps = [d for d in self.deployments if d["projectId"] == q.get("projectId") and d.get("target") == q.get("target")]
            deps.sort(key=lambda d: -d["created"])
            return 200, {"deployments": deps[: int(q.get("limit", 20))], "pagination": {"count": len(deps)}}
        menv = re.fullmatch(r"/v10/projects/([^/]+)/env", p)
        if m == "GET" and menv:
            return 200, {"envs": self.envs.get(unquote(menv.group(1)), [])}
        mlog = re.fullmatch(r"/v1/projects/([^/]+)/deployments/([^/]+)/runtime-logs", p)
        if m == "GET" and mlog:
            lines = "".join(json.dumps(x) + "\n" for x in self.logs.get(mlog.group(2), []))
            return 200, lines.encode(), {"Content-Type": "application/stream+json"}
        return 404, self.failure(404, "not_found", "The requested path was not found")
