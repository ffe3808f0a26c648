"""Build layer: one bundle per target (per trigger on Lambda@Edge), config injected per target, budgets enforced."""

from __future__ import annotations

import json

import pytest

from conftest import ROOT
from edgeport.build import build_app
from edgeport.errors import BuildError
from edgeport.spec import aws_regions, load_stack
from edgeport.targets import cloudflare

DEV = load_stack("dev", ROOT)


@pytest.fixture(scope="module")
def result(tmp_path_factory):
    return build_app(DEV.app, "dev", tmp_path_factory.mktemp("b"))


def test_one_bundle_per_target(result):
    assert [(a.target, a.event) for a in result.artifacts] == [
        ("cloudflare", None), ("lambda-edge", "viewer-request"), ("lambda-edge", "origin-request"),
        ("lambda-edge", "origin-response"), ("vercel", None)]
    manifest = json.loads(result.manifest_path.read_text())
    assert [a["file"] for a in manifest["artifacts"]] == [
        "cloudflare/worker.mjs", "lambda-edge/viewer-request/index.js", "lambda-edge/origin-request/index.js",
        "lambda-edge/origin-response/index.js", "vercel/middleware.js"]
    assert manifest["targets"]["cloudflare"]["compatibilityDate"] == "2026-04-01"
    assert manifest["origins"]["default"] == "https://origin.example.com"
    assert manifest["targets"]["cloudflare"]["durableObjects"] == {"EDGEPORT_ROOMS": "EdgeportRoom"}
    store = next(b for b in manifest["targets"]["lambda-edge"]["behaviours"] if b["pathPattern"] == "/store/*")
    assert store["country"] is True, "the geo behaviour keys on the country, so CloudFront adds it for origin-request"


def test_every_target_carries_its_config_in_the_bundle(result):
    """The config is declared in front of the engine on every target (Cloudflare too: a JSON binding would be
    limited to 5 KB), so no config file travels beside a bundle."""
    for a in result.artifacts:
        first = a.path.read_bytes().split(b"\n", 1)[0]
        assert b"const __EDGEPORT_CONFIG__=({version:1,app:\"shop\",stack:\"dev\"" in first, a.label
        assert a.config_path is None
    (a,) = result.for_target("cloudflare")
    assert a.config["secrets"] == {"jwt_hmac": {"env": "EDGEPORT_SECRET_JWT_HMAC"}}
    assert a.code.rstrip().endswith("export{Q as default};") or "as default}" in a.code


def test_vercel_config_is_inlined_with_a_static_matcher(result):
    (a,) = result.for_target("vercel")
    assert "https://auth.shop.example.com/" in a.code
    # The dev stack has a guard (jwt-auth): the middleware runs on every path, "//api/x" included.
    assert a.code.rstrip().endswith('export const config = {"matcher":["/(.*)"]};')
    vj = json.loads((a.path.parent / "vercel.json").read_text())
    assert vj == {"rewrites": [{"source": "/:path*", "destination": "https://origin.example.com/:path*"}]}


def test_each_lambda_trigger_gets_only_its_patterns(result):
    names = {a.event: [p["name"] for p in a.config["patterns"]] for a in result.for_target("lambda-edge")}
    assert names == {"viewer-request": ["api-auth", "landing-exp"],
                     "origin-request": ["regional", "landing-exp", "home"],  # variants with their own path or origin
                     "origin-response": ["landing-exp"]}


def test_lambda_config_is_baked_and_the_sdk_is_external(result):
    a = result.for_target("lambda-edge")[0]
    assert "https://auth.shop.example.com/" in a.code
    assert 'require("@aws-sdk/client-secrets-manager")' in a.code
    regions = ["us-east-1", *(r for r in aws_regions.REGIONAL_EDGE_CACHES if r != "us-east-1")]
    assert a.config["secrets"] == {"jwt_hmac": {"env": "EDGEPORT_SECRET_JWT_HMAC", "awsSecretId": "edgeport/shop/dev/jwt_hmac",
                                                "awsRegions": regions, "awsNearest": aws_regions.nearest_holders(regions)}}
    assert a.config["event"] == "viewer-request" and a.config["secretTtl"] == 300


def test_live_settings_never_hold_a_lambda_edge_request(result):
    """Lambda@Edge reads its A/B live ratios in the background (timeoutMs 0: SSM is in us-east-1, possibly an ocean
    away); Cloudflare KV and Edge Config keep the declared wait for a container's first read."""
    def live(a):
        return [p["live"] for p in a.config["patterns"] if p["type"] == "ab-test" and "live" in p]
    waits = {(a.target, a.event): {x["timeoutMs"] for x in live(a)} for a in result.artifacts if live(a)}
    assert waits[("lambda-edge", "viewer-request")] == {0}
    assert waits[("cloudflare", None)] == waits[("vercel", None)] == {200}


def test_sizes_and_budgets(result):
    for a in result.artifacts:
        assert 0 < a.gzip_size < a.size and a.zip_size > a.gzip_size
        assert not a.over_budget
    assert {a.target: a.budget.measure for a in result.artifacts} == {"cloudflare": "gzip", "lambda-edge": "zip", "vercel": "gzip"}
    assert [a.budget.limit for a in result.for_target("lambda-edge")] == [1024 * 1024, 50 * 1024 * 1024, 50 * 1024 * 1024]


def test_builds_are_reproducible(result, tmp_path):
    again = build_app(DEV.app, "dev", tmp_path)
    assert [a.sha256 for a in again.artifacts] == [a.sha256 for a in result.artifacts]


def test_over_budget_is_an_error_with_the_figures(tmp_path, monkeypatch):
    tiny = cloudflare.Budget(1000, "gzip", "test budget")
    monkeypatch.setitem(cloudflare.BUDGETS, "free", tiny)
    with pytest.raises(BuildError, match=r"cloudflare is [\d,]+ B \(gzip\), limit 1,000 B \(test budget\)"):
        build_app(DEV.app, "dev", tmp_path)


def test_a_syntax_error_in_edge_code_names_file_line_column_with_a_code_frame(tmp_path, monkeypatch):
    """esbuild's location survives into the BuildError `build` and a dev reload print: file:line:col relative to
    where edgeport runs, the source line and a caret under the column."""
    from conftest import copy_functions

    fdir = copy_functions(tmp_path)
    geo = fdir / "src" / "patterns" / "geo.ts"
    lines = geo.read_text().splitlines()
    n = next(i for i, line in enumerate(lines) if "ctx.origin = origin;" in line)
    lines[n] = lines[n].replace("origin;", "origin +;")
    geo.write_text("\n".join(lines) + "\n")
    monkeypatch.setenv("EDGEPORT_FUNCTIONS_DIR", str(fdir))
    monkeypatch.chdir(tmp_path)
    st = load_stack("dev", ROOT)
    with pytest.raises(BuildError) as e:
        build_app(st.app, st.name, tmp_path / "out", st.locate)
    text = str(e.value)
    col = lines[n].index(";") + 1
    assert f"functions/src/patterns/geo.ts:{n + 1}:{col}: error: Unexpected \";\"" in text, text
    assert f"  {n + 1} | {lines[n]}" in text and text.rstrip().endswith("^"), text
