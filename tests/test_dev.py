"""`edgeport dev`: serves every target of the dev stack, then stops every child on SIGINT/SIGTERM."""

from __future__ import annotations

import json
import os
import re
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

import jwt as pyjwt
import pytest

from conftest import ROOT, copy_functions, request, stop_dev


def descendants(pid: int) -> set[int]:
    children: dict[int, list[int]] = {}
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                ppid = int((d / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(d.name))
    out, todo = set(), [pid]
    while todo:
        for c in children.get(todo.pop(), []):
            if c not in out:
                out.add(c)
                todo.append(c)
    return out


def alive(pid: int) -> bool:
    try:
        state = (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_dev_serves_every_target_and_stops_cleanly(sig):
    secret = secrets.token_urlsafe(40)
    env = {**os.environ, "EDGEPORT_SECRET_JWT_HMAC": secret, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "edgeport.cli", "dev", "--stack", "dev", "--port", "0"], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    urls: dict[str, str] = {}
    try:
        deadline = time.monotonic() + 90
        for line in proc.stdout:
            m = re.match(r"\s+(cloudflare|vercel|lambda-edge)\s+(http://127\.0\.0\.1:\d+)$", line.rstrip())
            if m:
                urls[m.group(1)] = m.group(2)
            if "Ctrl-C to stop" in line or time.monotonic() > deadline:
                break
        assert set(urls) == {"cloudflare", "vercel", "lambda-edge"}, urls
        now = int(time.time())
        good = pyjwt.encode({"sub": "u", "iss": "https://auth.shop.example.com/", "aud": "shop-api", "exp": now + 60}, secret, "HS256")
        forged = pyjwt.encode({"sub": "u", "iss": "https://auth.shop.example.com/", "aud": "shop-api", "exp": now + 60}, "x" * 40, "HS256")
        for t, url in urls.items():
            assert request(f"{url}/api/orders", headers={"Authorization": f"Bearer {good}"}).status == 200, t
            assert request(f"{url}/api/orders", headers={"Authorization": f"Bearer {forged}"}).status == 401, t
        children = descendants(proc.pid)
        assert len(children) >= 4  # three hosts (+ workerd) and moto
    finally:
        proc.send_signal(sig)
        try:
            proc.wait(30)
        finally:
            if proc.poll() is None:
                proc.kill()
    assert proc.returncode == 0
    time.sleep(0.2)
    left = [p for p in children if alive(p)]
    assert left == [], f"orphans: {left}"


def test_dev_reloads_on_stack_changes_and_survives_a_broken_edit(tmp_path):
    from conftest import write_project

    stack = (ROOT / "stacks" / "Pulumi.dev.yaml").read_text()
    write_project(tmp_path, {"dev": stack})
    env = {**os.environ, "EDGEPORT_SECRET_JWT_HMAC": secrets.token_urlsafe(40), "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "edgeport.cli", "dev", "--stack", "dev", "--target", "vercel", "--port", "0"],
                            cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines: list[str] = []

    def wait_for(text, timeout=90):
        deadline = time.monotonic() + timeout
        for line in proc.stdout:
            lines.append(line)
            if text in line:
                return line
            if time.monotonic() > deadline:
                break
        raise AssertionError(f"no {text!r} in:\n{''.join(lines[-30:])}")

    try:
        wait_for("Ctrl-C to stop")
        url = next(re.match(r"\s+vercel\s+(\S+)$", l.rstrip()).group(1) for l in lines if re.match(r"\s+vercel\s+http", l))
        assert request(f"{url}/store/x", headers={"x-edgeport-country": "US"}).headers["x-edgeport-origin"] == "us"
        time.sleep(1.1)  # a new mtime
        (tmp_path / "stacks" / "Pulumi.dev.yaml").write_text(stack.replace("{ countries: [US, CA], origin: us }",
                                                                           "{ countries: [US, CA], origin: beta }"))
        wait_for("reloaded in")
        assert request(f"{url}/store/x", headers={"x-edgeport-country": "US"}).headers["x-edgeport-origin"] == "beta"
        (tmp_path / "stacks" / "Pulumi.dev.yaml").write_text(stack.replace("routes: [\"/store/*\"]", "routes: [\"store/*\"]"))
        wait_for("reload failed, still serving the previous version")
        assert request(f"{url}/store/x", headers={"x-edgeport-country": "US"}).headers["x-edgeport-origin"] == "beta"
    finally:
        stop_dev(proc)
    assert proc.returncode == 0


def _functions_with_logging(tmp_path: Path) -> Path:
    """A copy of functions/ whose geo step logs (console.log and console.warn) and throws for FR viewers."""
    fdir = copy_functions(tmp_path)
    geo = fdir / "src" / "patterns" / "geo.ts"
    text = geo.read_text()
    assert "  ctx.origin = origin;\n" in text
    geo.write_text(text.replace("  ctx.origin = origin;\n", '  ctx.origin = origin;\n  console.log("geo picked", origin, { country });\n'
                                                            '  console.warn("geo warned for", country);\n'
                                                            '  if (country === "FR") throw new Error("boom in geo");\n'))
    return fdir


def _throw_line(fdir: Path) -> int:
    lines = (fdir / "src" / "patterns" / "geo.ts").read_text().splitlines()
    return next(i for i, line in enumerate(lines) if "boom in geo" in line) + 1


def test_dev_logs_every_request_and_the_edge_codes_console_per_target(tmp_path):
    """One labelled line per request (which patterns cover the path, where it was forwarded or that the edge
    answered) and the edge code's console.log/console.warn, on every target."""
    fdir = _functions_with_logging(tmp_path)
    env = {**os.environ, "EDGEPORT_SECRET_JWT_HMAC": secrets.token_urlsafe(40), "PYTHONUNBUFFERED": "1",
           "EDGEPORT_FUNCTIONS_DIR": str(fdir), "NO_COLOR": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "edgeport.cli", "dev", "--stack", "dev", "--port", "0"], cwd=ROOT,
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines: list[str] = []
    try:
        for line in proc.stdout:
            lines.append(line)
            if "Ctrl-C to stop" in line:
                break
        urls = {m.group(1): m.group(2) for l in lines if (m := re.match(r"\s+(cloudflare|vercel|lambda-edge)\s+(http://\S+)$", l.rstrip()))}
        assert set(urls) == {"cloudflare", "vercel", "lambda-edge"}, "".join(lines[-20:])
        for url in urls.values():
            assert request(f"{url}/store/x?q=1", headers={"x-edgeport-country": "DE"}).status == 200
            assert request(f"{url}/api/orders").status == 401
            assert request(f"{url}/store/y", headers={"x-edgeport-country": "FR"}).status == 503  # the edge code throws
        # A crash in edge code: its message, and each stack frame mapped from the bundle to the TypeScript source.
        want = {f"[{t}] {what}" for t in urls for what in (
            "GET /store/x?q=1 200", "GET /api/orders 401", "geo picked eu { country: 'DE' }", "warn: geo warned for DE",
            "error: edgeport: internal error: Error: boom in geo",
            f"src/patterns/geo.ts:{_throw_line(fdir)}:", "GET /store/y 503")}
        want_tail = {f"[{t}] GET /store/x?q=1": "regional -> eu /store/x?q=1" for t in urls}
        want_tail |= {f"[{t}] GET /api/orders": "api-auth (answered at the edge)" for t in urls}
        import threading

        def read():
            for line in proc.stdout:  # one at a time: list.extend would take the whole stream first
                lines.append(line)

        deadline, seen = time.monotonic() + 30, len(lines)  # before the reader starts: it may take lines at once
        threading.Thread(target=read, daemon=True).start()
        while (want or want_tail) and time.monotonic() < deadline:
            time.sleep(0.05)
            for line in lines[seen:]:
                line = line.rstrip()
                want = {w for w in want if not (line.startswith(w.split(" ")[0]) and w.split(" ", 1)[1] in line)}
                for head, tail in list(want_tail.items()):
                    if line.startswith(head):
                        assert line.endswith(tail), line
                        del want_tail[head]
            seen = len(lines)
        assert not want and not want_tail, (want, want_tail, "".join(lines[-40:]))
    finally:
        stop_dev(proc)


def test_dev_json_logs_are_one_object_per_line(tmp_path):
    from conftest import write_project

    write_project(tmp_path, {"dev": (ROOT / "stacks" / "Pulumi.dev.yaml").read_text()})
    env = {**os.environ, "EDGEPORT_SECRET_JWT_HMAC": secrets.token_urlsafe(40), "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "edgeport.cli", "dev", "--stack", "dev", "-t", "vercel", "--port", "0", "--json"],
                            cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        ready = json.loads(proc.stdout.readline())
        assert ready["event"] == "ready" and set(ready["urls"]) == {"vercel"} and "default" in ready["origins"]
        assert request(f"{ready['urls']['vercel']}/about").status == 200
        event = json.loads(proc.stdout.readline())
        assert event == {**event, "target": "vercel", "event": "request", "method": "GET", "path": "/about", "status": 200,
                         "origins": [{"name": "default", "path": "/about"}]}
        assert isinstance(event["ms"], int)
    finally:
        stop_dev(proc)


def test_reloads_never_refuse_a_connection():
    """A client polling every 20 ms on new connections through 5 rebuilds of every target sees no refused
    connection, no reset and no 5xx, and every edit's new behaviour arrives (bench/dev_reload.py measures how fast;
    no timing is asserted here)."""
    sys.path.insert(0, str(ROOT / "bench"))
    try:
        from dev_reload import run
    finally:
        sys.path.remove(str(ROOT / "bench"))
    result = run(edits=5, poll_ms=20, timeout_s=120)
    assert set(result["targets"]) == {"cloudflare", "vercel", "lambda-edge"}
    for t, r in result["targets"].items():
        assert len(r["edit_to_new_s"]) == 5, (t, r)
        assert r["requests"] > 50, (t, r)
        assert r["failures"] == 0, f"{t}: {r['failures']} of {r['requests']} requests failed: {r['failure_samples']}"


def test_live_ab_ratios_change_on_every_target_through_the_dev_admin(tmp_path):
    """`PUT /live/<pattern>` on the dev admin writes the ratios into each target's own store stand-in (KV, Edge
    Config, SSM): with all weight on one variant, new visitors get it everywhere (within the pattern's liveTtl).
    A value the edge would ignore is refused with the reason."""
    from conftest import write_project

    write_project(tmp_path, {"dev": (ROOT / "stacks" / "Pulumi.dev.yaml").read_text()})
    env = {**os.environ, "EDGEPORT_SECRET_JWT_HMAC": secrets.token_urlsafe(40), "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "edgeport.cli", "dev", "--stack", "dev", "--port", "0", "--json", "-q"],
                            cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        ready = json.loads(proc.stdout.readline())
        admin = ready["live"]["url"]
        (name,) = ready["live"]["patterns"]
        bad = request(f"{admin}/live/{name}", "PUT", body=b'{"control": 50, "nope": 50}')
        assert bad.status == 400 and "'nope' is not a variant" in json.loads(bad.body)["error"]
        assert request(f"{admin}/live/other", "PUT", body=b"{}").status == 404
        # `edgeport experiment set --local` finds the running dev through .edgeport/dev/dev.json and goes through
        # the same admin endpoint; `experiment get --local` reads it back.
        cli = [sys.executable, "-m", "edgeport.cli", "experiment"]
        ok = subprocess.run([*cli, "set", name, "--stack", "dev", "--local", "--json", "--ratios",
                             "control=0,new-hero=0,beta-stack=100"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
        assert ok.returncode == 0, ok.stderr
        assert json.loads(ok.stdout)["dev"] == {"url": admin, "ok": True, "targets": ["cloudflare", "lambda-edge", "vercel"]}
        got = subprocess.run([*cli, "get", name, "--stack", "dev", "--local", "--json"], cwd=tmp_path, env=env,
                             capture_output=True, text=True, timeout=60)
        assert json.loads(got.stdout)["dev"]["value"] == {"control": 0, "new-hero": 0, "beta-stack": 100}
        for t, url in ready["urls"].items():
            deadline, got = time.monotonic() + 30, None
            while time.monotonic() < deadline:
                cookie = request(f"{url}/landing").headers.get("set-cookie", "")
                got = re.search(r"=(control|new-hero|beta-stack);", cookie)
                if got and got.group(1) == "beta-stack" and all(
                        "=beta-stack;" in request(f"{url}/landing").headers.get("set-cookie", "") for _ in range(10)):
                    break
                time.sleep(0.3)
            else:
                raise AssertionError(f"{t} still assigns {got and got.group(1)}")
    finally:
        stop_dev(proc)
    assert not (tmp_path / ".edgeport" / "dev" / "dev.json").exists()  # withdrawn when dev stops
    gone = subprocess.run([sys.executable, "-m", "edgeport.cli", "experiment", "get", name, "--stack", "dev", "--local"],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    assert gone.returncode == 1 and "no running `edgeport dev --stack dev`" in gone.stderr


def test_rs256_and_es256_tokens_from_local_key_pairs_pass_in_dev_only(tmp_path):
    """`edgeport token --alg ES256|RS256` signs with the stack's local key pair; `edgeport dev` makes patterns that
    accept the algorithm trust it on every target; a token from any other key is refused; `build` (what deploys)
    never carries the local keys."""
    from conftest import write_project
    from cryptography.hazmat.primitives.asymmetric import ec, rsa

    from edgeport.patterns.jwt_auth import public_jwk

    # The identity provider's keys (the stack must declare a key per accepted algorithm).
    idp = [{**public_jwk(ec.generate_private_key(ec.SECP256R1()), "ES256"), "kid": "idp-ec"},
           {**public_jwk(rsa.generate_private_key(65537, 2048), "RS256"), "kid": "idp-rsa"}]
    stack = (ROOT / "stacks" / "Pulumi.dev.yaml").read_text().replace(
        "        algorithms: [HS256]\n",
        "        algorithms: [HS256, RS256, ES256]\n        jwks:\n          keys:\n"
        + "".join(f"            - {json.dumps(k)}\n" for k in idp))
    write_project(tmp_path, {"dev": stack})
    env = {**os.environ, "EDGEPORT_SECRET_JWT_HMAC": secrets.token_urlsafe(40), "PYTHONUNBUFFERED": "1"}

    def cli(*args):
        return subprocess.run([sys.executable, "-m", "edgeport.cli", *args, "--stack", "dev"], cwd=tmp_path, env=env,
                              capture_output=True, text=True, timeout=120)

    es, rs = cli("token", "--alg", "ES256").stdout.strip(), cli("token", "--alg", "RS256").stdout.strip()
    assert es.count(".") == 2 and rs.count(".") == 2
    other = tmp_path / "other"
    other.mkdir()
    write_project(other, {"dev": stack})
    es_other = subprocess.run([sys.executable, "-m", "edgeport.cli", "token", "--alg", "ES256", "--stack", "dev"], cwd=other,
                              env=env, capture_output=True, text=True, timeout=120).stdout.strip()  # another local key
    built = cli("build")
    assert built.returncode == 0, built.stderr
    assert not [p for p in (tmp_path / ".edgeport" / "build" / "dev").rglob("*") if p.is_file() and "edgeport-local" in p.read_text(errors="replace")]
    proc = subprocess.Popen([sys.executable, "-m", "edgeport.cli", "dev", "--stack", "dev", "--port", "0", "--json", "-q"],
                            cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        ready = json.loads(proc.stdout.readline())
        assert any("api-auth also trusts edgeport-local-RS256, edgeport-local-ES256" in n for n in ready["notes"]), ready
        for t, url in ready["urls"].items():
            for tok in (es, rs):
                assert request(f"{url}/api/orders", headers={"Authorization": f"Bearer {tok}"}).status == 200, t
            assert request(f"{url}/api/orders", headers={"Authorization": f"Bearer {es_other}"}).status == 401, t
    finally:
        stop_dev(proc)
