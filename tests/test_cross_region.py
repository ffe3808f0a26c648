"""Lambda@Edge far from its stores: the built viewer-request bundle behind the CloudFront emulation, with a
StoreProxy between it and moto that delays, holds and records every Secrets Manager and SSM call.

Behavioural, with wide margins: what is asserted is which answer a request gets (200, not the emulation's 503 for
a viewer-request past 5 s), how many reads reached the store, in which Region, and whether a store read ended while a request was in
flight (the only way it could have waited) - never how many milliseconds something took.
"""

from __future__ import annotations

import copy
import json
import time
from collections import Counter

import jwt as pyjwt
import pytest

from conftest import echo_origins, request
from edgeport.build import build_app
from edgeport.local.runner import LocalRunner
from edgeport.spec import aws_regions, parse_app
from patterns_app import APP, AUD, HS_KEY, ISS
from test_runtime_patterns import DECLARED, LIVE_KEYS, first_visits, picked_up, variant_of

LE = "lambda-edge"
SECRET_TTL = 10  # the smallest secretTtl: a warm container's secret goes stale within a test
HANG_MS = 60_000  # a store read held this long: a request that waited for it would be the emulation's 503


def stack(secret_regions=None) -> dict:
    raw = copy.deepcopy(APP)
    raw["targets"][LE] = {"secretTtl": SECRET_TTL, **({"secretRegions": secret_regions} if secret_regions is not None else {})}
    return raw


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    app = parse_app(stack())
    return app, build_app(app, "test", tmp_path_factory.mktemp("xregion"))


@pytest.fixture(scope="module")
def origins():
    with echo_origins(APP["origins"]) as started:
        yield started


def runner(built, origins, **kw) -> LocalRunner:
    app, build = built
    return LocalRunner(app, build, {"hs_key": HS_KEY}, {n: o.url for n, o in origins.items()}, **kw)


def token() -> str:
    return pyjwt.encode({"sub": "u1", "iss": ISS, "aud": AUD, "exp": int(time.time()) + 600}, HS_KEY, algorithm="HS256")


def api(base: str):
    return request(base + "/api/orders", headers={"Authorization": f"Bearer {token()}"}, timeout=90)


def assert_served(r, status=200):
    assert "x-edgeport-cloudfront-error" not in r.headers, r.text  # e.g. LambdaLimitExceeded: past the 5 s limit
    assert r.status == status, r.text


def finished_between(proxy, action: str, sent_at: float, answered_at: float) -> bool:
    """Whether a read of `action` ended while a request was in flight: the one way that request could have waited
    for it. (A background read may reach the store only after the response - the SDK resolves credentials and
    signs first, and the SSM read starts in a later task - which, too, is a request that did not wait.)"""
    return any(c.finished is not None and sent_at <= c.finished <= answered_at for c in proxy.reads(action))


# ---------------------------------------------------------------- cold and warm containers


def test_cold_container_behind_a_slow_store_answers_with_one_secret_read(built, origins):
    """1 s for every store call (a Secrets Manager call across an ocean costs 0.6-1 s): the first request of a
    cold container waits for the one secret read the container started while loading, and is served."""
    with runner(built, origins, store_delay_ms=1000) as r:
        base = r.start(LE).url
        assert_served(api(base))
        reads = r.store_proxy.reads("GetSecretValue")
        assert [c.outcome for c in reads] == ["answered"], "one attempt, no retries, no second read"
        for _ in range(3):
            assert_served(api(base))
        assert len(r.store_proxy.reads("GetSecretValue")) == 1, "cached for secretTtl"


def test_warm_container_never_waits_on_a_hanging_store(built, origins):
    """After warm-up, with the secret and the live ratios stale and every store read held for 60 s, requests are
    served from the last good values while one background refresh of each is held."""
    with runner(built, origins, store_delay_ms=0) as r:
        base = r.start(LE).url
        assert_served(api(base))
        assert variant_of(request(base + "/landing").headers.get("set-cookie")) in DECLARED
        time.sleep(SECRET_TTL + 0.5)  # both cached values are now stale (live TTL 1 s)
        r.set_store(LE, delay_ms=HANG_MS)
        r.store_proxy.clear()
        for _ in range(3):
            sent = time.monotonic()
            res = api(base)
            answered = time.monotonic()
            assert_served(res)
            assert not finished_between(r.store_proxy, "GetSecretValue", sent, answered)
            sent = time.monotonic()
            landing = request(base + "/landing", timeout=90)
            answered = time.monotonic()
            assert_served(landing)
            assert variant_of(landing.headers.get("set-cookie")) in DECLARED
            assert not finished_between(r.store_proxy, "GetParameter", sent, answered)
        for action in ("GetSecretValue", "GetParameter"):
            deadline = time.monotonic() + 30
            while not r.store_proxy.reads(action) and time.monotonic() < deadline:
                time.sleep(0.05)
            assert r.store_proxy.reads(action), f"a background refresh of {action} started"
        assert len(r.store_proxy.reads("GetSecretValue")) == 1, "one refresh at a time"
        assert len(r.store_proxy.reads("GetParameter")) == 1


def test_live_ratio_change_behind_a_slow_store_is_picked_up(built, origins):
    """The SSM read is in the background on Lambda@Edge (timeoutMs 0): a change still arrives, TTL plus one
    request plus the store's latency later."""
    with runner(built, origins, store_delay_ms=1000) as r:
        base = r.start(LE).url
        try:
            r.set_live(LE, LIVE_KEYS[LE], json.dumps({"A": 0, "B": 100, "C": 0}))
            request(base + "/landing")
            assert picked_up(base, "B")
            assert first_visits(base, 20) == Counter({"B": 20})
        finally:
            r.set_live(LE, LIVE_KEYS[LE], json.dumps(DECLARED))


def test_store_unreachable_on_a_cold_container_fails_closed(built, origins):
    """No secret value at all: 503 from edgeport, within the viewer-request limit (one attempt with a deadline),
    not the emulation's LambdaLimitExceeded."""
    with runner(built, origins, store_delay_ms=HANG_MS) as r:
        base = r.start(LE).url
        assert_served(api(base), status=503)
        # The proxy notices the client's close on its next poll of the held connection: on a busy machine that can
        # come after the 503 is here, so wait for it (well within HANG_MS, after which it would answer instead).
        deadline = time.monotonic() + 20
        while any(c.outcome == "pending" for c in r.store_proxy.reads("GetSecretValue")) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert [c.outcome for c in r.store_proxy.reads("GetSecretValue")] == ["aborted"], "given up, not retried"


# ---------------------------------------------------------------- replicas


@pytest.mark.parametrize("running, secret_regions, read_from", [
    ("eu-west-3", None, "eu-west-2"),            # Paris: no regional edge cache; London is nearest
    ("ap-southeast-2", None, "ap-southeast-2"),  # Sydney holds a replica
    ("eu-west-3", [], "us-east-1"),              # replication off: the primary
])
def test_secret_is_read_from_the_nearest_region_holding_it(tmp_path, origins, running, secret_regions, read_from):
    app = parse_app(stack(secret_regions))
    with runner((app, build_app(app, "test", tmp_path)), origins, store_delay_ms=0, aws_region=running) as r:
        assert_served(api(r.start(LE).url))
        assert [(c.region, c.outcome) for c in r.store_proxy.reads("GetSecretValue")] == [(read_from, "answered")]
        assert {c.region for c in r.store_proxy.reads("GetParameter")} <= {"us-east-1"}, "SSM stays in us-east-1"


def test_the_bundle_carries_the_answers_for_its_secret_regions_not_the_table(tmp_path):
    """Each secret's config holds nearest_holders(its Regions) (spec/aws_regions.py), which the edge code reads for
    step 2 of its rule; the table of nearby Regions itself stays in Python."""
    app = parse_app(stack(["eu-west-3", "ap-southeast-2"]))
    art = next(a for a in build_app(app, "test", tmp_path).for_target(LE) if a.config.get("secrets"))
    for ref in art.config["secrets"].values():
        assert ref["awsRegions"] == ["us-east-1", "eu-west-3", "ap-southeast-2"]
        assert ref["awsNearest"] == aws_regions.nearest_holders(ref["awsRegions"])
        assert ref["awsNearest"]["eu-west-2"] == "eu-west-3" and ref["awsNearest"]["ap-southeast-4"] == "ap-southeast-2"
    assert '"ap-southeast-7"' not in art.code.split("\n", 1)[1], "the engine has no Region table"
