"""Fault injection per pattern x target (issue #15 item 4): one test per cell of docs/faults.md.

Faults: origin 5xx, origin timeout, origin reset mid-body, live store unreachable or slow, secret fetch failure, ESI
fragment failure mid-stream. A cell where a fault does not apply is "n/a" in the doc with the reason; every other
cell names its test here, parametrized by target (test_the_table_names_a_test_for_every_cell checks both ways).

One stack - patterns_app.py plus four patterns of its own (a secret stored nowhere, a secret that is only on
Lambda@Edge and added late, two A/B tests whose live keys nothing has read) - in all three runtimes, started once;
its origins are FaultOrigins (fault_origin.py). Stores are made slow or unreachable with LocalRunner.set_store:
Cloudflare's KV through the host's KV wrapper, Vercel's Edge Config stand-in, Lambda@Edge's StoreProxy in front of
moto (Secrets Manager and SSM). What each runtime logs is read from the hosts' events (LocalRunner on_event).

Behavioural only, with margins for a busy machine: which answer, from which origin, with what in the logs - never
how fast. Where "was not waited for" matters it is shown by what the answer holds (a value the store only gives
later), not by a clock.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import itertools
import json
import re
import secrets
import threading
import time

import jwt as pyjwt
import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from conftest import ROOT
from edgeport.build import build_app
from edgeport.local.runner import LocalRunner
from edgeport.spec import parse_app
from fault_origin import DECLARED_LENGTH, PARTIAL, FaultOrigin, get
from patterns_app import APP, AUD, HS_KEY, ISS, SHELL

TARGETS = ["cloudflare", "vercel", "lambda-edge"]
ORIGIN_FAULTS = ["origin-5xx", "origin-timeout", "origin-reset"]
LATE_S = 1.0  # an origin this late is waited for: the edge sets no deadline of its own on the origin
COLD_KEY = secrets.token_urlsafe(48)  # hs_cold's value, put into Secrets Manager only during its test

FAULTS_APP = copy.deepcopy(APP)
FAULTS_APP["patterns"] += [
    # hs_missing is stored nowhere: no Worker binding, no environment variable, nothing in Secrets Manager
    {"name": "auth-nosecret", "type": "jwt-auth", "routes": ["/nosecret/*"], "algorithms": ["HS256"],
     "secret": "hs_missing", "issuer": ISS, "audience": AUD},
    # hs_cold: not in Secrets Manager when the container starts; the test adds it while the store is unreachable
    {"name": "auth-cold", "type": "jwt-auth", "routes": ["/coldsecret/*"], "targets": ["lambda-edge"],
     "algorithms": ["HS256"], "secret": "hs_cold", "issuer": ISS, "audience": AUD},
    # Live keys nothing reads before the store test; "off" is never drawn from the declared ratios, so a visitor
    # who gets it was given the store's value
    *({"name": name, "type": "ab-test", "routes": [route], "liveTtl": 1,
       "variants": [{"name": "on", "weight": 100}, {"name": "off", "weight": 0}]}
      for name, route in (("exp-down", "/cold-down"), ("exp-slow", "/cold-slow"))),
]
SECRETS = {"hs_key": HS_KEY, "hs_missing": "", "hs_cold": ""}  # "" stands for "not stored"
ON_ONLY, OFF_ONLY = json.dumps({"on": 100, "off": 0}), json.dumps({"on": 0, "off": 100})


class Events:
    """Every event the hosts emit (functions/local/events.mjs): per request one {"event": "request", "path",
    "status", "origins"}, the edge code's console lines {"event": "console", "level", "text"}, and the host's own
    stderr lines {"event": "stderr", "text"}."""

    def __init__(self):
        self._items: list[tuple[str, dict]] = []
        self._sent: dict[str, int] = {}
        self._lock = threading.Lock()

    def __call__(self, target: str, event: dict) -> None:
        with self._lock:
            self._items.append((target, event))

    def sent(self, target: str) -> None:
        """One more HTTP request sent to `target` (each gets one request line)."""
        with self._lock:
            self._sent[target] = self._sent.get(target, 0) + 1

    def mark(self, target: str, timeout: float = 20) -> int:
        """Where the next events start: after the request lines of every request sent to `target` so far (they
        reach us asynchronously, possibly after their answers)."""
        deadline = time.monotonic() + timeout
        while True:
            with self._lock:
                lines = sum(1 for t, e in self._items if t == target and e.get("event") == "request")
                if lines >= self._sent.get(target, 0) or time.monotonic() > deadline:
                    return len(self._items)
            time.sleep(0.02)

    def since(self, target: str, mark: int, kind: str | None = None) -> list[dict]:
        with self._lock:
            return [e for t, e in self._items[mark:] if t == target and (kind is None or e.get("event") == kind)]

    def wait(self, target: str, mark: int, pred, what: str, timeout: float = 20) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            for e in self.since(target, mark):
                if pred(e):
                    return e
            if time.monotonic() > deadline:
                raise AssertionError(f"{target}: no event {what} among {self.since(target, mark)}")
            time.sleep(0.05)

    def request(self, target: str, mark: int, path: str) -> dict:
        """The request line of `path`: its status and the declared origins the edge fetched for it."""
        return self.wait(target, mark, lambda e: e.get("event") == "request" and e.get("path") == path, f"request {path}")

    def console(self, target: str, mark: int, level: str, text: str) -> dict:
        return self.wait(target, mark, lambda e: e.get("event") == "console" and e.get("level") == level
                         and text in e.get("text", ""), f"console.{level} {text!r}")

    def edge_lines(self, target: str, mark: int, path: str) -> list[str]:
        """What the edge code itself logged (edgeport's lines) up to the request line of `path` (a request's console
        lines come before its request line)."""
        self.request(target, mark, path)
        return [e["text"] for e in self.since(target, mark, "console") if "edgeport" in e.get("text", "")]


@pytest.fixture(scope="module")
def origins():
    started = {n: FaultOrigin(n).start() for n in FAULTS_APP["origins"]}
    try:
        yield started
    finally:
        for o in started.values():
            o.stop()


EVENTS = Events()


@pytest.fixture(scope="module")
def events():
    return EVENTS


@pytest.fixture(scope="module")
def stack(tmp_path_factory, origins, events):
    app = parse_app(FAULTS_APP)
    build = build_app(app, "test", tmp_path_factory.mktemp("faults"))
    # store_delay_ms=0: a StoreProxy in front of Lambda@Edge's stores, so that they can be made slow or unreachable.
    with LocalRunner(app, build, SECRETS, {n: o.url for n, o in origins.items()}, store_delay_ms=0,
                     on_event=events) as runner:
        runner.start_all()
        yield runner


@pytest.fixture
def fresh(origins):
    for o in origins.values():
        o.clear()
        o.heal()
    yield origins
    for o in origins.values():
        o.heal()


def url(stack, target, path=""):
    return stack.hosts[target].url + path


def call(stack, target: str, path: str, headers: dict | None = None):
    """GET `path` from `target`: (status, headers, body, complete) as fault_origin.get."""
    EVENTS.sent(target)
    return get(url(stack, target), path, headers)


def hit(origins) -> list[tuple[str, str]]:
    """(origin, path) of every request that reached an origin."""
    return [(o.name, r["path"]) for o in origins.values() for r in o.requests]


def token(key: str = HS_KEY, **over) -> str:
    claims = {"sub": "alice", "iss": ISS, "aud": AUD, "exp": int(time.time()) + 600, **over}
    return pyjwt.encode(claims, key, algorithm="HS256")


def bearer(t: str) -> dict:
    return {"Authorization": f"Bearer {t}"}


def set_fault(o: FaultOrigin, path: str, fault: str) -> None:
    if fault == "origin-5xx":
        o.script(path, status=503, body="origin down", headers={"retry-after": "7"})
    elif fault == "origin-timeout":
        o.script(path, body="late but whole", delay=LATE_S)
    elif fault == "origin-reset":
        o.reset(path)
    else:
        raise AssertionError(fault)


def expected_status(fault: str, target: str) -> int:
    return {"origin-5xx": 503, "origin-timeout": 200}.get(fault, 502 if target == "lambda-edge" else 200)


def assert_origin_answer(fault: str, target: str, res) -> None:
    """What the viewer gets when the origin the edge picked fails: that origin's own answer, as it came."""
    status, headers, body, complete = res
    assert status == expected_status(fault, target), (status, headers, body[:200])
    if fault == "origin-5xx":
        assert (body, complete, headers.get("retry-after")) == (b"origin down", True, "7"), (body, headers)
    elif fault == "origin-timeout":
        # No edge deadline on the origin: the platform's own origin timeout applies (not emulated locally).
        assert (body, complete) == (b"late but whole", True)
    elif target == "lambda-edge":
        # CloudFront reads the origin's answer before origin-response: a body cut short is its 502, never the part.
        assert PARTIAL not in body, body[:200]
    else:
        # Streamed through: the viewer got the head and the first bytes, then the body ends short of its declared
        # end - a cut the client can see, never a complete-looking answer.
        assert not complete and len(body) < DECLARED_LENGTH and PARTIAL.startswith(body[:len(PARTIAL)]), (complete, body[:200])


def origin_fault_cell(stack, fresh, events, target, fault, *, origin, origin_path, path, headers=None):
    """Put `fault` on origin:origin_path, GET path; check the answer, that the one origin was asked once, and that
    the edge code logged nothing (the request line has the status and the origin)."""
    set_fault(fresh[origin], origin_path, fault)
    mark = events.mark(target)
    res = call(stack, target, path, headers)
    assert_origin_answer(fault, target, res)
    assert hit(fresh) == [(origin, origin_path)]
    line = events.request(target, mark, path)
    assert line["status"] == expected_status(fault, target)
    assert [o["name"] for o in line["origins"]] == [origin]
    assert events.edge_lines(target, mark, path) == []
    return res


# ---------------------------------------------------------------- jwt-auth


def assert_verdict_without_the_origin(stack, fresh, target, path="/api/orders"):
    """No token, a malformed one and an expired one: 401 with a challenge, and the (failing) origin is not asked."""
    for bad in ({}, bearer("x.y.z"), bearer(token(exp=int(time.time()) - 3600))):
        status, headers, _, _ = call(stack, target, path, bad)
        assert status == 401 and headers.get("www-authenticate", "").startswith("Bearer"), (bad, status, headers)
    assert hit(fresh) == []


@pytest.mark.parametrize("target", TARGETS)
def test_jwt_auth_origin_5xx(stack, fresh, events, target):
    """Behind a valid token the 503 is the origin's: passed through with its body and headers."""
    set_fault(fresh["default"], "/api/orders", "origin-5xx")
    assert_verdict_without_the_origin(stack, fresh, target)
    fresh["default"].heal()
    origin_fault_cell(stack, fresh, events, target, "origin-5xx", origin="default", origin_path="/api/orders",
                      path="/api/orders", headers=bearer(token()))


@pytest.mark.parametrize("target", TARGETS)
def test_jwt_auth_origin_timeout(stack, fresh, events, target):
    """The verdict never waits for the origin; a valid token's request waits for it (no edge deadline)."""
    set_fault(fresh["default"], "/api/orders", "origin-timeout")
    assert_verdict_without_the_origin(stack, fresh, target)
    fresh["default"].heal()
    origin_fault_cell(stack, fresh, events, target, "origin-timeout", origin="default", origin_path="/api/orders",
                      path="/api/orders", headers=bearer(token()))


@pytest.mark.parametrize("target", TARGETS)
def test_jwt_auth_origin_reset(stack, fresh, events, target):
    set_fault(fresh["default"], "/api/orders", "origin-reset")
    assert_verdict_without_the_origin(stack, fresh, target)
    fresh["default"].heal()
    origin_fault_cell(stack, fresh, events, target, "origin-reset", origin="default", origin_path="/api/orders",
                      path="/api/orders", headers=bearer(token()))


def hs256_with_empty_key(claims: dict) -> str:
    """PyJWT refuses an empty HMAC key; a token signed with one is what a missing secret read as "" would accept."""
    def b64(raw: bytes) -> str:
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    signing = b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode()) + "." + b64(json.dumps(claims).encode())
    return signing + "." + b64(hmac.new(b"", signing.encode(), hashlib.sha256).digest())


def assert_unavailable(res) -> None:
    status, headers, body, _ = res
    assert status == 503, (status, body[:200])
    assert json.loads(body) == {"error": "edge_unavailable"}
    assert (headers.get("cache-control"), headers.get("retry-after")) == ("no-store", "1"), headers
    assert "x-edgeport-cloudfront-error" not in headers, headers  # edgeport's answer, not CloudFront's own error


@pytest.mark.parametrize("target", TARGETS)
def test_jwt_auth_secret_failure(stack, fresh, events, target):
    """The key's secret cannot be had (Cloudflare: no binding, Vercel: no environment variable, Lambda@Edge: not in
    Secrets Manager): 503 for every token that needs the key - never a pass, also not for a token signed with the
    empty key a missing secret could turn into -, 401 for what is refused before a key is needed (alg "none", no
    token); the origin is never asked. On Lambda@Edge also a store that is unreachable or hangs on a container holding no value
    (a warm container keeps the last good value: test_cross_region)."""
    claims = {"sub": "a", "iss": ISS, "aud": AUD, "exp": int(time.time()) + 600}
    mark = events.mark(target)
    assert_unavailable(call(stack, target, "/nosecret/x", bearer(token(key=COLD_KEY))))
    assert_unavailable(call(stack, target, "/nosecret/x", bearer(hs256_with_empty_key(claims))))
    for refused in (bearer(pyjwt.encode(claims, None, algorithm="none")), {}):
        status, headers, _, _ = call(stack, target, "/nosecret/x", refused)
        assert status == 401 and headers.get("cache-control") == "no-store", (refused, status)
    assert hit(fresh) == []
    events.console(target, mark, "error", "secret hs_missing unavailable")
    if target != "lambda-edge":
        return

    from edgeport.targets.lambda_edge import secret_id, secret_regions

    proxy = stack.store_proxy
    good = bearer(token(key=COLD_KEY))
    try:
        # The secret exists now, but the store does not answer: no value to verify with, 503.
        stack.set_store(target, down=True)
        stack.aws.put_secret(secret_id(stack.app, "test", "hs_cold"), COLD_KEY, secret_regions(stack.app)[1:])
        proxy.clear()
        mark = events.mark(target)
        assert_unavailable(call(stack, target, "/coldsecret/x", good))
        assert [c.outcome for c in proxy.reads("GetSecretValue")] == ["dropped"]
        events.console(target, mark, "error", "secret hs_cold unavailable")
        # The store hangs: one attempt, given up at its deadline (2.5 s), still within viewer-request's 5 s.
        stack.set_store(target, down=False, delay_ms=60_000)
        proxy.clear()
        assert_unavailable(call(stack, target, "/coldsecret/x", good))
        deadline = time.monotonic() + 20
        while [c.outcome for c in proxy.reads("GetSecretValue")] != ["aborted"] and time.monotonic() < deadline:
            time.sleep(0.05)
        assert [c.outcome for c in proxy.reads("GetSecretValue")] == ["aborted"], "given up, not retried"
    finally:
        stack.set_store(target, down=False, delay_ms=0)
    assert hit(fresh) == []
    # The store answers again: the same token passes (the 503s were the store's).
    status, _, _, _ = call(stack, target, "/coldsecret/x", good)
    assert status == 200 and hit(fresh) == [("default", "/coldsecret/x")]


# ---------------------------------------------------------------- ab-test


def variant(headers: dict, cookie: str = "edgeport-ab-exp") -> str | None:
    c = headers.get("set-cookie", "")
    return c.split(";")[0].split("=", 1)[1] if c.startswith(f"{cookie}=") else None


@pytest.mark.parametrize("target", TARGETS)
def test_ab_test_origin_5xx(stack, fresh, events, target):
    """A first visit whose variant origin answers 503 gets that 503 and its variant cookie (no other variant is
    tried); a returning visitor stays on their variant."""
    for origin, path in (("default", "/a/landing"), ("default", "/b/landing"), ("beta", "/landing")):
        set_fault(fresh[origin], path, "origin-5xx")
    res = call(stack, target, "/landing")
    assert_origin_answer("origin-5xx", target, res)
    v = variant(res[1])
    assert v in ("A", "B", "C"), res[1]
    assert hit(fresh) == [{"A": ("default", "/a/landing"), "B": ("default", "/b/landing"), "C": ("beta", "/landing")}[v]]
    fresh["default"].clear()
    fresh["beta"].clear()
    res = origin_fault_cell(stack, fresh, events, target, "origin-5xx", origin="default", origin_path="/a/landing",
                            path="/landing", headers={"Cookie": "edgeport-ab-exp=A"})
    assert variant(res[1]) in (None, "A")  # Lambda@Edge's origin-response sets the cookie again, the same


@pytest.mark.parametrize("target", TARGETS)
def test_ab_test_origin_timeout(stack, fresh, events, target):
    """Waited for, on the variant the cookie names: no re-assignment, no other variant."""
    res = origin_fault_cell(stack, fresh, events, target, "origin-timeout", origin="default", origin_path="/a/landing",
                            path="/landing", headers={"Cookie": "edgeport-ab-exp=A"})
    assert variant(res[1]) in (None, "A")


@pytest.mark.parametrize("target", TARGETS)
def test_ab_test_origin_reset(stack, fresh, events, target):
    origin_fault_cell(stack, fresh, events, target, "origin-reset", origin="default", origin_path="/a/landing",
                      path="/landing", headers={"Cookie": "edgeport-ab-exp=A"})


def live_key(stack, target: str, pattern: str) -> str:
    """The store key of `pattern`'s ratios on `target` (KV key, Edge Config item, SSM parameter)."""
    keys = [k for k in stack.build.local[target]["live"] if re.search(rf"(^|/|-){re.escape(pattern)}$", k)]
    assert len(keys) == 1, (pattern, keys)
    return keys[0]


def first_visit(stack, target: str, path: str, pattern: str) -> str:
    status, headers, _, _ = call(stack, target, path)
    assert status == 200, status
    return variant(headers, f"edgeport-ab-{pattern}")


def comes_to_be(stack, target: str, path: str, pattern: str, value: str, streak: int = 8, deadline_s: float = 30) -> bool:
    """Whether first visits come to be all `value`, `streak` in a row (the store's value arrived and applies)."""
    end, run = time.monotonic() + deadline_s, 0
    while time.monotonic() < end and run < streak:
        if first_visit(stack, target, path, pattern) == value:
            run += 1
        else:
            run = 0
            time.sleep(0.05)
    return run == streak


@pytest.mark.parametrize("target", TARGETS)
def test_ab_test_store_down_or_slow(stack, fresh, events, target):
    """The live store (Cloudflare KV, Vercel Edge Config, Lambda@Edge SSM) unreachable or slow. The patterns here
    declare on 100 / off 0 and the store holds the opposite, so a visitor who gets "off" got the store's value.
    - unreachable before anything was read: the declared ratios, and a warning per failed read;
    - slow before anything was read: the first visit is not held for the store (Cloudflare and Vercel wait at most
      liveTimeoutMs, 200 ms; Lambda@Edge never waits): the declared ratios; the store's value applies once it came;
    - unreachable after a read: the last value read is kept (not the declared ratios: the operator's last word);
    - slow after a read: the visit that finds the value stale gets the last one at once, not the store's new one,
      which applies once it came."""
    down_key, slow_key = live_key(stack, target, "exp-down"), live_key(stack, target, "exp-slow")
    # 1 s: far past Cloudflare's and Vercel's 200 ms wait for a first read (their timers run on the same event loop
    # as the store's delay, so the order is certain), and within Lambda@Edge's 2.5 s deadline for a store call.
    slow_ms = 1000
    try:
        # Unreachable before anything was read.
        stack.set_live(target, down_key, OFF_ONLY)
        mark = events.mark(target)
        stack.set_store(target, down=True)
        assert {first_visit(stack, target, "/cold-down", "exp-down") for _ in range(6)} == {"on"}
        events.console(target, mark, "warn", f"live setting {down_key} unavailable")

        # Slow before anything was read.
        stack.set_store(target, down=False, delay_ms=slow_ms)
        stack.set_live(target, slow_key, OFF_ONLY)
        assert first_visit(stack, target, "/cold-slow", "exp-slow") == "on"
        assert comes_to_be(stack, target, "/cold-slow", "exp-slow", "off")

        # Unreachable after a read: "off" (the value read), not "on" (the declared ratios).
        mark = events.mark(target)
        stack.set_store(target, down=True, delay_ms=0)
        time.sleep(slow_ms / 1000 + 0.5)  # the value is stale (liveTtl 1 s), and a read the slow store held is over
        assert {first_visit(stack, target, "/cold-slow", "exp-slow") for _ in range(6)} == {"off"}
        events.console(target, mark, "warn", f"live setting {slow_key} unavailable")

        # Slow after a read: the store holds a new value ("on"), the visit that starts its read gets the last one.
        stack.set_live(target, slow_key, ON_ONLY)
        stack.set_store(target, down=False, delay_ms=slow_ms)
        time.sleep(1.3)  # a failed read is retried after min(liveTtl, 5 s)
        assert first_visit(stack, target, "/cold-slow", "exp-slow") == "off", "the stale value, not the store's new one"
        assert comes_to_be(stack, target, "/cold-slow", "exp-slow", "on")
    finally:
        stack.set_store(target, down=False, delay_ms=0)
        stack.set_live(target, down_key, ON_ONLY)
        stack.set_live(target, slow_key, ON_ONLY)


# ---------------------------------------------------------------- geo-route


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("fault", ORIGIN_FAULTS)
def test_geo_route_origin_fault(stack, fresh, events, fault, target):
    """The country's origin fails: the viewer gets that origin's answer; the fallback origin (eu, for viewers of
    unknown country) is not tried (docs/faults.md, Decisions)."""
    origin_fault_cell(stack, fresh, events, target, fault, origin="us", origin_path="/geo/catalog",
                      path="/geo/catalog", headers={"x-edgeport-country": "US"})


# ---------------------------------------------------------------- esi-compose


def esi_origin(fresh, **cart):
    d = fresh["default"]
    d.script("/shell.html", body=SHELL)
    d.script("/frag/recs", body="<ul>for you</ul>")
    d.script("/frag/cart", **(cart or {"body": "<b>2 items</b>"}))


def page(recs="<ul>for you</ul>", cart="<b>2 items</b>") -> bytes:
    return SHELL.replace("<!--esi:recs-->", recs).replace("<!--esi:cart-->", cart).encode()


def assert_composed(res, **slots) -> None:
    status, headers, body, complete = res
    assert (status, complete) == (200, True), (status, body[:200])
    assert body == page(**slots), body
    assert headers.get("x-edgeport-esi") == "page" and headers.get("cache-control") == "private, no-store"


@pytest.mark.parametrize("target", TARGETS)
def test_esi_compose_origin_5xx(stack, fresh, events, target):
    """A fragment's 503: its fallback, the page 200. The shell's 503: the request goes on to the origin (a warning);
    when the origin fails too, its 503 is passed through."""
    esi_origin(fresh, status=503, body="cart down")
    mark = events.mark(target)
    assert_composed(call(stack, target, "/page/home"), cart="<p>cart</p>")
    assert events.edge_lines(target, mark, "/page/home") == []
    fresh["default"].script("/shell.html", status=503, body="shell down")
    fresh["default"].script("/page/home", status=503, body="origin down", headers={"retry-after": "7"})
    mark = events.mark(target)
    status, headers, body, complete = call(stack, target, "/page/home")
    assert (status, body, complete, headers.get("retry-after")) == (503, b"origin down", True, "7")
    events.console(target, mark, "warn", "esi page: shell /shell.html unavailable, passing the request to the origin")


@pytest.mark.parametrize("target", TARGETS)
def test_esi_compose_origin_timeout(stack, fresh, events, target):
    """A fragment past its timeoutMs (1.2 s; the origin would take 8 s): its fallback, the page 200. The shell has no
    edge deadline: a late shell is waited for."""
    esi_origin(fresh, body="<b>too late</b>", delay=8)
    mark = events.mark(target)
    assert_composed(call(stack, target, "/page/home"), cart="<p>cart</p>")
    assert events.edge_lines(target, mark, "/page/home") == []
    esi_origin(fresh)
    fresh["default"].script("/shell.html", body=SHELL, delay=LATE_S)
    assert_composed(call(stack, target, "/page/home"))


@pytest.mark.parametrize("target", TARGETS)
def test_esi_compose_origin_reset(stack, fresh, events, target):
    """A fragment reset mid-body: its fallback, the page 200. The shell reset mid-body: the edge reads the shell
    whole before the page's first byte, so a shell that breaks off is an unavailable shell - the request goes on to
    the origin, which serves the page itself (a warning). (Were the shell streamed, the page's 200 and first bytes
    would be out before the cut, and workerd ends a response whose stream errors with the chunked terminator: a cut
    page that looks whole.)"""
    esi_origin(fresh)
    fresh["default"].reset("/frag/cart")
    mark = events.mark(target)
    assert_composed(call(stack, target, "/page/home"), cart="<p>cart</p>")
    assert events.edge_lines(target, mark, "/page/home") == []

    fresh["default"].heal()
    fresh["default"].reset("/shell.html")
    fresh["default"].script("/frag/recs", body="<ul>for you</ul>")
    mark = events.mark(target)
    status, headers, body, complete = call(stack, target, "/page/home")
    assert (status, complete) == (200, True) and json.loads(body)["path"] == "/page/home", (status, body[:200])
    assert "x-edgeport-esi" not in headers and PARTIAL not in body
    events.console(target, mark, "warn", "esi page: shell /shell.html unavailable, passing the request to the origin")


@pytest.mark.parametrize("target", TARGETS)
def test_esi_compose_fragment_failure(stack, fresh, events, target):
    """The page is already on its way (Cloudflare and Vercel stream the shell) when the cart fragment starts its
    answer and loses its connection: the page still ends whole, 200, with the cart's fallback in its slot, and the
    slots after it filled. (Fragment deadline 1.2 s; the reset comes after 0.5 s plus 0.3 s of partial body.)"""
    esi_origin(fresh)
    fresh["default"].reset("/frag/cart", after=0.5)
    mark = events.mark(target)
    assert_composed(call(stack, target, "/page/home"), cart="<p>cart</p>")
    line = events.request(target, mark, "/page/home")
    assert line["status"] == 200 and {"/frag/recs", "/frag/cart"} <= {o["path"] for o in line["origins"]}
    assert events.edge_lines(target, mark, "/page/home") == []


# ---------------------------------------------------------------- realtime-room (Cloudflare only)


ROOM_ORIGIN = {"origin": "https://shop.example.com"}


def recv_until(ws, pred, timeout=15):
    deadline = time.monotonic() + timeout
    while True:
        m = json.loads(ws.recv(timeout=max(0.1, deadline - time.monotonic())))
        if pred(m):
            return m


@pytest.mark.parametrize("fault", ORIGIN_FAULTS)
def test_realtime_room_origin_fault(stack, fresh, fault):
    """n/a, shown: a room is its Durable Object and asks no origin. With every origin failing a room opens, relays,
    closes an oversized message's sender with 1009 and answers a client's close with 1000."""
    room = f"/rooms/faults-{fault}"
    for o in fresh.values():
        for p in ("/", room):
            set_fault(o, p, fault)
    ws = url(stack, "cloudflare", room).replace("http://", "ws://")
    with connect(ws, additional_headers=ROOM_ORIGIN) as a, connect(ws, additional_headers=ROOM_ORIGIN) as b:
        recv_until(a, lambda m: m.get("type") == "presence" and m.get("count") == 2)
        a.send("hello")
        assert recv_until(b, lambda m: m.get("type") == "message")["data"] == "hello"
        b.send("x" * 300)  # maxMessageBytes 256
        with pytest.raises(ConnectionClosed) as closed:
            for _ in range(50):
                b.recv(timeout=15)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1009
        a.close()
        assert a.close_code == 1000
    assert hit(fresh) == []


# ---------------------------------------------------------------- the table

PATTERNS = ["jwt-auth", "ab-test", "geo-route", "esi-compose", "realtime-room"]
FAULTS = ["origin 5xx", "origin timeout", "origin reset", "store down/slow", "secret failure", "fragment failure"]
ROW = re.compile(r"^\|\s*([a-z-]+)\s*\|\s*([a-z0-9 /-]+?)\s*\|(.*)\|\s*$")
REF = re.compile(r"`test_faults::(test_[a-z0-9_]+\[[a-z0-9-]+\])`")


def table(doc: str) -> dict[tuple[str, str], dict[str, str]]:
    """(pattern, fault) -> {"sees", "logged", target: cell} from the doc's rows."""
    rows = {}
    for line in doc.splitlines():
        m = ROW.match(line)
        if m and m.group(1) in PATTERNS:
            cells = [c.strip() for c in m.group(3).split("|")]
            assert len(cells) == 5 and all(cells), line
            rows[(m.group(1), m.group(2))] = dict(zip(["sees", "logged", *TARGETS], cells))
    return rows


def parametrized_ids() -> set[str]:
    """This file's test ids as pytest makes them: the name, and for parametrized tests [the values joined by "-",
    innermost decorator first] (every parameter here is a string)."""
    ids = set()
    for name, fn in globals().items():
        if not (name.startswith("test_") and callable(fn)):
            continue
        marks = [m for m in getattr(fn, "pytestmark", []) if m.name == "parametrize"]
        if not marks:
            ids.add(name)
        for combo in itertools.product(*(m.args[1] for m in marks)) if marks else ():
            ids.add(f"{name}[{'-'.join(combo)}]")
    return ids


def test_the_table_names_a_test_for_every_cell():
    """docs/faults.md has one row per pattern x fault; each target's cell is "n/a: reason" or names this file's test
    for that target; every test named exists, and every test here is named by a cell."""
    doc = (ROOT / "docs" / "faults.md").read_text()
    rows = table(doc)
    assert set(rows) == {(p, f) for p in PATTERNS for f in FAULTS}
    ids = parametrized_ids()
    named = set()
    for (pattern, fault), row in rows.items():
        for target in TARGETS:
            cell = row[target]
            refs = REF.findall(cell)
            if not cell.startswith("n/a"):
                assert any(target in r.split("[")[1] for r in refs), (pattern, fault, target, cell)
            for r in refs:
                assert r in ids, (pattern, fault, target, r)
            named |= set(refs)
    assert ids - named == {"test_the_table_names_a_test_for_every_cell"}, sorted(ids - named)
    for path, name in re.findall(r"`(tests/test_[a-z0-9_]+\.py)::(test_[a-z0-9_]+)`", doc):  # tests elsewhere
        assert f"def {name}(" in (ROOT / path).read_text(), (path, name)
