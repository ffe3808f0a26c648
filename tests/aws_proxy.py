"""An HTTP proxy in front of moto's server for the Lambda@Edge day-2 tests (tests/test_ops_lambda.py).

- It counts the calls per AWS operation (the JSON protocol's X-Amz-Target, the query protocol's Action, or method
  and path for Lambda's REST API).
- It answers chosen calls with an AWS error, in the error shape of the service's protocol, before moto sees them:
  `fail(operation, code, message, times=N)` (times=None: every call).
- moto 5.2 drops a distribution's LambdaFunctionAssociations (moto/cloudfront/models.py sets Quantity 0). The proxy
  keeps those of each CreateDistribution request and puts them back into ListDistributions answers, where CloudFront
  returns them (docs.aws.amazon.com/cloudfront/latest/APIReference/API_DistributionSummary.html).
"""

from __future__ import annotations

import http.client
import json
import threading
import xml.etree.ElementTree as ET
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit


class Proxy:
    def __init__(self, upstream: str):
        self.upstream = upstream
        self.calls: Counter[str] = Counter()
        self.failures: dict[str, list] = {}  # operation -> [status, code, message, times left or None]
        self.associations: dict[str, dict[str, ET.Element]] = {}  # distribution id -> behaviour path -> element
        self._lock = threading.Lock()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def _any(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                op = proxy.operation(self.command, self.path, self.headers, body)
                with proxy._lock:
                    proxy.calls[op] += 1
                    failure = proxy._take(op)
                if failure:
                    return self._error(*failure)
                status, data, headers = proxy.forward(self.command, self.path, self.headers, body)
                path = self.path.split("?")[0]
                if path.endswith("/distribution") and self.command == "POST" and status < 300:
                    proxy.remember(body, data)
                elif path.endswith("/distribution") and self.command == "GET" and status == 200:
                    data = proxy.restore(data)
                self._reply(status, data, [(k, v) for k, v in headers.items()
                                           if k.lower() not in ("content-length", "transfer-encoding", "connection", "date", "server")])

            def _error(self, status, code, message):
                target = self.headers.get("X-Amz-Target")
                if target:  # JSON protocol (CloudWatch Logs, SSM): __type + message
                    data, ctype = json.dumps({"__type": code, "message": message}).encode(), "application/x-amz-json-1.1"
                elif "/functions" in self.path:  # Lambda's REST-JSON: the code in x-amzn-ErrorType
                    data, ctype = json.dumps({"Type": "User", "message": message}).encode(), "application/json"
                else:  # EC2's query protocol
                    data = (f"<Response><Errors><Error><Code>{code}</Code><Message>{message}</Message></Error></Errors>"
                            "<RequestID>proxy</RequestID></Response>").encode()
                    ctype = "text/xml"
                self._reply(status, data, [("Content-Type", ctype), ("x-amzn-ErrorType", code)])

            def _reply(self, status, data, headers):
                self.send_response(status)
                for k, v in headers:
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_DELETE = _any

            def log_message(self, *a):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def fail(self, operation: str, code: str, message: str, times: int | None = 1, status: int = 400) -> None:
        self.failures[operation] = [status, code, message, times]

    def _take(self, op: str):
        f = self.failures.get(op)
        if not f:
            return None
        if f[3] is not None:
            if f[3] <= 0:
                return None
            f[3] -= 1
        return f[0], f[1], f[2]

    @staticmethod
    def operation(method: str, path: str, headers, body: bytes) -> str:
        target = headers.get("X-Amz-Target")
        if target:
            return target.rsplit(".", 1)[-1]
        if body and b"Action=" in body:
            return parse_qs(body.decode()).get("Action", ["?"])[0]
        p = path.split("?")[0]
        if "/functions/" in p and method == "DELETE":
            return "DeleteFunction:" + unquote(p.split("/functions/")[1].split("/")[0])
        return f"{method} {p}"

    def forward(self, method: str, path: str, headers, body: bytes):
        # http.client, not urllib: urllib adds a form Content-Type to a request without one, and moto then takes it
        # for another protocol.
        up = urlsplit(self.upstream)
        conn = http.client.HTTPConnection(up.hostname, up.port, timeout=30)
        try:
            conn.request(method, path, body=body or None, headers={k: v for k, v in headers.items() if k.lower() != "host"})
            r = conn.getresponse()
            return r.status, r.read(), r.headers
        finally:
            conn.close()

    @staticmethod
    def _behaviours(root: ET.Element, ns: str) -> dict[str, ET.Element | None]:
        out = {"*": root.find(f"{ns}DefaultCacheBehavior")}
        for b in root.findall(f"{ns}CacheBehaviors/{ns}Items/{ns}CacheBehavior"):
            out[b.findtext(f"{ns}PathPattern") or ""] = b
        return out

    @staticmethod
    def _ns(root: ET.Element) -> str:
        return root.tag[: root.tag.index("}") + 1] if root.tag.startswith("{") else ""

    def remember(self, request: bytes, answer: bytes) -> None:
        cfg, ans = ET.fromstring(request), ET.fromstring(answer)
        ns = self._ns(cfg)
        kept = {p: b.find(f"{ns}LambdaFunctionAssociations") for p, b in self._behaviours(cfg, ns).items() if b is not None}
        self.associations[ans.findtext(f"{self._ns(ans)}Id") or ""] = {p: a for p, a in kept.items() if a is not None}

    def restore(self, answer: bytes) -> bytes:
        root = ET.fromstring(answer)
        ns = self._ns(root)
        ET.register_namespace("", ns.strip("{}"))
        for summary in root.iter(f"{ns}DistributionSummary"):
            kept = self.associations.get(summary.findtext(f"{ns}Id") or "", {})
            for path, b in self._behaviours(summary, ns).items():
                if b is None or path not in kept:
                    continue
                old = b.find(f"{ns}LambdaFunctionAssociations")
                if old is not None:
                    b.remove(old)
                b.append(kept[path])
        return ET.tostring(root, xml_declaration=True, encoding="utf-8")
