"""edgeport's guardrails as Pulumi policies.

Every check is a plain function ``(args, report_violation)`` so the tests call it without the
Pulumi CLI; ``POLICIES`` wraps them for ``PolicyPack`` (policy/__main__.py).

What a policy sees: the resource's inputs with camelCase wire names (``scriptName``,
``lambdaFunctionAssociations``), assets as ``pulumi.FileAsset``/``AssetArchive``, secret values
in plain text (the secret marking is stripped before a policy runs), and during ``pulumi
preview`` some values unknown (outputs of resources not created yet). Reading an unknown value
raises ``UnknownValueError``; ``get`` below turns that into ``UNKNOWN`` and each check skips
what it cannot know yet. ``pulumi up`` runs resource policies again just before each resource
is created, when those values are known.

Limits and the reasoning behind each check: docs/policy.md.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import io
import json
import re
import zipfile
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path, PurePosixPath
from typing import Any

import pulumi
from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.proxy import UnknownValueError

from edgeport.targets.lambda_edge import TRIGGERS as LAMBDA_EVENTS
from edgeport.spec.secret_refs import ENV_PREFIX
from edgeport.targets import cloudflare, lambda_edge, vercel
from edgeport.targets.base import Budget

# The Pulumi project this pack ships with. Pulumi starts a policy pack with the pack's own
# directory as cwd, while the program's relative paths (Vercel's file map) are relative to the
# project directory, so file lookups try both.
PROJECT_DIR = Path(__file__).resolve().parent.parent

WORKERS_SCRIPT = ("cloudflare:index/workersScript:WorkersScript", "cloudflare:index/workerScript:WorkerScript")
WORKERS_ROUTE = "cloudflare:index/workersRoute:WorkersRoute"
SECRETS_STORE_SECRET = "cloudflare:index/secretsStoreSecret:SecretsStoreSecret"
LAMBDA_FUNCTION = "aws:lambda/function:Function"
DISTRIBUTION = "aws:cloudfront/distribution:Distribution"
DYNAMIC_RESOURCE = "pulumi-python:dynamic:Resource"  # edgeport's associations on an existing distribution
SSM_PARAMETER = "aws:ssm/parameter:Parameter"
SECRET_VERSION = "aws:secretsmanager/secretVersion:SecretVersion"
VERCEL_DEPLOYMENT = "vercel:index/deployment:Deployment"
VERCEL_ENV = "vercel:index/projectEnvironmentVariable:ProjectEnvironmentVariable"
VERCEL_ENVS = "vercel:index/projectEnvironmentVariables:ProjectEnvironmentVariables"
VERCEL_SHARED_ENV = "vercel:index/sharedEnvironmentVariable:SharedEnvironmentVariable"
VERCEL_EDGE_CONFIG_TOKEN = "vercel:index/edgeConfigToken:EdgeConfigToken"
STACK = "pulumi:pulumi:Stack"

VIEWER_REQUEST = LAMBDA_EVENTS[0]
# Cloudflare binding types whose value Cloudflare stores as a secret.
SECRET_BINDING_TYPES = ("secret_text", "secrets_store_secret")
# Shorter "secrets" would match ordinary strings by accident.
MIN_SECRET_CHARS = 8


# ---------------------------------------------------------------- reading inputs


class _Unknown:
    """A value Pulumi cannot know during preview."""

    def __repr__(self) -> str:
        return "<unknown>"


UNKNOWN = _Unknown()


def get(mapping: Any, key: str, default: Any = None) -> Any:
    """mapping[key], `default` when absent or not a mapping, UNKNOWN when unknown during preview."""
    if not isinstance(mapping, Mapping):
        return default
    try:
        return mapping[key] if key in mapping else default
    except UnknownValueError:
        return UNKNOWN


def is_list(value: Any) -> bool:
    return isinstance(value, Sequence) and not isinstance(value, (str, bytes))


def elements(value: Any) -> list[Any]:
    """The items of a list input (UNKNOWN for unknown items); [] for anything else."""
    if not is_list(value):
        return []
    out = []
    for i in range(len(value)):
        try:
            out.append(value[i])
        except UnknownValueError:
            out.append(UNKNOWN)
    return out


def local_file(path: str) -> Path | None:
    p = Path(path)
    for candidate in ([p] if p.is_absolute() else [Path.cwd() / p, PROJECT_DIR / p]):
        if candidate.is_file():
            return candidate
    return None


def archive_files(value: Any) -> dict[str, bytes] | None:
    """name -> content of every file in a Pulumi asset or archive; None if any part cannot be read here."""
    if isinstance(value, pulumi.AssetArchive):
        out: dict[str, bytes] = {}
        for name, member in value.assets.items():
            files = archive_files(member)
            if files is None:
                return None
            if isinstance(member, pulumi.Asset):
                out[name] = next(iter(files.values()))
            else:  # a nested archive lands in a folder named after its key
                out.update({f"{name}/{k}": v for k, v in files.items()})
        return out
    if isinstance(value, pulumi.StringAsset):
        return {"": value.text.encode()}
    if isinstance(value, pulumi.FileAsset):
        p = local_file(str(value.path))
        return {p.name: p.read_bytes()} if p else None
    if isinstance(value, pulumi.FileArchive):
        p = Path(str(value.path))
        p = p if p.is_absolute() else next((c for c in (Path.cwd() / p, PROJECT_DIR / p) if c.exists()), p)
        if p.is_dir():
            return {str(f.relative_to(p)): f.read_bytes() for f in sorted(p.rglob("*")) if f.is_file()}
        if p.is_file() and zipfile.is_zipfile(p):
            with zipfile.ZipFile(p) as z:
                return {i.filename: z.read(i) for i in z.infolist() if not i.is_dir()}
    return None  # RemoteAsset/RemoteArchive, tarballs, unknown during preview


def gzip_size(data: bytes) -> int:
    # Same settings as edgeport's build (edgeport.build.artifacts.measure).
    return len(gzip.compress(data, compresslevel=9, mtime=0))


def zip_size(files: Mapping[str, bytes]) -> int:
    """The deployment package a provider uploads for these files (deflate; a few bytes' tolerance)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in sorted(files.items()):
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, data)
    return len(buf.getvalue())


def mb(n: int) -> str:
    return f"{n / (1024 * 1024):.2f} MB ({n:,} B)"


def label(args: Any, kind: str, platform_name: Any = None) -> str:
    """How messages name a resource: what it is, its name on the platform, its Pulumi name."""
    if isinstance(platform_name, str) and platform_name and platform_name != args.name:
        return f"{kind} '{platform_name}' (Pulumi resource {args.name})"
    return f"{kind} {args.name}"


# ---------------------------------------------------------------- platform facts


# edgeport's functions have the logical name '<component>-<trigger>' (lambda_edge.function_logical_name) and are
# auto-named '<logical name>-<7 hex>' by Pulumi; older stacks named them '<app>-<stack>-<trigger>'.
TRIGGER_SUFFIX = re.compile(r"-(viewer-request|origin-request|origin-response|viewer-response)(?:-[0-9a-f]{7})?$")


def edge_trigger(function_name: Any) -> str | None:
    """The CloudFront trigger an edgeport Lambda@Edge function serves, from its name (also the name inside an
    association's ARN). edgeport builds each function's bundle for that trigger only. A function without such a
    name is not one of edgeport's Lambda@Edge functions."""
    m = TRIGGER_SUFFIX.search(function_name) if isinstance(function_name, str) else None
    return m[1] if m else None


def function_trigger(args: Any) -> str | None:
    """The trigger of a function resource: its `edgeport:trigger` tag (lambda_edge.function_tags), else its name."""
    tags = get(args.props, "tags")
    tagged = tags.get("edgeport:trigger") if isinstance(tags, dict) else None
    return tagged if tagged in LAMBDA_EVENTS else edge_trigger(function_name(args))


def function_name(args: Any) -> str:
    name = get(args.props, "name")
    return name if isinstance(name, str) else args.name


LAMBDA_ARN = re.compile(
    r"^arn:(?P<partition>aws[a-z-]*):lambda:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):function:"
    r"(?P<name>[A-Za-z0-9_-]+)(?::(?P<qualifier>[^:]+))?$"
)


def associations_label(args: Any) -> str:
    kind = "CloudFront distribution" if args.resource_type == DISTRIBUTION else "edgeport CloudFront associations"
    return label(args, kind)


def lambda_associations(args: Any) -> Iterator[tuple[str, Any, Any]]:
    """(where, event type, lambda ARN) for every Lambda@Edge association the resource makes."""
    props = args.props
    if args.resource_type == DISTRIBUTION:
        behaviours = [("the default cache behaviour", get(props, "defaultCacheBehavior"))]
        behaviours += [(f"cache behaviour {get(b, 'pathPattern')}", b) for b in elements(get(props, "orderedCacheBehaviors"))]
        for where, b in behaviours:
            for a in elements(get(b, "lambdaFunctionAssociations")):
                yield where, get(a, "eventType"), get(a, "lambdaArn")
    elif args.resource_type == DYNAMIC_RESOURCE and get(props, "distribution_id") is not None:
        # edgeport's DistributionAssociations: dynamic-resource inputs keep their Python (snake_case) names.
        for a in elements(get(props, "associations")):
            yield (f"cache behaviour {get(a, 'path_pattern')} of distribution {get(props, 'distribution_id')}",
                   get(a, "event_type"), get(a, "lambda_arn"))


def worker_modules(props: Any) -> tuple[dict[str, bytes], bool]:
    """The modules a WorkersScript uploads that can be read here (main content, extra files), and
    whether that is all of them (False when one is unknown during preview or not on this disk)."""
    out: dict[str, bytes] = {}
    complete = True
    content, content_file, files = get(props, "content"), get(props, "contentFile"), get(props, "files")
    if isinstance(content, str):
        out["content"] = content.encode()
    if isinstance(content_file, str):
        if p := local_file(content_file):
            out[content_file] = p.read_bytes()
        else:
            complete = False
    if isinstance(files, Mapping):
        for name in files:
            f = get(files, name)
            b64, path = get(f, "contentBase64"), get(f, "contentFile")
            if isinstance(b64, str):
                out[name] = base64.b64decode(b64)
            elif isinstance(path, str) and (p := local_file(path)):
                out[name] = p.read_bytes()
            else:
                complete = False
    if any(v is UNKNOWN for v in (content, content_file, files)):
        complete = False
    return out, complete


def vercel_files(props: Any) -> dict[str, tuple[str, int | None, str | None]]:
    """Uploaded name -> (local path, size, sha1) of a Vercel Deployment's file map ('<size>~<sha1>')."""
    files, prefix = get(props, "files"), get(props, "pathPrefix")
    out: dict[str, tuple[str, int | None, str | None]] = {}
    if not isinstance(files, Mapping):
        return out
    for local in files:
        meta = get(files, local)
        size, sha = None, None
        if isinstance(meta, str) and "~" in meta:
            s, sha = meta.split("~", 1)
            size = int(s) if s.isdigit() else None
        name = PurePosixPath(local)
        if isinstance(prefix, str) and prefix:
            try:  # the provider strips path_prefix from the uploaded names
                name = name.relative_to(PurePosixPath(prefix))
            except ValueError:
                pass
        out[str(name)] = (local, size, sha)
    return out


def read_vercel_file(local: str, sha: str | None) -> bytes | None:
    """A Deployment file's bytes, only if they are the bytes the file map says will be uploaded."""
    p = local_file(local)
    if p is None:
        return None
    data = p.read_bytes()
    return data if sha is None or hashlib.sha1(data).hexdigest() == sha else None


MIDDLEWARE = re.compile(r"^middleware\.(js|mjs|ts)$")  # Vercel Routing Middleware sits at the project root


def vercel_middleware(props: Any) -> tuple[str, str, int | None, str | None] | None:
    for name, (local, size, sha) in vercel_files(props).items():
        if MIDDLEWARE.match(name):
            return name, local, size, sha
    return None


# ---------------------------------------------------------------- 1. auth-fails-closed

# The build declares edgeport's runtime config in front of the engine (const __EDGEPORT_CONFIG__=({…});
# build/engine.py js_literal) as a minified object literal: each pattern appears as {name:"…",type:"jwt-auth",…} and a Lambda@Edge bundle's
# trigger as event:"viewer-request". The JSON spelling is accepted too. Engine code refers to
# pattern types as object keys ("jwt-auth":handler), which these do not match.
INLINED_JWT_AUTH = re.compile(r"""(?:\btype|"type")\s*:\s*["']jwt-auth["']""")
INLINED_EVENT = re.compile(r"""(?:\bevent|"event")\s*:\s*["'](viewer-request|origin-request|origin-response|viewer-response)["']""")
PROXY_DESTINATION = re.compile(r"^https?://", re.I)


def auth_fails_closed(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    """Nothing may turn an auth check into a pass-through.

    - Cloudflare WorkersScript: no module may call ``passThroughOnException`` — with it, an
      exception in the Worker forwards the request to the origin unauthenticated.
    - Cloudflare WorkersRoute: must name a script. A route without one disables Workers on its
      pattern, so a narrower script-less route punches a hole in an auth route around it.
    - Lambda@Edge: a CloudFront association must use the trigger the function was built for
      (the '-<trigger>' suffix of edgeport's function names). edgeport builds jwt-auth into the
      viewer-request bundle only; associating that function on origin-request would skip the
      check on every cache hit. Checked on created distributions and on edgeport's associations
      with an existing one; during preview an ARN not known yet is checked at ``pulumi up``.
    - Lambda@Edge bundle: a function whose bundle carries a jwt-auth pattern in its inlined
      runtime config must serve viewer-request (its name's trigger) and have been built for it
      (the inlined ``event``). This reads the bundle's text, so it only runs when the code archive
      is readable where Pulumi runs; the association check above does not depend on it.
    - Vercel Deployment that proxies to an external origin (a root ``vercel.json`` rewriting to
      an http(s) URL, as edgeport's does): must carry a root ``middleware.js``; without it every
      request reaches the origin with no edge auth at all.
    """
    t, props = args.resource_type, args.props
    if t in WORKERS_SCRIPT:
        modules, _complete = worker_modules(props)  # whatever can be read: one call is enough to fail
        calls = sorted(name for name, data in modules.items() if b"passThroughOnException" in data)
        if calls:
            report_violation(
                f"{label(args, 'Cloudflare Worker', get(props, 'scriptName'))}: {', '.join(calls)} calls "
                "passThroughOnException(), so an exception in the Worker forwards the request to the origin without the "
                "auth check (fail open). Fix: remove the call and let errors surface as 5xx responses "
                "(edgeport's engine already answers 503 on internal errors).")
    elif t == WORKERS_ROUTE:
        script = get(props, "script")
        if script is None or (isinstance(script, str) and not script.strip()):
            report_violation(
                f"{label(args, 'Cloudflare Workers route', get(props, 'pattern'))} has no script: Cloudflare runs no Worker "
                "for requests matching it, so it bypasses any auth route that also covers those paths. Fix: set script to "
                "the Worker's name, or delete the route.")
    elif t in (DISTRIBUTION, DYNAMIC_RESOURCE):
        for where, event, arn in lambda_associations(args):
            m = LAMBDA_ARN.match(arn) if isinstance(arn, str) else None
            built_for = edge_trigger(m["name"]) if m else None
            if built_for is None or not isinstance(event, str) or event == built_for:
                continue
            why = (" It runs the jwt-auth check, which on origin-request is skipped for every cache hit, so cached "
                   "responses would be served without auth." if built_for == VIEWER_REQUEST else "")
            report_violation(
                f"{associations_label(args)}: {where} associates {m['name']} on {event}, but that function "
                f"was built for {built_for}.{why} Fix: associate it on {built_for} (edgeport's lambda_edge.behaviours "
                "decides the triggers; do not edit them by hand).")
    elif t == LAMBDA_FUNCTION:
        name = function_name(args)
        if function_trigger(args) is None:
            return
        files = archive_files(get(args.props, "code")) or {}
        code = "\n".join(data.decode("utf-8", "replace") for data in files.values())
        if not INLINED_JWT_AUTH.search(code):
            return
        # The name says which trigger the function is associated on; the inlined event which trigger the
        # bundle was built for. Both must be viewer-request for a bundle that authenticates.
        served, built_for = function_trigger(args), set(INLINED_EVENT.findall(code))
        if ({served} | built_for) - {VIEWER_REQUEST}:
            built = f" (built for {', '.join(sorted(built_for))})" if built_for else ""
            report_violation(
                f"{label(args, 'Lambda@Edge function', name)}: its bundle{built} runs jwt-auth and the function serves "
                f"{served}; only viewer-request runs on every request (origin triggers are skipped on cache hits). "
                "Fix: build jwt-auth into the viewer-request function only (edgeport's capability matrix puts it there).")
    elif t == VERCEL_DEPLOYMENT:
        files = vercel_files(props)
        if "vercel.json" not in files or vercel_middleware(props):
            return
        local, _size, sha = files["vercel.json"]
        raw = read_vercel_file(local, sha)
        try:
            rewrites = json.loads(raw).get("rewrites", []) if raw else []
        except (ValueError, AttributeError):
            return
        proxied = sorted({r.get("destination", "") for r in rewrites if isinstance(r, dict)
                          and PROXY_DESTINATION.match(str(r.get("destination", "")))})
        if proxied:
            report_violation(
                f"{label(args, 'Vercel deployment')}: vercel.json rewrites requests to {', '.join(proxied)} but the "
                f"deployment has no root {vercel.ENTRY}, so every request reaches the origin with no edge auth. "
                f"Fix: deploy edgeport's built {vercel.ENTRY} with it (edgeport build writes both files).")


# ---------------------------------------------------------------- 2. lambda-edge-us-east-1-published


def lambda_edge_us_east_1_published(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    """Lambda@Edge deployment rules, before CloudFront rejects them (or worse, accepts them).

    Functions: edgeport's Lambda@Edge functions, recognised by their ``edgeport:trigger`` tag
    (``lambda_edge.function_tags``), else the '-<trigger>' part of their name (a policy sees one resource at a
    time, and the distribution references the function, not the other way round). Each must be published
    (CloudFront needs a numbered version), have no environment variables, layers, VPC, dead-letter
    queue, active X-Ray tracing, reserved concurrency or container image, run on x86_64 only, use
    at most 512 MB of ephemeral storage, stay within the viewer-trigger memory and timeout quotas
    (``lambda_edge.VIEWER``) when it serves a viewer trigger, and be in us-east-1 — from its
    ``region`` input, else from its provider's ``region``. A region nothing states is a violation:
    the default region of whoever runs ``pulumi up`` is not a guarantee.

    Associations (every CloudFront distribution, and edgeport's associations on an existing
    distribution): each ``lambdaArn`` must be a numbered-version ARN of a function in us-east-1,
    never unqualified, ``$LATEST`` or an alias.
    """
    t, props = args.resource_type, args.props
    if t == LAMBDA_FUNCTION:
        name = function_name(args)
        trigger = function_trigger(args)
        if trigger is None:
            return
        who = label(args, "Lambda@Edge function", name)
        problems: list[str] = []

        def known(key: str) -> Any:  # an input, None when absent or not known yet
            v = get(props, key)
            return None if v is UNKNOWN else v

        if get(props, "publish") not in (True, UNKNOWN):
            problems.append("publish is not true: CloudFront can only associate a numbered version. "
                            "Fix: publish=True and associate the function's qualified_arn")
        variables = get(known("environment"), "variables")
        if isinstance(variables, Mapping) and len(variables) > 0:
            problems.append("it sets environment variables, which Lambda@Edge does not support. "
                            "Fix: bake configuration into the bundle (edgeport does) and fetch secrets from Secrets Manager")
        if elements(known("layers")):
            problems.append("it uses layers, which Lambda@Edge does not support. Fix: bundle the code instead")
        vpc = known("vpcConfig")
        if elements(get(vpc, "subnetIds")) or elements(get(vpc, "securityGroupIds")):
            problems.append("it is attached to a VPC, which Lambda@Edge does not support. Fix: remove vpc_config")
        archs = [a for a in elements(known("architectures")) if a is not UNKNOWN]
        if any(a != "x86_64" for a in archs):
            problems.append(f"architectures is {archs}; Lambda@Edge runs x86_64 only. Fix: architectures=['x86_64']")
        if known("packageType") == "Image":
            problems.append("it is a container image; Lambda@Edge needs a .zip package. Fix: package_type='Zip'")
        if get(known("deadLetterConfig"), "targetArn"):
            problems.append("it has a dead-letter queue, which Lambda@Edge does not support. Fix: remove dead_letter_config")
        if get(known("tracingConfig"), "mode") == "Active":
            problems.append("X-Ray tracing is active, which Lambda@Edge does not support. Fix: remove tracing_config")
        storage = get(known("ephemeralStorage"), "size")
        if isinstance(storage, (int, float)) and storage > 512:
            problems.append(f"ephemeral storage is {storage:g} MB; Lambda@Edge allows 512 MB. Fix: remove ephemeral_storage")
        reserved = known("reservedConcurrentExecutions")
        if isinstance(reserved, (int, float)) and reserved >= 0:
            problems.append("it reserves concurrency, which Lambda@Edge does not support. Fix: remove reserved_concurrent_executions")
        if trigger.startswith("viewer"):
            quota = lambda_edge.VIEWER
            memory, timeout = known("memorySize"), known("timeout")
            if isinstance(memory, (int, float)) and memory > quota["memory"]:
                problems.append(f"memory is {memory:g} MB; {trigger} allows {quota['memory']} MB. Fix: memory_size={quota['memory']}")
            if isinstance(timeout, (int, float)) and timeout > quota["timeout"]:
                problems.append(f"timeout is {timeout:g} s; {trigger} allows {quota['timeout']} s. Fix: timeout={quota['timeout']}")
        region, source = get(props, "region"), "its region input"
        if region in (None, "") and args.provider is not None:
            region, source = get(args.provider.props, "region"), f"its provider {args.provider.name}"
        if region in (None, ""):
            problems.append(f"nothing states its region; Lambda@Edge functions must be created in {lambda_edge.REGION}. "
                            f"Fix: region='{lambda_edge.REGION}' or an explicit {lambda_edge.REGION} provider (edgeport uses one)")
        elif region is not UNKNOWN and region != lambda_edge.REGION:
            problems.append(f"it is in {region} ({source}); Lambda@Edge functions must be created in {lambda_edge.REGION}. "
                            f"Fix: region='{lambda_edge.REGION}' or an explicit {lambda_edge.REGION} provider")
        for p in problems:
            report_violation(f"{who}: {p}.")
    elif t in (DISTRIBUTION, DYNAMIC_RESOURCE):
        for where, event, arn in lambda_associations(args):
            if arn is UNKNOWN:
                continue  # a function created in this update; checked again by `pulumi up`
            m = LAMBDA_ARN.match(arn) if isinstance(arn, str) else None
            head = f"{associations_label(args)}: {where} associates {arn!r} on {event}"
            fix = "Fix: associate the function's qualified_arn (published version), as edgeport does."
            if m is None:
                report_violation(f"{head}, which is not a Lambda function ARN. {fix}")
            elif m["region"] != lambda_edge.REGION:
                report_violation(f"{head}: the function is in {m['region']}, but CloudFront only runs Lambda@Edge "
                                 f"functions from {lambda_edge.REGION}. Fix: create the function in {lambda_edge.REGION}.")
            elif m["qualifier"] is None:
                report_violation(f"{head}: the ARN has no version; CloudFront needs a numbered version. {fix}")
            elif m["qualifier"] == "$LATEST":
                report_violation(f"{head}: $LATEST is not allowed; CloudFront needs a numbered version. {fix}")
            elif not m["qualifier"].isdigit():
                report_violation(f"{head}: '{m['qualifier']}' is an alias; CloudFront needs a numbered version. {fix}")


# ---------------------------------------------------------------- 3. no-secret-in-plain-input

# An SSM parameter "holds a secret" when its name says so in edgeport's terms: the shape of an
# edgeport secret id (lambda_edge.secret_id: edgeport/<app>/<stack>/<name>, four segments; live
# settings such as /edgeport/<app>/<stack>/ab/<name> have five) or an EDGEPORT_SECRET_ name.
# Guessing from words like "token" would block user-named parameters (A/B test names are free
# text); a String parameter whose value is a secret held elsewhere is caught by
# no-secret-value-reused instead.
SECRET_PARAMETER_NAME = re.compile(r"^/?edgeport/[^/]+/[^/]+/[^/]+$|" + re.escape(ENV_PREFIX))


def _is_secret_key(key: Any) -> bool:
    return isinstance(key, str) and key.startswith(ENV_PREFIX)


def no_secret_in_plain_input(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    """Secrets travel only through each platform's secret channel.

    Pulumi strips the secret marking before a policy runs, so this cannot ask "is this input a
    Pulumi secret?". It checks what the inputs themselves say (edgeport names every secret
    ``EDGEPORT_SECRET_<NAME>`` on Cloudflare and Vercel):

    - Vercel project / shared environment variables named EDGEPORT_SECRET_* are ``sensitive``;
    - a Vercel Deployment's own ``environment`` holds no EDGEPORT_SECRET_* (it is not sensitive);
    - a Cloudflare Worker binding named EDGEPORT_SECRET_* is ``secret_text`` or
      ``secrets_store_secret`` (``plain_text``/``json`` are readable in the dashboard and API);
    - a Lambda function has no EDGEPORT_SECRET_* environment variable (readable by anyone with
      lambda:GetFunctionConfiguration);
    - an SSM parameter whose name marks it as a secret is a ``SecureString`` without ``insecureValue``.

    Values copied into code or other inputs: see no_secret_value_reused (a stack policy).
    """
    t, props = args.resource_type, args.props
    if t in (VERCEL_ENV, VERCEL_SHARED_ENV):
        key = get(props, "key")
        if _is_secret_key(key) and get(props, "sensitive") not in (True, UNKNOWN):
            report_violation(
                f"{label(args, 'Vercel environment variable', key)} is not sensitive, so its value is readable in the "
                "Vercel dashboard and API. Fix: sensitive=True (targets production/preview; Vercel does not allow "
                "sensitive variables for development).")
    elif t == VERCEL_ENVS:
        for v in elements(get(props, "variables")):
            key = get(v, "key")
            if _is_secret_key(key) and get(v, "sensitive") not in (True, UNKNOWN):
                report_violation(
                    f"{label(args, 'Vercel environment variables')}: {key} is not sensitive, so its value is readable in "
                    "the Vercel dashboard and API. Fix: sensitive=True for it.")
    elif t == VERCEL_DEPLOYMENT:
        env = get(props, "environment")
        keys = sorted(k for k in env if _is_secret_key(k)) if isinstance(env, Mapping) else []
        if keys:
            report_violation(
                f"{label(args, 'Vercel deployment')}: its environment sets {', '.join(keys)}; deployment environment "
                "values are not sensitive. Fix: create a sensitive ProjectEnvironmentVariable instead (edgeport does), "
                "before the deployment.")
    elif t in WORKERS_SCRIPT:
        for b in elements(get(props, "bindings")):
            name, kind = get(b, "name"), get(b, "type")
            if _is_secret_key(name) and isinstance(kind, str) and kind not in SECRET_BINDING_TYPES:
                report_violation(
                    f"{label(args, 'Cloudflare Worker', get(props, 'scriptName'))}: binding {name} is {kind}, so its "
                    "value is readable in the Cloudflare dashboard and API. Fix: type='secret_text' with the value as a "
                    "Pulumi secret (or a secrets_store_secret binding).")
    elif t == LAMBDA_FUNCTION:
        variables = get(get(props, "environment"), "variables")
        keys = sorted(k for k in variables if _is_secret_key(k)) if isinstance(variables, Mapping) else []
        if keys:
            report_violation(
                f"{label(args, 'Lambda function', function_name(args))}: environment variables {', '.join(keys)} hold "
                "secrets in plain configuration. Fix: keep the value in Secrets Manager and read it at cold start "
                "(as edgeport's Lambda@Edge functions do).")
    elif t == SSM_PARAMETER:
        name = get(props, "name")
        name = name if isinstance(name, str) else args.name
        if not SECRET_PARAMETER_NAME.search(name):
            return
        kind = get(props, "type")
        if kind not in ("SecureString", UNKNOWN):
            report_violation(
                f"{label(args, 'SSM parameter', name)} holds a secret (by its name) but is {kind}, stored unencrypted. "
                "Fix: type='SecureString'.")
        if get(props, "insecureValue") not in (None, UNKNOWN):
            report_violation(
                f"{label(args, 'SSM parameter', name)} holds a secret (by its name) in insecure_value, which Pulumi "
                "stores and shows in plain text. Fix: use value (a Pulumi secret) with type='SecureString'.")


def _secret_holdings(r: Any) -> Iterator[tuple[str, Any, str]]:
    """(input path, value, description) of each secret a resource legitimately holds."""
    t, props = r.resource_type, r.props
    if t in (VERCEL_ENV, VERCEL_SHARED_ENV):
        if get(props, "sensitive") is True or _is_secret_key(get(props, "key")):
            yield "value", get(props, "value"), f"Vercel variable {get(props, 'key')} ({r.name})"
    elif t == VERCEL_ENVS:
        for i, v in enumerate(elements(get(props, "variables"))):
            if get(v, "sensitive") is True or _is_secret_key(get(v, "key")):
                yield f"variables[{i}].value", get(v, "value"), f"Vercel variable {get(v, 'key')} ({r.name})"
    elif t in WORKERS_SCRIPT:
        for i, b in enumerate(elements(get(props, "bindings"))):
            if get(b, "type") == "secret_text":
                yield f"bindings[{i}].text", get(b, "text"), f"Worker secret {get(b, 'name')} ({r.name})"
    elif t == SECRETS_STORE_SECRET:
        yield "value", get(props, "value"), f"Cloudflare secret {get(props, 'name')} ({r.name})"
    elif t == SECRET_VERSION:
        yield "secretString", get(props, "secretString"), f"Secrets Manager secret version {r.name}"
    elif t == SSM_PARAMETER and get(props, "type") == "SecureString":
        yield "value", get(props, "value"), f"SecureString parameter {get(props, 'name') or r.name}"
    elif t == VERCEL_EDGE_CONFIG_TOKEN:  # secret outputs; the EDGE_CONFIG variable carries the connection string
        yield "token", get(props, "token"), f"Edge Config token {r.name}"
        yield "connectionString", get(props, "connectionString"), f"Edge Config token {r.name}"


def _strings(value: Any, path: str) -> Iterator[tuple[str, str]]:
    """(input path, text) of every string in an input, including the text of readable assets."""
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, (pulumi.Asset, pulumi.Archive)):
        for name, data in (archive_files(value) or {}).items():
            yield f"{path}/{name}" if name else path, data.decode("utf-8", "replace")
    elif isinstance(value, Mapping):
        for k in value:
            yield from _strings(get(value, k), f"{path}.{k}" if path else str(k))
    elif is_list(value):
        for i, v in enumerate(elements(value)):
            yield from _strings(v, f"{path}[{i}]")


def _code_texts(r: Any) -> Iterator[tuple[str, str]]:
    """Code a resource uploads from local files that its inputs only point to."""
    if r.resource_type in WORKERS_SCRIPT:
        for name, data in worker_modules(r.props)[0].items():
            if name != "content":  # content itself is an input string, scanned already
                yield f"files/{name}", data.decode("utf-8", "replace")
    elif r.resource_type == VERCEL_DEPLOYMENT:
        for name, (local, _size, sha) in vercel_files(r.props).items():
            data = read_vercel_file(local, sha)
            if data is not None:
                yield f"files/{name}", data.decode("utf-8", "replace")


def no_secret_value_reused(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    """No resource carries, in a plain input or in its code, the value of a secret held elsewhere in the stack.

    Secrets are what the stack holds through a secret channel: sensitive (or EDGEPORT_SECRET_*)
    Vercel variables, Worker ``secret_text`` bindings, Cloudflare Secrets Store secrets, Secrets
    Manager secret versions and SecureString parameters. Every other string input — Worker
    content, a Lambda code archive, a Vercel deployment's files (read from disk), configuration
    JSON, descriptions — must not contain one of those values. Values under 8 characters are
    ignored (they would match by accident), as are provider configurations and stack outputs. A
    secret that exists only in plain inputs, with no secret holder, cannot be recognised by value.
    """
    secrets: dict[str, str] = {}
    held: set[tuple[str, str]] = set()
    for r in args.resources:
        for path, value, what in _secret_holdings(r):
            held.add((r.urn, path))
            if isinstance(value, str) and len(value) >= MIN_SECRET_CHARS:
                secrets.setdefault(value, what)
    if not secrets:
        return
    for r in args.resources:
        if r.resource_type.startswith("pulumi:providers:") or r.resource_type == STACK:
            continue  # provider configuration and stack outputs are not resource inputs
        texts = [(p, s) for p, s in _strings(r.props, "") if (r.urn, p) not in held]
        found: dict[str, set[str]] = {}
        for path, text in [*texts, *_code_texts(r)]:
            for value, what in secrets.items():
                if value in text:
                    found.setdefault(what, set()).add(path)
        for what, paths in sorted(found.items()):
            # Never print the value itself: policy messages end up in logs and in Pulumi Cloud.
            report_violation(
                f"{r.resource_type.split(':')[-1]} {r.name}: {', '.join(sorted(paths))} contains the value of {what}, "
                "in a plain input (stored unencrypted in the state and visible on the platform). Fix: read it through the "
                "secret binding / sensitive variable / Secrets Manager at runtime instead of inlining it.", r.urn)


# ---------------------------------------------------------------- 4. bundle-under-budget

# Plans and their limits come from edgeport's target modules; the policy config names the plan
# (`pulumi preview --policy-pack policy --policy-pack-config <file>`, docs/policy.md), because no
# resource input says which Cloudflare or Vercel plan the account is on.
CLOUDFLARE_BUDGETS: Mapping[str, Budget] = cloudflare.BUDGETS
VERCEL_BUDGETS: Mapping[str, Budget] = vercel.BUDGETS
BUDGET_CONFIG = PolicyConfigSchema(properties={
    "cloudflarePlan": {"type": "string", "enum": list(CLOUDFLARE_BUDGETS),
                       "description": "the Workers plan of the account (the Worker size limit depends on it)"},
    "vercelPlan": {"type": "string", "enum": list(VERCEL_BUDGETS),
                   "description": "the Vercel plan of the team (the Edge middleware size limit depends on it)"},
})


def _largest(budgets: Mapping[str, Budget]) -> tuple[str, Budget]:
    return max(budgets.items(), key=lambda kv: kv[1].limit)


def _smallest(budgets: Mapping[str, Budget]) -> tuple[str, Budget]:
    return min(budgets.items(), key=lambda kv: kv[1].limit)


def _budget(args: Any, key: str, budgets: Mapping[str, Budget], advisory: bool) -> tuple[str, Budget] | None:
    """The plan and limit to check against: the configured plan's, else the largest plan's (a hard
    limit on any plan) for the mandatory policy and the smallest plan's for the advisory one. The
    advisory has nothing to add once a plan is configured."""
    plan = get(args.get_config(), key)
    if plan in budgets:
        return None if advisory else (plan, budgets[plan])
    return _smallest(budgets) if advisory else _largest(budgets)


def _check_bundles(args: ResourceValidationArgs, report_violation: ReportViolation, advisory: bool) -> None:
    t, props = args.resource_type, args.props
    if t in WORKERS_SCRIPT:
        chosen = _budget(args, "cloudflarePlan", CLOUDFLARE_BUDGETS, advisory)
        # Modules that cannot be read here only make the measure smaller: over the limit is still over.
        modules, _complete = worker_modules(props)
        if chosen is None or not modules:
            return
        name, budget = chosen
        size = sum(gzip_size(d) for d in modules.values())
        if size > budget.limit:
            hint = (" Larger plans allow more; set cloudflarePlan in this policy's config to check against yours."
                    if advisory else "")
            report_violation(
                f"{label(args, 'Cloudflare Worker', get(props, 'scriptName'))} is {mb(size)} after gzip, over the "
                f"limit of plan '{name}' ({budget.label}).{hint} Fix: shrink the bundle (drop dependencies; `edgeport build` "
                "shows the size) or move to a plan that allows it.")
    elif t == LAMBDA_FUNCTION and not advisory:
        name = function_name(args)
        trigger = function_trigger(args)
        if trigger is None:
            return
        files = archive_files(get(props, "code"))
        if not files:
            return
        budget = lambda_edge.limits(trigger)["package"]
        size = zip_size(files)
        if size > budget.limit:
            report_violation(
                f"{label(args, 'Lambda@Edge function', name)}: its package is {mb(size)} zipped, over the {trigger} "
                f"limit ({budget.label}); CloudFront refuses the association. Fix: shrink the bundle, or move the work to an "
                "origin trigger if the pattern allows it.")
    elif t == VERCEL_DEPLOYMENT:
        chosen = _budget(args, "vercelPlan", VERCEL_BUDGETS, advisory)
        found = vercel_middleware(props)
        if chosen is None or found is None:
            return
        name, budget = chosen
        file, local, raw_size, sha = found
        data = read_vercel_file(local, sha)
        if data is not None:
            size, how = gzip_size(data), "after gzip"
        elif raw_size is not None and raw_size > budget.limit:
            size, how = raw_size, "uncompressed (the file could not be read here to gzip it; run Pulumi from the project directory)"
        else:
            return  # unreadable, but even uncompressed it fits
        if size > budget.limit:
            hint = (" Larger plans allow more; set vercelPlan in this policy's config to check against yours."
                    if advisory else "")
            report_violation(
                f"{label(args, 'Vercel deployment')}: {file} is {mb(size)} {how}, over the limit of plan "
                f"'{name}' ({budget.label})."
                f"{hint} Fix: shrink the middleware bundle (`edgeport build` shows the size) or move to a plan that "
                "allows it.")


def bundle_under_budget(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    """Edge code fits the platform's hard size limit (MANDATORY).

    - Cloudflare Worker: all modules, after gzip, within the configured plan's limit, or the
      largest plan's (Workers Paid) when ``cloudflarePlan`` is not configured;
    - Lambda@Edge: the zipped code archive within ``lambda_edge.VIEWER``/``ORIGIN["package"]``
      for the function's trigger (from edgeport's '-<trigger>' name suffix);
    - Vercel: the root middleware, after gzip, within the configured plan's limit, or the largest
      plan's (Enterprise) when ``vercelPlan`` is not configured. The file is read from disk and
      must match the sha1 in the deployment's file map; if it cannot be read, its uncompressed
      size (from the file map) is used when that alone exceeds the limit.
    Code that cannot be read where Pulumi runs (remote archives, unknown during preview) is skipped.
    """
    _check_bundles(args, report_violation, advisory=False)


def bundle_under_budget_advisory(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    """Warns (ADVISORY) when a Worker or Vercel middleware exceeds the smallest plan's limit (Workers Free, Vercel
    Hobby) and no plan is configured for it, i.e. when it only fits if the account is on a larger plan."""
    _check_bundles(args, report_violation, advisory=True)


# ---------------------------------------------------------------- the pack

POLICIES = [
    ResourceValidationPolicy(
        name="auth-fails-closed",
        description="Nothing turns the edge auth into a pass-through: no passThroughOnException in Workers, no "
                    "script-less Workers routes, jwt-auth only on viewer-request, no proxying Vercel deployment without "
                    "its middleware.",
        validate=auth_fails_closed,
        enforcement_level=EnforcementLevel.MANDATORY,
    ),
    ResourceValidationPolicy(
        name="lambda-edge-us-east-1-published",
        description="Lambda@Edge functions are published versions in us-east-1 with no environment, layers, VPC or "
                    "arm64; CloudFront associates numbered versions only.",
        validate=lambda_edge_us_east_1_published,
        enforcement_level=EnforcementLevel.MANDATORY,
    ),
    ResourceValidationPolicy(
        name="no-secret-in-plain-input",
        description="EDGEPORT_SECRET_* values travel only as sensitive Vercel variables, secret_text Worker bindings "
                    "or SecureString parameters; never as plain environment variables.",
        validate=no_secret_in_plain_input,
        enforcement_level=EnforcementLevel.MANDATORY,
    ),
    StackValidationPolicy(
        name="no-secret-value-reused",
        description="The value of a secret held in the stack appears in no other resource's plain inputs or code.",
        validate=no_secret_value_reused,
        enforcement_level=EnforcementLevel.MANDATORY,
    ),
    ResourceValidationPolicy(
        name="bundle-under-budget",
        description="Worker, Lambda@Edge and Vercel middleware bundles fit the platform's hard size limit.",
        validate=bundle_under_budget,
        enforcement_level=EnforcementLevel.MANDATORY,
        config_schema=BUDGET_CONFIG,
    ),
    ResourceValidationPolicy(
        name="bundle-under-budget-advisory",
        description="Worker and Vercel middleware bundles fit the smallest plan's size limit when no plan is configured.",
        validate=bundle_under_budget_advisory,
        enforcement_level=EnforcementLevel.ADVISORY,
        config_schema=BUDGET_CONFIG,
    ),
]
