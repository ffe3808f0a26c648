"""Expectations against what happened: each check returns mismatches (expected vs actual), never raises.

A mismatch names the step, what was checked (status, a header, the body, a cookie, the
origin hit) and both sides, already shortened for a terminal - that is the readable
diff `edgeport conformance` prints.
"""

from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass, field
from typing import Any, Callable

EXCERPT = 240


@dataclass
class Mismatch:
    step: int
    what: str
    expected: str
    actual: str

    def to_json(self) -> dict:
        return {"step": self.step, "what": self.what, "expected": self.expected, "actual": self.actual}


@dataclass
class Exchange:
    """One HTTP request as the client saw it, plus what reached the origins meanwhile."""

    method: str
    target: str
    request_headers: list[tuple[str, str]]
    status: int = 0
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""
    first_chunk: bytes = b""
    ttfb_ms: float = 0.0  # until the first body bytes
    total_ms: float = 0.0
    origin_requests: list[dict] = field(default_factory=list)

    def header_values(self, name: str) -> list[str]:
        return [v for k, v in self.headers if k.lower() == name.lower()]

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    def summary(self) -> dict:
        return {"method": self.method, "target": self.target, "status": self.status, "ttfb_ms": round(self.ttfb_ms, 1),
                "total_ms": round(self.total_ms, 1),
                "origin_requests": [describe_request(r) for r in self.origin_requests]}


def excerpt(text: str | None, limit: int = EXCERPT) -> str:
    if text is None:
        return "(absent)"
    # One line per value: control characters are shown escaped, the text itself is not re-quoted.
    flat = text.replace("\\", "\\\\").replace("\r", "\\r").replace("\n", "\\n").replace("\t", "\\t")
    return f"'{flat}'" if len(flat) <= limit else f"'{flat[:limit]}' … ({len(flat) - limit} more chars)"


def describe_request(r: dict) -> str:
    q = f"?{r['query']}" if r.get("query") else ""
    return f"{r['origin']} {r['method']} {r['path']}{q}"


def as_list(v: Any) -> list:
    return v if isinstance(v, list) else [v]


def subset_diff(expected: Any, actual: Any, at: str = "$") -> str | None:
    """None when `expected` is contained in `actual` (mappings: a subset of keys; lists and scalars: equal)."""
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            return f"{at}: expected a mapping, got {json.dumps(actual)[:80]}"
        for k, v in expected.items():
            if k not in actual:
                return f"{at}.{k}: missing"
            d = subset_diff(v, actual[k], f"{at}.{k}")
            if d:
                return d
        return None
    if isinstance(expected, list):
        if not isinstance(actual, list) or len(actual) != len(expected):
            return f"{at}: expected {json.dumps(expected)[:80]}, got {json.dumps(actual)[:80]}"
        for i, (e, a) in enumerate(zip(expected, actual)):
            d = subset_diff(e, a, f"{at}[{i}]")
            if d:
                return d
        return None
    if expected != actual and not (isinstance(actual, (int, float)) and str(expected) == str(actual)):
        return f"{at}: expected {json.dumps(expected)}, got {json.dumps(actual)}"
    return None


# ---------------------------------------------------------------- headers and bodies


def check_headers(spec: dict, get_all: Callable[[str], list[str]], label: str) -> list[tuple[str, str, str]]:
    """(what, expected, actual) for each header expectation that does not hold."""
    out = []

    def joined(name: str) -> str | None:
        vals = get_all(name)
        return ", ".join(vals) if vals else None

    for name in as_list(spec.get("present", [])):
        if joined(name) is None:
            out.append((f"{label} {name}", "present", "absent"))
    for name in as_list(spec.get("absent", [])):
        v = joined(name)
        if v is not None:
            out.append((f"{label} {name}", "absent", excerpt(v)))
    for name, want in (spec.get("equal") or {}).items():
        v = joined(name)
        if v != str(want):
            out.append((f"{label} {name}", repr(str(want)), excerpt(v)))
    for name, rx in (spec.get("matches") or {}).items():
        v = joined(name)
        if v is None or not re.search(rx, v):
            out.append((f"{label} {name}", f"matching /{rx}/", excerpt(v)))
    for name, want in (spec.get("base64url_json") or {}).items():
        v = joined(name)
        if v is None:
            out.append((f"{label} {name}", f"base64url JSON containing {json.dumps(want)}", "absent"))
            continue
        try:
            decoded = json.loads(base64.urlsafe_b64decode(v + "=" * (-len(v) % 4)))
        except (ValueError, TypeError):
            out.append((f"{label} {name}", "base64url-encoded JSON", excerpt(v)))
            continue
        d = subset_diff(want, decoded)
        if d:
            out.append((f"{label} {name} (decoded)", json.dumps(want), f"{d}; decoded {excerpt(json.dumps(decoded))}"))
    return out


def check_body(spec: dict, text: str, label: str) -> list[tuple[str, str, str]]:
    out = []
    for s in as_list(spec.get("contains", [])):
        if s not in text:
            out.append((label, f"to contain {excerpt(s)}", excerpt(text)))
    for s in as_list(spec.get("not_contains", [])):
        if s in text:
            i = text.index(s)
            out.append((label, f"not to contain {excerpt(s)}", f"found at {i}: {excerpt(text[max(0, i - 60):i + len(s) + 60])}"))
    if "matches" in spec and not re.search(spec["matches"], text, re.S):
        out.append((label, f"matching /{spec['matches']}/", excerpt(text)))
    if "equals" in spec and text != spec["equals"]:
        first = next((i for i, (a, b) in enumerate(zip(text, spec["equals"])) if a != b), min(len(text), len(spec["equals"])))
        out.append((label, f"exactly {excerpt(spec['equals'])}", f"{excerpt(text)} (first difference at char {first})"))
    if "json" in spec:
        try:
            doc = json.loads(text)
        except ValueError:
            out.append((label, f"JSON containing {json.dumps(spec['json'])}", f"not JSON: {excerpt(text)}"))
        else:
            d = subset_diff(spec["json"], doc)
            if d:
                out.append((label + " JSON", json.dumps(spec["json"]), f"{d}; body {excerpt(text)}"))
    return out


# ---------------------------------------------------------------- cookies


def parse_set_cookie(value: str) -> tuple[str, str, list[str]]:
    parts = [p.strip() for p in value.split(";")]
    name, _, v = parts[0].partition("=")
    return name.strip(), v.strip(), [p for p in parts[1:] if p]


def _attr_present(want: str, attrs: list[str]) -> bool:
    wk, _, wv = want.partition("=")
    for a in attrs:
        k, _, v = a.partition("=")
        if k.strip().lower() == wk.strip().lower() and ("=" not in want or v.strip() == wv.strip()):
            return True
    return False


def check_cookies(spec: dict, ex: Exchange, captured: dict[str, str]) -> list[tuple[str, str, str]]:
    out = []
    cookies = [parse_set_cookie(v) for v in ex.header_values("set-cookie")]
    for name, want in spec.items():
        found = [c for c in cookies if c[0] == name]
        if want == "absent":
            if found:
                out.append((f"Set-Cookie {name}", "not set", excerpt("; ".join([f"{found[0][0]}={found[0][1]}", *found[0][2]]))))
            continue
        if not found:
            others = ", ".join(c[0] for c in cookies) or "no Set-Cookie at all"
            out.append((f"Set-Cookie {name}", "set", f"not set ({others})"))
            continue
        _, value, attrs = found[-1]
        values = want.get("values")
        if values is not None and value not in as_list(values):
            out.append((f"Set-Cookie {name} value", f"one of {as_list(values)}", repr(value)))
        for a in as_list(want.get("attributes", [])):
            if not _attr_present(a, attrs):
                out.append((f"Set-Cookie {name} attribute", a, "; ".join(attrs) or "(no attributes)"))
        if want.get("capture"):
            captured[want["capture"]] = value
    return out


# ---------------------------------------------------------------- origins


def matcher_failures(m: dict, r: dict) -> list[tuple[str, str, str]]:
    """Why origin request `r` does not match matcher `m` (empty: it matches)."""
    out = []
    for k, field_ in (("name", "origin"), ("path", "path"), ("query", "query"), ("method", "method")):
        if k in m and str(m[k]) != str(r.get(field_, "")):
            out.append((f"origin {k}", repr(str(m[k])), repr(r.get(field_, ""))))
    if "headers" in m:
        out += check_headers(m["headers"], lambda n: [r["headers"][n.lower()]] if n.lower() in r["headers"] else [],
                             "origin header")
    if "body" in m:
        out += check_body(m["body"], r.get("body", ""), "origin body")
    return out


def describe_matcher(m: dict) -> str:
    bits = [str(m.get("name", "any origin")), str(m.get("method", "")) or None, str(m.get("path", "")) or None]
    if m.get("query"):
        bits.append(f"?{m['query']}")
    if "headers" in m:
        bits.append(f"headers {json.dumps(m['headers'])}")
    return " ".join(b for b in bits if b)


def check_origin(spec: Any, reqs: list[dict]) -> list[tuple[str, str, str]]:
    seen = "; ".join(describe_request(r) for r in reqs) or "none"
    if spec == "none":
        return [] if not reqs else [("origin", "no request to any origin", f"{len(reqs)}: {seen}")]
    if len(reqs) != 1:
        return [("origin", f"exactly one request: {describe_matcher(spec)}", f"{len(reqs)} request(s): {seen}")]
    return matcher_failures(spec, reqs[0])


def check_origin_requests(specs: list[dict], reqs: list[dict]) -> list[tuple[str, str, str]]:
    out = []
    for m in specs:
        fails = [matcher_failures(m, r) for r in reqs]
        if any(not f for f in fails):
            continue
        seen = "; ".join(describe_request(r) for r in reqs) or "none"
        detail = ""
        if fails:
            closest = min(fails, key=len)
            detail = " | closest: " + ", ".join(f"{w} expected {e}, got {a}" for w, e, a in closest)
        out.append(("origin request", describe_matcher(m), f"not among: {seen}{detail}"))
    return out


def check_not_requested(specs: list[dict], reqs: list[dict]) -> list[tuple[str, str, str]]:
    out = []
    for m in specs:
        hits = [r for r in reqs if not matcher_failures(m, r)]
        if hits:
            out.append(("origin request", f"none matching {describe_matcher(m)}", "; ".join(describe_request(r) for r in hits)))
    return out


# ---------------------------------------------------------------- one HTTP step


SECTIONS = ("status", "headers", "cookies", "body", "first_chunk", "origin", "origin_requests", "origin_not_requested")


def evaluate(expect: dict, ex: Exchange, resolve: Callable[[Any], Any], captured: dict[str, str]) -> list[tuple[str, str, str]]:
    """Check every expectation. Sections resolve their placeholders just before they are checked,
    so values captured from cookies are available to the body and origin checks after them."""
    out: list[tuple[str, str, str]] = []
    for section in SECTIONS:
        if section not in expect:
            continue
        spec = resolve(expect[section])
        if section == "status":
            allowed = [int(s) for s in as_list(spec)]
            if ex.status not in allowed:
                body = excerpt(ex.text, 160)
                out.append(("status", " or ".join(map(str, allowed)), f"{ex.status} (body {body})"))
        elif section == "headers":
            out += check_headers(spec, ex.header_values, "header")
        elif section == "cookies":
            out += check_cookies(spec, ex, captured)
        elif section == "body":
            out += check_body(spec, ex.text, "body")
        elif section == "first_chunk":
            out += check_body(spec, ex.first_chunk.decode("utf-8", "replace"), "first body chunk")
        elif section == "origin":
            out += check_origin(spec, ex.origin_requests)
        elif section == "origin_requests":
            out += check_origin_requests(spec, ex.origin_requests)
        elif section == "origin_not_requested":
            out += check_not_requested(spec, ex.origin_requests)
    return out
