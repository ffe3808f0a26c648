"""The CloudFront event corpus (issue #16): AWS-documented events and variants generated from them by rule
(tests/cloudfront_events/run_corpus.mjs), run against the built Lambda@Edge bundles of the dev stack and of the
pattern stack, every result checked by the CloudFront rule checker. One Node process runs the whole corpus."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
import yaml

from edgeport.build import build_app
from edgeport.build.bundler import node_binary
from edgeport.spec import parse_app
from patterns_app import APP

ROOT = Path(__file__).resolve().parent.parent
RUNNER = ROOT / "tests" / "cloudfront_events" / "run_corpus.mjs"

# Paths no pattern of either stack matches, spelled as viewers send them: non-ASCII raw and percent-encoded,
# characters `new URL` would re-encode, a trailing slash.
PASS_THROUGH = ["/picture.jpg", "/images/café/日本.png", "/people/O'Brien", "/caf%C3%A9/menu", "/docs/a-b_c~d/",
                "/Stra%C3%9Fe/%E6%97%A5%E6%9C%AC"]
# Headers a pattern of these stacks may set, strip or rewrite on a matched path (and Host with a switched origin).
MAY_CHANGE = ["cookie", "host", "authorization", "x-user-id", "x-edgeport-claims", "x-edgeport-country",
              "x-edgeport-variant", "x-edgeport-ab-landing-exp", "x-edgeport-ab-exp", "x-edgeport-ab-shop-exp"]

STACKS = {
    "dev": {
        "patterned": [
            {"uri": "/api/orders", "triggers": ["viewer-request"]},  # jwt-auth: 401 without a token
            {"uri": "/landing"},  # ab-test
            {"uri": "/landing/spring/café"},
            {"uri": "/store/items", "triggers": ["origin-request"], "headers": {"cloudfront-viewer-country": "BR"},
             "origin": "kept"},  # geo-route: a country without a rule goes to the default origin
            # the same choice on an event that targets another origin: the request goes to the default origin
            {"uri": "/store/items", "triggers": ["origin-request"], "headers": {"cloudfront-viewer-country": "BR"},
             "origin": "switched"},
            {"uri": "/store/items", "triggers": ["origin-request"], "headers": {"cloudfront-viewer-country": "DE"},
             "origin": "switched"},
            {"uri": "/home", "triggers": ["origin-request"]},  # esi-compose
        ],
    },
    "patterns": {
        "patterned": [
            {"uri": "/api/x", "triggers": ["viewer-request"]},
            {"uri": "/shop/日本", "triggers": ["viewer-request"]},
            {"uri": "/landing/x"},
            {"uri": "/geo/x", "triggers": ["origin-request"], "headers": {"cloudfront-viewer-country": "BR"}, "origin": "kept"},
            {"uri": "/geo/x", "triggers": ["origin-request"], "headers": {"cloudfront-viewer-country": "JP"},
             "origin": "switched"},
            {"uri": "/page/x", "triggers": ["origin-request"]},
        ],
    },
}


def _stack_job(name: str, app_dict: dict, stack: str, out: Path) -> dict:
    build = build_app(parse_app(app_dict), stack, out)
    lambdas = build.for_target("lambda-edge")
    bundles = {a.event: str(a.path) for a in lambdas}
    assert set(bundles) == {"viewer-request", "origin-request", "origin-response"}, bundles
    return {"name": name, "bundles": bundles, "entry": {a.event: a.config["entry"] for a in lambdas},
            "defaultOrigin": app_dict["origins"]["default"],
            "passThrough": PASS_THROUGH, "mayChange": MAY_CHANGE, **STACKS[name]}


@pytest.fixture(scope="module")
def job(tmp_path_factory) -> Path:
    dev = yaml.safe_load((ROOT / "stacks" / "Pulumi.dev.yaml").read_text())["config"]["edgeport:app"]
    stacks = [_stack_job("dev", dev, "dev", tmp_path_factory.mktemp("dev")),
              _stack_job("patterns", APP, "test", tmp_path_factory.mktemp("patterns"))]
    path = tmp_path_factory.mktemp("corpus") / "job.json"
    path.write_text(json.dumps({"stacks": stacks}))
    return path


def run_corpus(job: Path) -> dict:
    # The bundles read their secrets at cold start: fake credentials and a closed endpoint make that read fail at
    # once (the corpus sends no token, so no pattern needs a secret) instead of looking for real AWS credentials.
    env = {**os.environ, "AWS_ACCESS_KEY_ID": "corpus", "AWS_SECRET_ACCESS_KEY": "corpus", "AWS_REGION": "us-east-1",
           "AWS_ENDPOINT_URL": "http://127.0.0.1:9", "AWS_EC2_METADATA_DISABLED": "true"}
    proc = subprocess.run([node_binary(), "--disable-warning=NodeVersionSupportWarning", str(RUNNER), str(job)],
                          capture_output=True, text=True, env=env, timeout=120, cwd=ROOT / "functions")
    assert proc.returncode == 0, proc.stderr[-4000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_cloudfront_event_corpus_passes_on_every_trigger(job):
    summary = run_corpus(job)
    print(f"\nCloudFront event corpus: {summary['events']} invocations "
          f"(by trigger {summary['byTrigger']}, by stack {summary['byStack']}), {len(summary['failures'])} failed")
    assert set(summary["byTrigger"]) == {"viewer-request", "origin-request", "origin-response"}
    shown = "\n".join(f"- {f['name']}: {f['kind']}: {f['message']} {f['logged']}" for f in summary["failures"][:25])
    assert not summary["failures"], f"{len(summary['failures'])} of {summary['events']} events failed:\n{shown}"
