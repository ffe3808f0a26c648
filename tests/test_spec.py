"""Spec layer: stack declarations are typed and every mistake is reported with its key, line and a fix."""

from __future__ import annotations

import copy

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from conftest import ROOT, write_project
from edgeport.errors import SpecError
from edgeport.patterns.jwt_auth import JwtAuth
from edgeport.spec import load_stack, parse_app
from edgeport.spec import capabilities, geo
from edgeport.targets import lambda_edge
from edgeport.spec import routes
from edgeport.spec.runtime import chain_order, runtime_config

BASE = {
    "name": "shop",
    "origins": {"default": "https://origin.example.com", "eu": "https://eu.origin.example.com"},
    "targets": {
        "cloudflare": {"accountId": "0" * 32, "zoneId": "1" * 32, "hostname": "shop.example.com"},
        "lambda-edge": {},
        "vercel": {"projectName": "shop-edge"},
    },
    "patterns": [
        {"name": "api-auth", "type": "jwt-auth", "routes": ["/api/*"], "algorithms": ["HS256"], "secret": "jwt_hmac"},
    ],
}


def app_with(**changes):
    raw = copy.deepcopy(BASE)
    for path, value in changes.items():
        node = raw
        keys = path.split("__")
        for k in keys[:-1]:
            node = node[int(k)] if k.isdigit() else node[k]
        last = keys[-1]
        if value is _DELETE:
            del node[last]
        elif last.isdigit():
            node[int(last)] = value
        else:
            node[last] = value
    return raw


_DELETE = object()


def issues_of(raw) -> list:
    with pytest.raises(SpecError) as e:
        parse_app(raw, file="stacks/Pulumi.t.yaml")
    return e.value.issues


def one_issue(raw):
    found = issues_of(raw)
    assert len(found) == 1, [i.format() for i in found]
    return found[0]


def test_base_is_valid():
    app = parse_app(copy.deepcopy(BASE))
    assert app.targets.names() == ["cloudflare", "lambda-edge", "vercel"]
    assert isinstance(app.patterns[0], JwtAuth)
    assert app.secret_names() == ["jwt_hmac"]


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_example_stacks_load(stack):
    st = load_stack(stack, ROOT)
    assert st.app.name == "shop"
    assert set(st.app.targets.names()) == {"cloudflare", "lambda-edge", "vercel"}


def test_unknown_key_suggests_the_right_one():
    raw = app_with(**{"patterns__0__secrt": "x"})
    i = one_issue(raw)
    assert i.path == "edgeport:app.patterns[0].secrt"
    assert "unknown key 'secrt'" in i.message
    assert "did you mean 'secret'" in i.hint


def test_unknown_target_key():
    i = one_issue(app_with(**{"targets__fastly": {}}))
    assert i.path == "edgeport:app.targets.fastly"
    assert "cloudflare" in i.hint and "lambda-edge" in i.hint


def test_secret_regions_default_to_cloudfronts_regional_edge_caches():
    regions = parse_app(app_with()).targets.lambda_edge.secret_regions
    assert regions[0] == "us-east-1" and len(regions) == 12 and "eu-west-2" in regions and "sa-east-1" in regions
    assert parse_app(app_with(**{"targets__lambda-edge__secretRegions": []})).targets.lambda_edge.secret_regions == []


def test_secret_regions_are_known_regions_listed_once():
    problems = issues_of(app_with(**{"targets__lambda-edge__secretRegions": ["eu-west-1", "eu-wset-3", "eu-west-1", "us-gov-west-1"]}))
    by_path = {i.path: i for i in problems}
    assert set(by_path) == {f"edgeport:app.targets.lambda-edge.secretRegions[{n}]" for n in (1, 2, 3)}
    assert "did you mean 'eu-west-3'" in by_path["edgeport:app.targets.lambda-edge.secretRegions[1]"].hint
    assert "twice" in by_path["edgeport:app.targets.lambda-edge.secretRegions[2]"].message
    assert "not an AWS Region" in by_path["edgeport:app.targets.lambda-edge.secretRegions[3]"].message


def test_wrong_type_names_the_key_and_the_types():
    i = one_issue(app_with(**{"patterns__0__leeway": "thirty"}))
    assert i.path == "edgeport:app.patterns[0].leeway"
    assert "expected an integer, got a string" in i.message


def test_unquoted_numeric_id_gets_a_quoting_hint():
    i = one_issue(app_with(**{"targets__cloudflare__accountId": 0}))
    assert i.path == "edgeport:app.targets.cloudflare.accountId"
    assert "quotes" in i.hint


def test_bad_id_format_explains_where_to_find_it():
    i = one_issue(app_with(**{"targets__cloudflare__zoneId": "not-a-zone"}))
    assert i.path == "edgeport:app.targets.cloudflare.zoneId"
    assert "zone id" in i.hint


def test_missing_required_key():
    i = one_issue(app_with(**{"patterns__0__algorithms": _DELETE}))
    assert i.path == "edgeport:app.patterns[0]"
    assert "'algorithms' is missing" in i.message


def test_unknown_pattern_type():
    i = one_issue(app_with(**{"patterns__0__type": "jwt"}))
    assert "unknown pattern type 'jwt'" in i.message
    assert "jwt-auth" in i.hint


@pytest.mark.parametrize("route, fragment", [
    ("api/*", "must start with '/'"),
    ("/api/*/x", "may only end a route"),
    ("/a?b=1", "paths only"),
    ("/a/../b", "normalised path"),
    ("//a", "normalised path"),
    ("/a b", "not allowed in a URL path"),
    ("/" + "a" * 300, "255-character"),
])
def test_bad_routes(route, fragment):
    i = one_issue(app_with(**{"patterns__0__routes": ["/ok", route]}))
    assert i.path == "edgeport:app.patterns[0].routes[1]"
    assert fragment in i.message


def test_route_matchers():
    assert routes.matcher("/api/*") == {"prefix": "/api/"}
    assert routes.matcher("/img*") == {"prefix": "/img"}
    assert routes.matcher("/account") == {"exact": "/account"}
    assert routes.contains("/api/*", "/api/v1/*") and routes.contains("/api/*", "/api/x") and routes.contains("/x", "/x")
    assert not routes.contains("/api/v1/*", "/api/*") and not routes.contains("/api/*", "/apix")


def test_duplicate_pattern_names():
    raw = app_with()
    raw["patterns"].append(copy.deepcopy(raw["patterns"][0]))
    i = one_issue(raw)
    assert i.path == "edgeport:app.patterns[1].name"
    assert "duplicate pattern name 'api-auth'" in i.message


def test_realtime_room_on_vercel_names_cloudflare():
    raw = app_with()
    raw["patterns"].append({"name": "rooms", "type": "realtime-room", "routes": ["/ws/*"]})
    found = issues_of(raw)
    msgs = {i.message.split(":")[0] for i in found}
    assert msgs == {"realtime-room cannot run on lambda-edge", "realtime-room cannot run on vercel"}
    assert all("targets that can host it: cloudflare" in i.hint for i in found)
    raw["patterns"][1]["targets"] = ["cloudflare"]
    parse_app(raw)  # explicit target: valid


def test_pattern_targeting_an_undeclared_target():
    raw = app_with(**{"targets__vercel": _DELETE, "patterns__0__targets": ["vercel"]})
    i = one_issue(raw)
    assert i.path == "edgeport:app.patterns[0].targets"
    assert "no targets.vercel section" in i.message


def test_ratios_must_sum_to_100():
    raw = app_with()
    raw["patterns"].append({"name": "exp", "type": "ab-test", "routes": ["/landing"],
                            "variants": [{"name": "A", "weight": 60}, {"name": "B", "weight": 30}]})
    i = one_issue(raw)
    assert i.path == "edgeport:app.patterns[1].variants"
    assert "sum to 90 (A 60 + B 30), not 100" in i.message


@pytest.mark.parametrize("code, hint", [("UK", "GB"), ("EL", "GR"), ("de", "upper case"), ("XY", "ISO 3166-1"), ("ZZ", "ISO")])
def test_unknown_country_codes(code, hint):
    raw = app_with()
    raw["patterns"].append({"name": "geo", "type": "geo-route", "routes": ["/*"],
                            "rules": [{"countries": ["FR", code], "origin": "eu"}]})
    i = one_issue(raw)
    assert i.path == "edgeport:app.patterns[1].rules[0].countries[1]"
    assert hint in i.hint


def test_geo_groups_and_overlaps():
    raw = app_with()
    raw["patterns"].append({"name": "geo", "type": "geo-route", "routes": ["/*"],
                            "rules": [{"countries": ["EU"], "origin": "eu"}, {"countries": ["DE"], "origin": "default"}]})
    i = one_issue(raw)
    assert i.path == "edgeport:app.patterns[1].rules[1].countries[0]"
    assert "DE is already routed by rules[0]" in i.message


def test_geo_groups_match_pycountry():
    assert len(geo.EU27) == 27 and len(geo.EEA) == 30
    assert all(geo.is_country(c) for c in geo.EEA)
    assert not ({"GB", "CH"} & geo.EEA)


def test_hs256_without_secret():
    i = one_issue(app_with(**{"patterns__0__secret": _DELETE}))
    assert "HS256 needs an HMAC key" in i.message and "secret:" in i.hint


def test_rs256_without_keys():
    i = one_issue(app_with(**{"patterns__0__algorithms": ["HS256", "RS256"]}))
    assert "RS256 needs public keys" in i.message


def _ec_jwk(**extra):
    n = ec.generate_private_key(ec.SECP256R1()).public_key().public_numbers()
    import base64

    b = lambda i: base64.urlsafe_b64encode(i.to_bytes(32, "big")).rstrip(b"=").decode()  # noqa: E731
    return {"kty": "EC", "crv": "P-256", "x": b(n.x), "y": b(n.y), **extra}


def _rsa_jwk(bits=2048, **extra):
    import base64

    n = rsa.generate_private_key(public_exponent=65537, key_size=bits).public_key().public_numbers()
    b = lambda i: base64.urlsafe_b64encode(i.to_bytes((i.bit_length() + 7) // 8, "big")).rstrip(b"=").decode()  # noqa: E731
    return {"kty": "RSA", "n": b(n.n), "e": b(n.e), **extra}


def _jwks_app(*keys, algs=("ES256",)):
    return app_with(**{"patterns__0__algorithms": list(algs), "patterns__0__secret": _DELETE,
                       "patterns__0__jwks": {"keys": list(keys)}})


def test_valid_jwks():
    app = parse_app(_jwks_app(_ec_jwk(kid="e1"), _rsa_jwk(kid="r1"), algs=("ES256", "RS256")))
    cfg = runtime_config(app, "t", "cloudflare")
    assert [k["kid"] for k in cfg["patterns"][0]["jwks"]["keys"]] == ["e1", "r1"]


def test_private_key_material_is_refused():
    i = one_issue(_jwks_app(_ec_jwk(kid="e1", d="c2VjcmV0")))
    assert "private key material (d)" in i.message
    assert i.path == "edgeport:app.patterns[0].jwks.keys[0]"


def test_small_rsa_key_is_refused():
    found = issues_of(_jwks_app(_rsa_jwk(bits=1024, kid="r1"), algs=("RS256",)))
    assert any("1024 bits" in i.message and "2048" in i.hint for i in found)


def test_ec_point_off_curve_is_refused():
    k = _ec_jwk(kid="e1")
    k["y"] = k["x"]
    i = one_issue(_jwks_app(k))
    assert "not a point on P-256" in i.message


def test_symmetric_key_in_jwks_is_refused():
    i = one_issue(_jwks_app({"kty": "oct", "k": "AyM1Sys"}, _ec_jwk()))
    assert "symmetric (oct)" in i.message


def test_ambiguous_keys_need_kids():
    i = one_issue(_jwks_app(_ec_jwk(), _ec_jwk(kid="b")))
    assert "not all have a kid" in i.message


def test_unknown_origin_reference():
    raw = app_with()
    raw["patterns"].append({"name": "exp", "type": "ab-test", "routes": ["/landing"],
                            "variants": [{"name": "A", "weight": 50}, {"name": "B", "weight": 50, "origin": "beta"}]})
    i = one_issue(raw)
    assert i.path == "edgeport:app.patterns[1].variants[1].origin"
    assert "known: default, eu" in i.hint


def test_every_problem_is_reported_at_once():
    raw = app_with(**{"patterns__0__secret": _DELETE})
    raw["patterns"].append({"name": "api-auth", "type": "realtime-room", "routes": ["/ws/*"], "targets": ["cloudflare"]})
    assert len(issues_of(raw)) == 2


def test_errors_carry_file_and_line(tmp_path):
    write_project(tmp_path, {"t": """\
config:
  edgeport:app:
    name: shop
    origins:
      default: https://origin.example.com
    targets:
      vercel: {}
    patterns:
      - name: api
        type: jwt-auth
        routes: ["/api/*"]
        algorithms: [HS256]
        secret: jwt_hmac
        leeway: 9999
"""})
    with pytest.raises(SpecError) as e:
        load_stack("t", tmp_path)
    (i,) = e.value.issues
    assert (i.file, i.line, i.path) == ("stacks/Pulumi.t.yaml", 14, "edgeport:app.patterns[0].leeway")
    assert i.format().startswith("stacks/Pulumi.t.yaml:14: edgeport:app.patterns[0].leeway:")


def test_yaml_syntax_error_is_located(tmp_path):
    write_project(tmp_path, {"t": "config:\n  edgeport:app:\n    name: [shop\n"})
    with pytest.raises(SpecError) as e:
        load_stack("t", tmp_path)
    assert e.value.issues[0].line is not None and "not valid YAML" in e.value.issues[0].message


def test_chain_order_puts_geo_before_auth():
    raw = app_with()
    raw["patterns"].insert(0, {"name": "exp", "type": "ab-test", "routes": ["/api/*"],
                               "variants": [{"name": "A", "weight": 50}, {"name": "B", "weight": 50}]})
    raw["patterns"].append({"name": "geo", "type": "geo-route", "routes": ["/*"], "rules": [{"countries": ["EU"], "origin": "eu"}]})
    assert [p.type for p in chain_order(parse_app(raw))] == ["geo-route", "jwt-auth", "ab-test"]


def test_capability_matrix_is_complete():
    for p in capabilities.PATTERN_TYPES:
        for t in capabilities.TARGETS:
            c = capabilities.capability(p, t)
            assert c.how
            if t == "lambda-edge" and c.supported:
                assert c.events and set(c.events) <= set(lambda_edge.TRIGGERS)
    assert capabilities.hosts("realtime-room") == ["cloudflare"]
    assert capabilities.events("ab-test", "lambda-edge") == ("viewer-request", "origin-response")
    assert capabilities.events("geo-route", "lambda-edge") == ("origin-request",)


def test_runtime_config_strips_client_identity_headers():
    raw = app_with(**{"patterns__0__forward": {"claims": {"x-user-id": "sub"}}, "patterns__0__stripHeaders": ["x-role"]})
    cfg = runtime_config(parse_app(raw), "t", "vercel")
    # Every request loses them on entry, whichever pattern (if any) covers it.
    assert cfg["entry"] == {"strip": ["x-edgeport-claims", "x-role", "x-user-id"], "keep": []}
    assert cfg["patterns"][0]["guard"] is True


# ---------------------------------------------------------------- secret values in the stack file

DEV_APP = (ROOT / "stacks" / "Pulumi.dev.yaml").read_text()


def test_plaintext_secret_in_the_stack_file_is_refused(tmp_path):
    write_project(tmp_path, {"t": DEV_APP + "  edgeport:jwt_hmac: hunter2-but-longer-than-32-bytes-xxxxx\n"})
    with pytest.raises(SpecError) as e:
        load_stack("t", tmp_path)
    (i,) = e.value.issues
    line = DEV_APP.count("\n") + 1
    assert (i.file, i.line, i.path) == ("stacks/Pulumi.t.yaml", line, "edgeport:jwt_hmac")
    assert "plain text" in i.message
    assert "pulumi config set --secret jwt_hmac <value> -s t" in i.hint and "EDGEPORT_SECRET_JWT_HMAC" in i.hint
    assert "hunter2" not in e.value.format(), "the value itself is never repeated"


def test_plaintext_look_alike_keys_are_refused_and_other_keys_are_not(tmp_path):
    write_project(tmp_path, {"t": DEV_APP + "  edgeport:JWT-HMAC: plain\n  edgeport:EDGEPORT_SECRET_JWT_HMAC: plain\n"
                                           "  edgeport:jwt_hmca: plain\n  edgeport:region: eu-west-1\n  edgeport:jwt_hmac:\n"
                                           "    secure: v1:AAAABBBB\n"})
    with pytest.raises(SpecError) as e:
        load_stack("t", tmp_path)
    assert [i.path for i in e.value.issues] == ["edgeport:JWT-HMAC", "edgeport:EDGEPORT_SECRET_JWT_HMAC", "edgeport:jwt_hmca"]
    assert all("looks like secret jwt_hmac" in i.message and "--secret jwt_hmac" in i.hint for i in e.value.issues)
    write_project(tmp_path, {"t": DEV_APP + "  edgeport:region: eu-west-1\n  edgeport:jwt_hmac:\n    secure: v1:AAAABBBB\n"})
    assert load_stack("t", tmp_path).secret_configured("jwt_hmac")


def test_plaintext_secret_is_listed_with_the_other_problems(tmp_path):
    write_project(tmp_path, {"t": DEV_APP.replace("leeway: 30", "leeway: 9999") + "  edgeport:jwt_hmac: 12345\n"})
    with pytest.raises(SpecError) as e:
        load_stack("t", tmp_path)
    assert [i.path for i in e.value.issues] == ["edgeport:app.patterns[0].leeway", "edgeport:jwt_hmac"]


def test_pulumi_up_checks_the_stack_file_too(tmp_path):
    from edgeport.spec.loader import stack_file_secret_issues

    path = write_project(tmp_path, {"t": DEV_APP + "  edgeport:jwt_hmac: plain\n"}) / "stacks" / "Pulumi.t.yaml"
    (i,) = stack_file_secret_issues(path, "t", "stacks/Pulumi.t.yaml")
    assert i.path == "edgeport:jwt_hmac" and i.line == DEV_APP.count("\n") + 1


# ---------------------------------------------------------------- local secret values


def _hs_app(alg="HS256", encoding="utf8"):
    return parse_app(app_with(**{"patterns__0__algorithms": [alg], "patterns__0__secretEncoding": encoding}))


def test_short_local_secret_names_the_environment_variable():
    from edgeport.errors import LocalSecretError
    from edgeport.spec.secret_refs import resolve_local

    with pytest.raises(LocalSecretError) as e:
        resolve_local(_hs_app(), ROOT / "nonexistent", environ={"EDGEPORT_SECRET_JWT_HMAC": "short"}, stack="t")
    (i,) = e.value.issues
    assert (i.file, i.line, i.path) == ("environment variable EDGEPORT_SECRET_JWT_HMAC", None, "jwt_hmac")
    assert "5 bytes; HS256 needs at least 32" in i.message
    assert "unset EDGEPORT_SECRET_JWT_HMAC" in i.hint and "secrets init-local --stack t" in i.hint and "token_urlsafe(32)" in i.hint
    assert e.value.exit_code == 1


def test_short_local_secret_names_the_dev_vars_line(tmp_path):
    from edgeport.errors import LocalSecretError
    from edgeport.spec.secret_refs import resolve_local

    (tmp_path / ".dev.vars").write_text("# local\nother=x\nEDGEPORT_SECRET_JWT_HMAC='" + "a" * 40 + "'\n")
    with pytest.raises(LocalSecretError) as e:
        resolve_local(_hs_app("HS512"), tmp_path, environ={})
    (i,) = e.value.issues
    assert (i.file, i.line) == (str(tmp_path / ".dev.vars"), 3)
    assert "40 bytes; HS512 needs at least 64" in i.message
    assert "delete line 3 (EDGEPORT_SECRET_JWT_HMAC=...)" in i.hint and "only adds names that are missing" in i.hint
    assert i.format().startswith(f"{tmp_path / '.dev.vars'}:3: jwt_hmac: value is 40 bytes")


@pytest.mark.parametrize("value", ["a" * 43 + "=", "a" * 42 + "+/", "a" * 42 + "B", "a" * 45])
def test_undecodable_base64url_secret_is_refused_like_the_edge_refuses_it(value):
    # padding, the standard alphabet, non-zero unused bits, an impossible length: functions/src/core/b64.ts refuses each
    from edgeport.errors import LocalSecretError
    from edgeport.spec.secret_refs import resolve_local
    from edgeport.spec.validate import check_secret_value

    app = _hs_app(encoding="base64url")
    with pytest.raises(LocalSecretError, match="not valid base64url"):
        resolve_local(app, ROOT / "nonexistent", environ={"EDGEPORT_SECRET_JWT_HMAC": value})
    assert "not valid base64url" in check_secret_value("jwt_hmac", value, app)[0]


def test_good_local_secrets_pass_and_missing_ones_are_reported_or_left_out(tmp_path):
    import secrets as random

    from edgeport.errors import EdgeportError
    from edgeport.spec.secret_refs import init_local, resolve_local

    app = _hs_app("HS512", "base64url")
    with pytest.raises(EdgeportError, match="no local value for secret jwt_hmac"):
        resolve_local(app, tmp_path, environ={})
    assert resolve_local(app, tmp_path, environ={}, missing_ok=True) == {}
    assert init_local(["jwt_hmac"], tmp_path) == ["jwt_hmac"]
    # what init-local writes is long enough for HS512 in either encoding
    assert len(resolve_local(app, tmp_path, environ={})["jwt_hmac"]) >= 86
    assert len(resolve_local(_hs_app("HS512"), tmp_path, environ={})["jwt_hmac"]) >= 64
    v = random.token_urlsafe(64)
    assert resolve_local(app, tmp_path, environ={"EDGEPORT_SECRET_JWT_HMAC": v}) == {"jwt_hmac": v}


# ---------------------------------------------------------------- ROCA (CVE-2017-15361)


def _is_probable_prime(n: int, rounds: int = 32) -> bool:
    import random

    if n < 2:
        return False
    for small in (2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37):
        if n % small == 0:
            return n == small
    d, s = n - 1, 0
    while d % 2 == 0:
        d, s = d // 2, s + 1
    for _ in range(rounds):
        x = pow(random.randrange(2, n - 1), d, n)
        if x in (1, n - 1):
            continue
        for _ in range(s - 1):
            x = x * x % n
            if x == n - 1:
                break
        else:
            return False
    return True


def _rsalib_style_prime(bits: int = 1024) -> int:
    """A prime built the way Infineon's RSALib built them: k * M + (65537^a mod M)."""
    import math
    import random

    from edgeport.spec import roca

    m = math.prod(roca.PRIMES)
    while True:
        # p in [1.5, 2) * 2^(bits-1): the product of two such primes has exactly 2 * bits bits
        k = random.randrange((3 << (bits - 2)) // m + 1, (1 << bits) // m - 1)
        p = k * m + pow(roca.GENERATOR, random.getrandbits(64), m)
        if _is_probable_prime(p):
            return p


def _jwk_from_numbers(n: int, e: int = 65537, **extra) -> dict:
    import base64

    b = lambda i: base64.urlsafe_b64encode(i.to_bytes((i.bit_length() + 7) // 8, "big")).rstrip(b"=").decode()  # noqa: E731
    return {"kty": "RSA", "n": b(n), "e": b(e), **extra}


def test_roca_primes_and_subgroups_are_the_detectors():
    from edgeport.spec import roca

    assert roca.PRIMES == tuple(r for r in range(3, 168) if all(r % d for d in range(2, r)))
    assert len(roca.PRIMES) == 38
    # residues the published detector accepts (as listed in D. J. Bernstein's note on it, blog.cr.yp.to 2017-11-05)
    assert roca.subgroup(11) == {1, 10} and roca.subgroup(37) == {1, 10, 26}
    assert roca.subgroup(13) == {1, 3, 4, 9, 10, 12} and roca.subgroup(97) == {1, 35, 36, 61, 62, 96}
    assert roca.subgroup(167) == set(range(1, 167))  # a primitive root there: that prime tells nothing
    assert roca.false_positive_rate() < 1e-8


def test_roca_fingerprint_on_an_rsalib_style_modulus():
    from edgeport.spec.roca import has_roca_fingerprint

    p, q = _rsalib_style_prime(), _rsalib_style_prime()
    assert has_roca_fingerprint(p * q) and (p * q).bit_length() == 2048
    assert not has_roca_fingerprint(p * q + 2) and not has_roca_fingerprint(0) and not has_roca_fingerprint(-p * q)


def test_random_keys_do_not_have_the_roca_fingerprint():
    import random

    from edgeport.spec.roca import has_roca_fingerprint

    keys = [rsa.generate_private_key(65537, 2048).public_key().public_numbers().n for _ in range(20)]
    assert not any(has_roca_fingerprint(n) for n in keys)
    assert not any(has_roca_fingerprint(random.getrandbits(2048) | 1) for _ in range(20000))


def test_roca_key_in_jwks_is_refused():
    p, q = _rsalib_style_prime(), _rsalib_style_prime()
    i = one_issue(_jwks_app(_jwk_from_numbers(p * q, kid="tpm"), algs=("RS256",)))
    assert i.path == "edgeport:app.patterns[0].jwks.keys[0].n"
    assert "ROCA" in i.message and "CVE-2017-15361" in i.message
    assert i.hint.startswith("regenerate the key pair on an unaffected device/library and publish the new public key")
    ok = rsa.generate_private_key(65537, 2048).public_key().public_numbers()
    parse_app(_jwks_app(_jwk_from_numbers(ok.n, kid="fine"), algs=("RS256",)))


# ---------------------------------------------------------------- maxTokenBytes against request-header limits


def _limit_issues(raw, target):
    from edgeport.targets import profile

    app = parse_app(raw)
    m = profile(target)
    return m.check_limits(app, "t", m.bundles(app, "t"))


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_example_stacks_fit_every_targets_request_headers(stack):
    from edgeport.build.bundler import units_for

    st = load_stack(stack, ROOT)
    assert units_for(st.app, stack, st.locate)  # raises SpecError on any platform limit


def test_default_max_token_bytes_fits_lambda_edge_with_default_forwarding():
    from edgeport.targets import lambda_edge
    from edgeport.patterns.jwt_auth import largest_token_that_fits

    p = parse_app(app_with(**{"patterns__0__forward": {"claims": {"x-user-id": "sub", "x-tenant": "tid"}}})).patterns[0]
    assert p.max_token_bytes == 7168 and p.forward.token and p.forward.claims_header
    assert largest_token_that_fits(p, lambda_edge.REQUEST_HEADERS) >= 7168
    # the previous default did not fit: the token travels twice (Authorization and the claims header)
    assert largest_token_that_fits(p, lambda_edge.REQUEST_HEADERS) < 8192


def test_large_tokens_over_cloudfronts_header_limit():
    raw = app_with(**{"patterns__0__maxTokenBytes": 12288, "patterns__0__forward": {"claims": {"x-user-id": "sub"}}})
    (i,) = _limit_issues(raw, "lambda-edge")
    assert i.path == "edgeport:app.patterns[0].maxTokenBytes"
    assert "tokens up to 12,288 B" in i.message and "20,480 B of request line + headers" in i.message
    assert "x-edgeport-claims 12,309 B" in i.message and "4,096 B for ordinary headers" in i.message
    assert "lower maxTokenBytes to 8,035 or less" in i.hint
    assert "forward.token: false" in i.hint and "forward.claimsHeader: null" in i.hint
    assert _limit_issues(raw, "cloudflare") == [] and _limit_issues(raw, "vercel") == []
    # either forwarding change alone is enough here; without forwarding the incoming token alone counts
    assert _limit_issues(app_with(**{"patterns__0__maxTokenBytes": 12288, "patterns__0__forward": {"token": False}}), "lambda-edge") == []
    bare = {"token": False, "claimsHeader": None}
    (i,) = _limit_issues(app_with(**{"patterns__0__maxTokenBytes": 16384, "patterns__0__forward": bare}), "lambda-edge")
    assert "the token header is 16,408 B" in i.message and i.hint == "lower maxTokenBytes to 16,360 or less"
    assert _limit_issues(app_with(**{"patterns__0__maxTokenBytes": 16360, "patterns__0__forward": bare}), "lambda-edge") == []


@pytest.mark.parametrize("target", ["cloudflare", "vercel"])
def test_tokens_over_16_kb_per_header(target):
    (i,) = _limit_issues(app_with(**{"patterns__0__maxTokenBytes": 16384, "patterns__0__forward": {"token": False, "claimsHeader": None}}),
                         target)
    assert "one header would be 16,408 B" in i.message and "16,000 B per header" in i.message
    assert "lower maxTokenBytes to 15,976 or less" == i.hint


def test_patterns_on_other_targets_are_not_sized_against_this_one():
    raw = app_with(**{"patterns__0__maxTokenBytes": 12288, "patterns__0__targets": ["cloudflare", "vercel"]})
    assert _limit_issues(raw, "lambda-edge") == []


def test_header_limit_issues_carry_file_and_line(tmp_path):
    write_project(tmp_path, {"t": DEV_APP.replace("        secret: jwt_hmac\n", "        secret: jwt_hmac\n        maxTokenBytes: 12288\n")})
    with pytest.raises(SpecError) as e:  # load_stack runs the static platform limits (validate refuses it too)
        load_stack("t", tmp_path)
    (i,) = e.value.issues
    line = DEV_APP.split("\n").index("        secret: jwt_hmac") + 2
    assert (i.file, i.line, i.path) == ("stacks/Pulumi.t.yaml", line, "edgeport:app.patterns[0].maxTokenBytes")


def test_a_token_in_a_cookie_reaches_the_origin_even_without_forward_token():
    fwd = {"token": False, "claims": {"x-user-id": "sub"}}
    raw = app_with(**{"patterns__0__maxTokenBytes": 12288, "patterns__0__forward": fwd})
    assert _limit_issues(raw, "lambda-edge") == []
    (i,) = _limit_issues(app_with(**{"patterns__0__maxTokenBytes": 12288, "patterns__0__forward": fwd,
                                     "patterns__0__token": {"cookie": "session"}}), "lambda-edge")
    assert "forward.token" not in i.hint and "forward.claimsHeader: null" in i.hint


def test_dns_record_conflicts_are_refused_with_the_key():
    # A Workers custom domain creates its own record and fails (code 100117) when one exists.
    i = one_issue(app_with(targets__cloudflare__dns=True, targets__cloudflare__customDomain=True))
    assert i.path == "edgeport:app.targets.cloudflare.dns" and "code 100117" in i.message
    assert "remove dns" in i.hint
    # One record cannot stand for every subdomain a wildcard route serves.
    i = one_issue(app_with(targets__cloudflare__dns=True, targets__cloudflare__hostname="*.example.com"))
    assert i.path == "edgeport:app.targets.cloudflare.dns" and "wildcard hostname '*.example.com'" in i.message
    i = one_issue(app_with(targets__cloudflare__customDomain=True, targets__cloudflare__hostname="*.example.com"))
    assert i.path == "edgeport:app.targets.cloudflare.customDomain"
    assert parse_app(app_with(targets__cloudflare__dns=True)).targets.cloudflare.dns is True


# CloudFront custom origins: domain names only, ports 80, 443 or 1024-65535 (lambda-event-structure.html,
# DownloadDistValuesOrigin.html); validate.py cites both.
@pytest.mark.parametrize("url, what", [
    ("https://192.0.2.10", "IP address"),
    ("https://127.0.0.1:8443", "IP address"),
    ("http://[2001:db8::1]", "IP address"),
    ("https://127.1", "IP address"),
    ("https://origin.example.com:1000", "port 1000"),
    ("http://origin.example.com:81", "port 81"),
    ("https://origin.example.com:22", "port 22"),
    ("https://origin.example.com:1023", "port 1023"),
])
def test_lambda_edge_refuses_origins_cloudfront_refuses(url, what):
    i = one_issue(app_with(origins__eu=url))
    assert i.path == "edgeport:app.origins.eu"
    assert what in i.message
    assert i.hint


@pytest.mark.parametrize("url", ["https://origin.example.com:443", "http://origin.example.com:80", "https://origin.example.com:1024",
                                 "https://origin.example.com:65535", "https://origin.example.com:8443/base", "https://1a.example.com"])
def test_lambda_edge_accepts_origins_cloudfront_accepts(url):
    parse_app(app_with(origins__eu=url))


def test_origin_rule_only_binds_stacks_with_a_lambda_edge_target():
    raw = app_with(origins__eu="https://192.0.2.10:8080", **{"targets__lambda-edge": _DELETE})
    parse_app(raw)


def test_ip_origin_and_bad_port_are_two_problems():
    assert len(issues_of(app_with(origins__eu="https://192.0.2.10:8"))) == 2


def test_a_compatibility_date_the_local_workerd_cannot_run_is_refused():
    from edgeport.targets.cloudflare import NEWEST_LOCAL_DATE

    assert not issues_of_or_none(app_with(**{"targets__cloudflare__compatibilityDate": NEWEST_LOCAL_DATE}))
    i = one_issue(app_with(**{"targets__cloudflare__compatibilityDate": "2099-01-01"}))
    assert i.path == "edgeport:app.targets.cloudflare.compatibilityDate"
    assert "newest date the pinned workerd" in i.message and NEWEST_LOCAL_DATE in i.hint


def issues_of_or_none(raw):
    try:
        parse_app(raw, file="stacks/Pulumi.t.yaml")
    except SpecError as e:
        return e.issues
    return None


def test_duplicate_yaml_keys_are_reported_with_both_lines(tmp_path):
    text = (ROOT / "stacks" / "Pulumi.dev.yaml").read_text().replace("    name: shop\n", "    name: shop\n    name: other\n", 1)
    assert "name: other" in text
    write_project(tmp_path, {"t": text})
    with pytest.raises(SpecError) as e:
        load_stack("t", tmp_path)
    [i] = [i for i in e.value.issues if "written twice" in i.message]
    first = text.splitlines().index("    name: shop") + 1
    assert (i.path, i.line, i.file) == ("edgeport:app.name", first + 1, "stacks/Pulumi.t.yaml")
    assert f"first on line {first}" in i.message
