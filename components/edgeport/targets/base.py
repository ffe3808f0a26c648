"""What every target module provides, and the registry of targets."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Budget:
    limit: int  # bytes
    measure: str  # "gzip" (compressed script) or "zip" (deployment package)
    label: str  # where the figure comes from, shown next to it


@dataclass(frozen=True)
class BundleUnit:
    """One bundle a target needs: what the build layer hands to functions/build.mjs."""

    target: str
    event: str | None
    outfile: str  # relative to the build directory
    config: dict[str, Any]
    inline_config: bool  # baked into the bundle (Vercel, Lambda@Edge) or shipped beside it (Cloudflare)
    budget: Budget
    matcher: list[str] | None = None
    extra_files: dict[str, str] = field(default_factory=dict)  # relative path -> text, deployed with the bundle


def resource_slug(text: str, taken: set[str] | None = None) -> str:
    """A stable Pulumi-name fragment for a route or key: '/api/*' -> 'api-all', '/' -> 'root'."""
    s = re.sub(r"[^a-z0-9]+", "-", text.lower().replace("*", "-all")).strip("-") or "root"
    if taken is not None:
        base, n = s, 2
        while s in taken:
            s = f"{base}-{n}"
            n += 1
        taken.add(s)
    return s


def pattern_resource(prefix: str, pattern, taken: set[str], parent) -> tuple[str, "object"]:
    """Logical name and ResourceOptions for a resource that belongs to one pattern: named after the pattern,
    with aliases to its previous names so a rename moves the resource instead of replacing it."""
    import pulumi

    name = f"{prefix}-{resource_slug(pattern.name, taken)}"
    aliases = [pulumi.Alias(name=f"{prefix}-{resource_slug(old)}") for old in pattern.previous_names]
    return name, pulumi.ResourceOptions(parent=parent, aliases=aliases)


def routes_for(app, target: str) -> list[str]:
    """Every route any pattern on `target` covers, most specific first (exact, then longer prefixes)."""
    seen: list[str] = []
    for p in app.patterns:
        if target in app.pattern_targets(p):
            for r in p.routes:
                if r not in seen:
                    seen.append(r)
    return sorted(seen, key=lambda r: (r.endswith("*"), -len(r), r))


# ---------------------------------------------------------------- request-header budget of jwt-auth

# Headers a request carries besides the ones jwt-auth sizes: the request line (~100 B), Host, User-Agent (~250 B),
# Accept, Accept-Language, Accept-Encoding, Referer, sec-ch-ua / sec-fetch-* (~300 B), what the platform adds on
# the way (Via, X-Amz-Cf-Id, X-Forwarded-For, CloudFront-Viewer-*, cf-*, x-vercel-*: ~300-600 B) and cookies.
# A browser request comes to 1.5-3 KB with a few cookies; 4 KiB covers that with room to spare, and is what a
# stack cannot give to tokens.
HEADER_HEADROOM = 4096
# A forward.claims header carries one claim, URI-encoded: ids, names and e-mail addresses (at most 254 characters,
# RFC 5321 §4.5.3.1.3) fit in 256 B. A larger claim belongs in the claims header, which is already counted in full.
CLAIM_VALUE_BYTES = 256
LINE_OVERHEAD = 4  # ": " between name and value, CRLF after it (HTTP/1.1 wire size, which the limits count)


@dataclass(frozen=True)
class HeaderLimit:
    """What one platform lets a request carry in its headers."""

    total: int  # bytes of all request headers (with the request line where the platform counts it)
    per_header: int | None  # bytes of one header, where the platform limits that too
    counts: str  # what `total` covers, for messages: "request line + headers"
    source: str  # where the figures come from, for messages


@dataclass(frozen=True)
class JwtHeaders:
    """Worst-case sizes (bytes on the wire) of the headers a jwt-auth pattern reads and writes."""

    token: int  # the token header as the client sends it (the cookie, when it comes in a cookie, is about as long)
    claims_header: int  # forward.claimsHeader: base64url(JSON claims), about the token's payload segment: counted as the token
    claim_headers: int  # forward.claims, one header each
    forwards_token: bool

    @property
    def incoming(self) -> int:
        return self.token

    @property
    def outgoing(self) -> int:
        """What the request to the origin carries: the token if kept, the claims header, the single-claim headers."""
        return (self.token if self.forwards_token else 0) + self.claims_header + self.claim_headers

    @property
    def worst(self) -> int:
        return max(self.incoming, self.outgoing)

    @property
    def largest(self) -> int:
        return max(self.token, self.claims_header)


def jwt_headers(p, token_bytes: int | None = None) -> JwtHeaders:
    """Sizes for a jwt-auth pattern with tokens of `token_bytes` (default: its maxTokenBytes, the largest it accepts)."""
    n = p.max_token_bytes if token_bytes is None else token_bytes
    token = len(p.token.header) + len(p.token.scheme) + 1 + n + LINE_OVERHEAD
    claims = len(p.forward.claims_header) + n + LINE_OVERHEAD if p.forward.claims_header else 0
    singles = sum(len(h) + CLAIM_VALUE_BYTES + LINE_OVERHEAD for h in p.forward.claims)
    # forward.token: false removes the token header only; a token that came in token.cookie stays in the Cookie header.
    return JwtHeaders(token, claims, singles, p.forward.token or p.token.cookie is not None)


def _fits(p, limit: HeaderLimit, token_bytes: int | None = None) -> bool:
    h = jwt_headers(p, token_bytes)
    return h.worst + HEADER_HEADROOM <= limit.total and (limit.per_header is None or h.largest <= limit.per_header)


def largest_token_that_fits(p, limit: HeaderLimit) -> int:
    """The largest maxTokenBytes this pattern's forwarding lets through `limit` (0 if none)."""
    lo, hi = 0, 1 << 20
    while lo < hi:  # sizes grow with the token: the last size that fits
        mid = (lo + hi + 1) // 2
        lo, hi = (mid, hi) if _fits(p, limit, mid) else (lo, mid - 1)
    return lo


def _without(p, **forward):
    return p.model_copy(update={"forward": p.forward.model_copy(update=forward)})


def jwt_header_issues(app, target: str, limit: HeaderLimit) -> list:
    """Every jwt-auth pattern on `target` whose largest accepted token would not fit the platform's request
    headers: a token the edge verifies would then be refused by the platform (502 on CloudFront) instead."""
    from ..errors import SpecIssue
    from ..spec.models import JwtAuth

    issues = []
    for i, p in enumerate(app.patterns):
        if not isinstance(p, JwtAuth) or target not in app.pattern_targets(p):
            continue
        h = jwt_headers(p)
        parts = []
        over_total = h.worst + HEADER_HEADROOM > limit.total
        over_one = limit.per_header is not None and h.largest > limit.per_header
        if not (over_total or over_one):
            continue
        if over_total:
            if h.outgoing >= h.incoming:
                detail = [f"the token {h.token:,} B"] if h.forwards_token else []
                if h.claims_header:
                    detail.append(f"{p.forward.claims_header} {h.claims_header:,} B")
                if h.claim_headers:
                    detail.append(f"{len(p.forward.claims)} claim header(s) {h.claim_headers:,} B")
                what = "the request to the origin carries " + " + ".join(detail)
            else:
                what = f"the token header is {h.token:,} B"
            parts.append(f"{what}, plus {HEADER_HEADROOM:,} B for ordinary headers = {h.worst + HEADER_HEADROOM:,} B; "
                         f"{target} allows {limit.total:,} B of {limit.counts}")
        if over_one:
            parts.append(f"one header would be {h.largest:,} B; {target} allows {limit.per_header:,} B per header")
        # Only fixes that are enough on their own.
        fits = largest_token_that_fits(p, limit)
        fixes = []
        if fits >= 512:  # the smallest maxTokenBytes the model accepts
            fixes.append(f"lower maxTokenBytes to {fits:,} or less")
        if p.forward.token and _fits(_without(p, token=False), limit):
            fixes.append("set forward.token: false (the origin still gets the verified claims)")
        if p.forward.claims_header and _fits(_without(p, claims_header=None), limit):
            fixes.append("set forward.claimsHeader: null (forward single claims with forward.claims instead)")
        if not fixes:
            fixes.append("forward less (fewer forward.claims, forward.token: false, forward.claimsHeader: null) and lower maxTokenBytes")
        issues.append(SpecIssue(
            f"edgeport:app.patterns[{i}].maxTokenBytes",
            f"tokens up to {p.max_token_bytes:,} B pass verification but not {target}'s request-header limit: "
            + "; ".join(parts) + f" ({limit.source})",
            "; ".join(fixes)))
    return issues
