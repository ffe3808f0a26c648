"""Issue #8: path spellings against real origin frameworks, on every target's local runtime.

A jwt-auth stack protects ["/api/*", "/account"] and forwards x-user-id from the token. Each
origin framework (Express 4 and 5, Flask/Werkzeug, plain WSGI on wsgiref, Starlette on uvicorn)
runs with its default routing, behind each target's local host. Every spelling of the
protected routes from tests/path_corpus.py is sent WITHOUT a token but WITH spoofed identity
headers; the origin records which handler answered. Any request a protected handler answers
is a bypass: the count must be 0 for every (target, framework).

Requests go over a raw socket so the request target reaches the edge exactly as written.
A table of the counts is printed in pytest's terminal summary.
"""

from __future__ import annotations

import http.client
import secrets
import socket
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import jwt as pyjwt
import pytest

from edgeport.build import build_app, functions_dir, node_binary
from edgeport.local.runner import LocalRunner
from edgeport.spec import parse_app
from origins.servers import FRAMEWORKS, Origin, start_origin
from path_corpus import Spelling, corpus

TARGETS = ["cloudflare", "vercel", "lambda-edge"]
SECRET = secrets.token_urlsafe(48)  # 48 random bytes
SPELLINGS = corpus()
SPOOF = [("x-user-id", "evil"), ("x_user_id", "evil")]
TIMEOUT = 15.0
WORKERS = 8

APP = {
    "name": "corpus",
    "origins": {"default": "https://origin.example.com"},
    "targets": {"cloudflare": {"accountId": "0" * 32, "zoneId": "1" * 32, "hostname": "t.example.com"},
                "lambda-edge": {}, "vercel": {}},
    "patterns": [{"name": "auth", "type": "jwt-auth", "routes": ["/api/*", "/account"], "algorithms": ["HS256"],
                  "secret": "hs_key", "forward": {"claims": {"x-user-id": "sub"}}}],
}


# ---------------------------------------------------------------- raw HTTP


@dataclass
class Answer:
    status: int  # 0: no HTTP answer (reset, timeout)
    body: bytes


def raw_get(port: int, target: str, headers: list[tuple[str, str]]) -> Answer:
    """GET with the request target sent verbatim (http.client would refuse or re-quote some).

    The answer is read with http.client's parser, which knows where a response ends, and the
    socket is then closed. No `Connection: close` is sent: the CloudFront emulation passes it
    into the viewer-request event and then refuses it as a disallowed header (502 for every
    request), and Miniflare keeps the connection open regardless.
    """
    head = [f"GET {target} HTTP/1.1", f"Host: 127.0.0.1:{port}", *(f"{k}: {v}" for k, v in headers)]
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT) as s:
            s.sendall(("\r\n".join(head) + "\r\n\r\n").encode())
            res = http.client.HTTPResponse(s, method="GET")
            res.begin()
            return Answer(res.status, res.read())
    except TimeoutError:
        return Answer(0, b"(timeout)")
    except (ConnectionError, http.client.HTTPException) as e:
        return Answer(0, f"({type(e).__name__})".encode())


def token(sub: str = "alice") -> str:
    return pyjwt.encode({"sub": sub, "exp": int(time.time()) + 600}, SECRET, "HS256")


# ---------------------------------------------------------------- fixtures


@dataclass
class Served:
    framework: str
    origin: Origin
    ports: dict[str, int]


class Summary:
    """Results per (target, framework), printed as tables in pytest's terminal summary."""

    def __init__(self):
        # table title -> {(target, framework): cell}
        self.tables: dict[str, dict[tuple[str, str], object]] = {}
        # target -> {spelling answered 5xx or nothing without reaching the origin: frameworks}
        self.choked: dict[str, dict[str, list[str]]] = {}

    def put(self, title: str, target: str, framework: str, cell) -> None:
        self.tables.setdefault(title, {})[(target, framework)] = cell

    def pytest_terminal_summary(self, terminalreporter):
        tr = terminalreporter
        for title, cells in self.tables.items():
            tr.section(title, sep="-")
            tr.write_line(f"{'':<12}" + "".join(f"{f:>12}" for f in FRAMEWORKS))
            for t in TARGETS:
                tr.write_line(f"{t:<12}" + "".join(f"{cells.get((t, f), '')!s:>12}" for f in FRAMEWORKS))
        for target, lines in self.choked.items():
            tr.section(f"{target}: {len(lines)} spellings answered 5xx or nothing without reaching the origin", sep="-")
            for line, frameworks in lines.items():
                tr.write_line(line + ("" if len(frameworks) == len(FRAMEWORKS) else f"  [{', '.join(frameworks)}]"))


@pytest.fixture(scope="module")
def summary(request):
    s = Summary()
    request.config.pluginmanager.register(s, f"path-corpus-summary-{id(s)}")
    return s


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    app = parse_app(APP)
    return app, build_app(app, "test", tmp_path_factory.mktemp("build"))


@pytest.fixture(scope="module", params=FRAMEWORKS)
def served(request, built):
    """One origin framework, and every target's host in front of it (started once, in parallel)."""
    app, build = built
    origin = start_origin(request.param, node=node_binary(), functions=functions_dir())
    try:
        with LocalRunner(app, build, {"hs_key": SECRET}, {"default": origin.url}) as runner:
            with ThreadPoolExecutor(len(TARGETS)) as pool:
                hosts = list(pool.map(runner.start, TARGETS))
            yield Served(request.param, origin, {h.target: int(h.url.rsplit(":", 1)[1]) for h in hosts})
    finally:
        origin.stop()


# ---------------------------------------------------------------- the corpus


def send_corpus(port: int) -> dict[str, Answer]:
    """Every spelling, tagged with its index in x-corpus-id so the origin's records name it."""
    def one(item: tuple[int, Spelling]) -> tuple[str, Answer]:
        i, sp = item
        return str(i), raw_get(port, sp.target, [*SPOOF, ("x-corpus-id", str(i))])

    with ThreadPoolExecutor(WORKERS) as pool:
        return dict(pool.map(one, enumerate(SPELLINGS)))


def describe(sp: Spelling, answer: Answer, seen: dict | None) -> str:
    at_origin = f"origin path {seen['path']!r}, x-user-id {seen['x_user_id']!r}" if seen else "origin not reached"
    return f"{sp.label:<34} {sp.target!r:<40} -> {answer.status}, {at_origin}"


REACHES = f"protected-handler reaches without a token ({len(SPELLINGS)} spellings)"


@pytest.mark.parametrize("target", TARGETS)
def test_no_spelling_reaches_a_protected_handler(served, target, summary):
    served.origin.clear()
    answers = send_corpus(served.ports[target])
    records = served.origin.records()
    reached = [r for r in records if r["handler"] == "protected"]
    summary.put(REACHES, target, served.framework, len(reached))
    note_choked(summary, target, served.framework, answers, {r["id"] for r in records})
    lines = [describe(SPELLINGS[int(r["id"])], answers[r["id"]], r) if r["id"] in answers else f"(untagged) {r}"
             for r in reached]
    assert not reached, (f"{len(reached)} of {len(SPELLINGS)} spellings reached a protected {served.framework} handler "
                         f"on {target} without a token:\n" + "\n".join(lines))


def note_choked(summary: Summary, target: str, framework: str, answers: dict[str, Answer], at_origin: set) -> None:
    """Spellings the local host itself failed on: no answer or 5xx, and the origin never saw them."""
    for i, a in answers.items():
        if (a.status == 0 or a.status >= 500) and i not in at_origin:
            line = describe(SPELLINGS[int(i)], a, None)
            summary.choked.setdefault(target, {}).setdefault(line, []).append(framework)


# ---------------------------------------------------------------- controls


def one_record(origin: Origin) -> dict:
    records = origin.records()
    assert len(records) == 1, records
    return records[0]


@pytest.mark.parametrize("path", ["/api/x", "/account"])
@pytest.mark.parametrize("target", TARGETS)
def test_valid_token_reaches_the_protected_handler(served, target, path):
    """Positive control: the harness can see a reach, and the edge forwards the token's sub."""
    served.origin.clear()
    a = raw_get(served.ports[target], path, [("Authorization", f"Bearer {token()}"), ("x-user-id", "evil")])
    seen = one_record(served.origin)
    assert (a.status, seen["handler"], seen["x_user_id"]) == (200, "protected", "alice"), (a, seen)


@pytest.mark.parametrize("target", TARGETS)
def test_token_identity_is_not_mixed_with_a_spoofed_spelling(served, target, summary):
    """x_user_id next to a valid token: a WSGI origin must still read exactly the token's sub."""
    served.origin.clear()
    a = raw_get(served.ports[target], "/api/x", [("Authorization", f"Bearer {token()}"), ("x_user_id", "evil")])
    seen = one_record(served.origin)
    summary.put("x-user-id read with a token for alice and x_user_id: evil", target, served.framework, seen["x_user_id"])
    assert (a.status, seen["handler"], seen["x_user_id"]) == (200, "protected", "alice"), (a, seen)


@pytest.mark.parametrize("target", TARGETS)
def test_public_path_gets_no_spoofed_identity(served, target, summary):
    """The edge strips identity headers on every request, not only on protected routes."""
    served.origin.clear()
    a = raw_get(served.ports[target], "/public/x", SPOOF)
    seen = one_record(served.origin)
    summary.put("x-user-id read on /public/x (spoofed, no token)", target, served.framework, seen["x_user_id"])
    assert (a.status, seen["handler"]) == (200, "public"), (a, seen)
    assert seen["x_user_id"] is None, f"the public {served.framework} handler read x-user-id {seen['x_user_id']!r}"
