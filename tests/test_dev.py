"""`edgeport dev`: serves every target of the dev stack, then stops every child on SIGINT/SIGTERM."""

from __future__ import annotations

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

from conftest import ROOT, request


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
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(30)
        finally:
            if proc.poll() is None:
                proc.kill()
    assert proc.returncode == 0
