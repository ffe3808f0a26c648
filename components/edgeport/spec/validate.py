"""Rules across fields and against outside data; every problem is collected with its key path."""

from __future__ import annotations

import difflib
import ipaddress
from urllib.parse import urlsplit

from ..errors import Problems
from ..patterns import kind_of
from ..patterns.base import SecretValueProblem
from . import aws_regions, capabilities, routes
from .models import App

ROOT = "edgeport:app"


def _check_cloudflare(app: App, problems: Problems) -> None:
    cf = app.targets.cloudflare
    path = f"{ROOT}.targets.cloudflare"
    if cf is None:
        return
    wildcard = cf.hostname.startswith("*.")
    if cf.custom_domain and wildcard:
        problems.add(f"{path}.customDomain", f"a Workers custom domain needs an exact hostname, not {cf.hostname!r}",
                     "set hostname to one host name, or remove customDomain")
    if cf.dns and cf.custom_domain:
        # A custom domain creates its own DNS record and refuses a hostname that already has an A/AAAA/CNAME record
        # (code 100117, workers-sdk #9878; developers.cloudflare.com/workers/configuration/routing/custom-domains/).
        problems.add(f"{path}.dns", "dns: true and customDomain: true would both create the hostname's DNS record; "
                     "Cloudflare refuses the custom domain when a record exists (code 100117)",
                     "remove dns: the custom domain creates the record itself")
    if cf.dns and wildcard:
        problems.add(f"{path}.dns", f"dns: true cannot create a record for the wildcard hostname {cf.hostname!r}: each "
                     "subdomain the routes serve needs its own proxied record",
                     "create proxied records for the subdomains you serve (or a proxied wildcard record) and remove dns")


def _check_secret_regions(regions: list[str], problems: Problems) -> None:
    path = f"{ROOT}.targets.lambda-edge.secretRegions"
    seen: set[str] = set()
    for i, r in enumerate(regions):
        if r in seen:
            problems.add(f"{path}[{i}]", f"{r!r} is listed twice", "list each Region once")
        elif r not in aws_regions.KNOWN:
            near = difflib.get_close_matches(r, sorted(aws_regions.KNOWN), n=1)
            problems.add(f"{path}[{i}]", f"{r!r} is not an AWS Region Secrets Manager can replicate to",
                         f"did you mean {near[0]!r}?" if near else f"use one of {', '.join(sorted(aws_regions.KNOWN))}")
        seen.add(r)


# CloudFront custom origins: the port must be 80, 443 or 1024-65535, and the origin must be a domain name - "can't
# include a colon (:), and can't use the IPV4 address format" (CloudFront Developer Guide, "Lambda@Edge event
# structure", request.origin.custom.domainName and .port,
# https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/lambda-event-structure.html; the same ranges
# for a distribution's origins: "Origin settings" -> "Origin domain", "HTTP port", "HTTPS port",
# https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/DownloadDistValuesOrigin.html).
CLOUDFRONT_PORTS = "80, 443 or 1024-65535"


def _cloudfront_port_ok(port: int) -> bool:
    return port in (80, 443) or 1024 <= port <= 65535


def _ip_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        # A host whose last label is a number is an IPv4 address to URL parsers ("127.1", "2130706433";
        # WHATWG URL Standard, "ends in a number checker"), never a domain name CloudFront accepts.
        return host.rstrip(".").rsplit(".", 1)[-1].isdigit()


def _check_lambda_edge_origins(app: App, problems: Problems) -> None:
    """Origins CloudFront would refuse. The stack's origins are one table every target's bundle carries, and the
    distribution (or an origin-request function) points at them, so the rule holds for each origin of a stack
    with a lambda-edge target. `edgeport dev` is not affected: declared origins keep their names there and the
    local runner maps each name to a loopback echo server (functions/local/origins.mjs), so no stack needs an IP."""
    for name, url in app.origins.items():
        key = f"{ROOT}.origins.{name}"
        u = urlsplit(url)
        host = u.hostname or ""
        if _ip_literal(host):
            problems.add(key, f"{url!r} names an IP address; CloudFront origins must be domain names",
                         "use a DNS name that resolves to the address (e.g. an A/AAAA record such as origin.example.com), "
                         "or remove lambda-edge from targets")
        try:
            port = u.port
        except ValueError:
            port = -1
        if port is not None and not _cloudfront_port_ok(port):
            problems.add(key, f"{url!r} uses port {port if port >= 0 else u.netloc.rsplit(':', 1)[-1]}; "
                         f"CloudFront connects to origins on ports {CLOUDFRONT_PORTS} only",
                         f"serve the origin on a port in {CLOUDFRONT_PORTS} (e.g. https://{host}:8443)")


def validate_app(app: App) -> Problems:
    problems = Problems()
    if "default" not in app.origins:
        problems.add(f"{ROOT}.origins", "has no 'default' origin", "add `default: https://your-origin.example.com`")
    declared = app.targets.names()
    if not declared:
        problems.add(f"{ROOT}.targets", "declares no target", "add at least one of cloudflare, lambda-edge, vercel")
    le = app.targets.lambda_edge
    if le and le.existing_distribution_id and le.distribution:
        problems.add(f"{ROOT}.targets.lambda-edge", "sets both existingDistributionId and distribution",
                     "keep existingDistributionId to attach to your distribution, or distribution to let edgeport create one")
    if le and le.distribution and le.distribution.aliases and not le.distribution.certificate_arn:
        problems.add(f"{ROOT}.targets.lambda-edge.distribution.aliases", "aliases need a certificate",
                     "set certificateArn to an ACM certificate in us-east-1 that covers the aliases")
    _check_cloudflare(app, problems)
    if le:
        _check_secret_regions(le.secret_regions, problems)
        _check_lambda_edge_origins(app, problems)
    vc = app.targets.vercel
    if vc and vc.project_id and vc.project_name:
        problems.add(f"{ROOT}.targets.vercel", "sets both projectId and projectName",
                     "keep projectId to use an existing project, or projectName to let edgeport create one")

    names: dict[str, int] = {}
    current = {p.name for p in app.patterns}
    for i, p in enumerate(app.patterns):
        for j, old in enumerate(p.previous_names):
            if old in current:
                problems.add(f"{ROOT}.patterns[{i}].previousNames[{j}]", f"{old!r} is the name of a pattern in this stack",
                             "list only names this pattern no longer uses")
        path = f"{ROOT}.patterns[{i}]"
        if p.name in names:
            problems.add(f"{path}.name", f"duplicate pattern name {p.name!r} (also patterns[{names[p.name]}])",
                         "give every pattern a unique name")
        names.setdefault(p.name, i)
        if len(set(p.routes)) != len(p.routes):
            problems.add(f"{path}.routes", "lists a route twice", "list each route once")
        for j, ex in enumerate(p.exclude):
            if not any(routes.contains(r, ex) for r in p.routes):
                problems.add(f"{path}.exclude[{j}]", f"{ex!r} is outside the pattern's routes ({', '.join(p.routes)})",
                             "exclude only paths inside `routes`, or remove it")
        explicit = p.targets is not None
        for t in app.pattern_targets(p):
            tp = f"{path}.targets" if explicit else path
            if t not in declared:
                problems.add(tp, f"targets {t}, but the stack has no targets.{t} section",
                             f"add targets.{t} or remove {t} from this pattern's targets")
                continue
            cap = capabilities.capability(p.type, t)
            if not cap.supported:
                can = capabilities.hosts(p.type)
                problems.add(tp, f"{p.type} cannot run on {t}: {cap.how}",
                             f"targets that can host it: {', '.join(can)}; set `targets: [{', '.join(t2 for t2 in can if t2 in declared) or can[0]}]` on this pattern")
        kind_of(p).validate(p, path, problems, app)
    return problems


def secret_value_problems(name: str, value: str, app: App) -> list[SecretValueProblem]:
    """Problems with a secret's value for every pattern using it (PatternKind.secret_problems); the value itself
    never appears."""
    return [x for p in app.patterns for x in kind_of(p).secret_problems(p, name, value)]


def token_command(need: int) -> str:
    """A command printing a random value of `need` bytes (valid in utf8 and base64url encoding alike)."""
    return f"python -c 'import secrets; print(secrets.token_urlsafe({need}))'"


def check_secret_value(name: str, value: str, app: App) -> list[str]:
    """Problems with a secret's deployed value (too short for the HMAC algorithms that use it), as messages."""
    return [f"secret {name} {p.message} - generate one with `{token_command(p.need)}`" for p in secret_value_problems(name, value, app)]
