"""Day-2 operations on a deployed Lambda@Edge stack (edgeport.ops; protocol.TargetOps), with boto3. No Pulumi.

What the stack deployed is found from its declaration alone: the functions by their tags (edgeport:app,
edgeport:stack, edgeport:trigger; function_tags()), the distributions by the function versions they associate (or
targets.lambda-edge.existingDistributionId), the live settings by their SSM names (live_key()).

- Credentials come from boto3's default chain (profile, environment, web identity / OIDC, instance roles;
  boto3.amazonaws.com/v1/documentation/api/latest/guide/credentials.html). None is ever printed.
- AWS_ENDPOINT_URL in the environment points every client elsewhere (the tests use moto's server).
- Every call is bounded: 5 s to connect, 20 s to read, at most 5 attempts in botocore's "standard" retry mode, which
  retries throttling errors (ThrottlingException, Throttling, TooManyRequestsException, ...) and transient ones with
  exponential backoff and jitter (boto3.amazonaws.com/v1/documentation/api/latest/guide/retries.html). The bound is
  `total_max_attempts`, which counts the first request; the older `max_attempts` counts retries only (5 -> 6 calls).
"""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Mapping

from ...ops import MissingCredentials, OpsError, parse_value
from . import EVERY_BEHAVIOUR, REGION, behaviours, default_behaviour, events, existing_associations, live_key

# The functions read their live settings from SSM in us-east-1 (functions/platforms/lambda-edge/adapter.ts), the
# Region written here, so the store adds no propagation of its own: a read that names no version gets the latest one
# (docs.aws.amazon.com/systems-manager/latest/userguide/sysman-paramstore-versions.html; PutParameter returns that
# new version: docs.aws.amazon.com/systems-manager/latest/APIReference/API_PutParameter.html). What delays a change
# is the edge code's cache of the value, the pattern's liveTtl.
LIVE_PROPAGATION = (0.0, "docs.aws.amazon.com/systems-manager/latest/userguide/sysman-paramstore-versions.html")
STORE = "SSM parameter"

# "Lambda@Edge automatically sends function logs to CloudWatch Logs, creating log streams in the AWS Regions where the
# functions are invoked ... the log group name is /aws/lambda/us-east-1.<FunctionName>", the prefix staying in every
# Region (docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/edge-functions-logs.html, "Lambda@Edge logs").
LOG_GROUP_PREFIX = "/aws/lambda/us-east-1."
# FilterLogEvents returns at most 10,000 events per page (its `limit`; docs.aws.amazon.com/AmazonCloudWatchLogs/
# latest/APIReference/API_FilterLogEvents.html); a search stops after LOG_MAX_EVENTS per log group and says so.
LOG_PAGE = 10_000
LOG_MAX_EVENTS = 100_000
LOG_WORKERS = 8
MAX_ATTEMPTS = 5
# When ec2:DescribeRegions is not allowed: the Regions botocore's bundled endpoint data knows for CloudWatch Logs.
# A Region the account has not enabled answers with an error, reported in regions_failed.

# After the last association goes, CloudFront removes the replicas "typically within a few hours"; until then
# DeleteFunction fails with InvalidParameterValueException "Lambda was unable to delete <arn> because it is a
# replicated function", and replicas cannot be deleted by hand
# (docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/lambda-edge-delete-replicas.html).
REPLICATED = "replicated function"

CREDENTIALS_HINT = ("set AWS_PROFILE (a profile in ~/.aws/config), or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, "
                    "or assume a role (OIDC web identity in CI: AWS_ROLE_ARN + AWS_WEB_IDENTITY_TOKEN_FILE)")
# Error codes that mean the identity itself is refused (STS/IAM): no Region or retry will do better.
_AUTH_CODES = {"UnrecognizedClientException", "InvalidClientTokenId", "ExpiredToken", "ExpiredTokenException",
               "InvalidSignatureException", "SignatureDoesNotMatch", "AuthFailure"}
_DENIED_CODES = {"AccessDenied", "AccessDeniedException", "UnauthorizedOperation"}


# ---------------------------------------------------------------- clients and errors


def _session(env: Mapping[str, str]):
    """A boto3 session on the default credential chain (keys from `env` when it carries them); MissingCredentials
    when the chain finds nothing."""
    import boto3
    from botocore.exceptions import BotoCoreError

    keys = {k: env[e] for k, e in (("aws_access_key_id", "AWS_ACCESS_KEY_ID"), ("aws_secret_access_key", "AWS_SECRET_ACCESS_KEY"),
                                   ("aws_session_token", "AWS_SESSION_TOKEN")) if env.get(e)}
    if ("aws_access_key_id" in keys) != ("aws_secret_access_key" in keys):
        raise MissingCredentials("lambda-edge: AWS credentials incomplete: one of AWS_ACCESS_KEY_ID and "
                                 "AWS_SECRET_ACCESS_KEY is set without the other", CREDENTIALS_HINT)
    try:
        session = boto3.session.Session(profile_name=env.get("AWS_PROFILE") or None, **keys)
        creds = session.get_credentials()
    except BotoCoreError as e:  # ProfileNotFound, PartialCredentialsError, a broken config file, a refused role ...
        raise MissingCredentials(f"lambda-edge: AWS credentials unusable: {type(e).__name__}: {e}", CREDENTIALS_HINT) from None
    if creds is None:
        raise MissingCredentials("lambda-edge: no AWS credentials (none in the environment, profile or role chain)",
                                 CREDENTIALS_HINT)
    return session


def _client(service: str, region: str, env: Mapping[str, str], session=None):
    """The one way clients are made: the session's credentials, AWS_ENDPOINT_URL when set, bounded timeouts and
    retries. Make clients on one thread: a boto3 Session is not thread-safe, its clients are
    (boto3.amazonaws.com/v1/documentation/api/latest/guide/clients.html, "Multithreading or multiprocessing")."""
    from botocore.config import Config

    session = session or _session(env)
    return session.client(service, region_name=region, endpoint_url=env.get("AWS_ENDPOINT_URL") or None,
                          config=Config(retries={"total_max_attempts": MAX_ATTEMPTS, "mode": "standard"},
                                        connect_timeout=5, read_timeout=20))


def _error(what: str, e: Exception) -> OpsError:
    """An OpsError naming the operation and AWS's error code and message (which never carry the secret key)."""
    from botocore.exceptions import ClientError, NoCredentialsError, PartialCredentialsError

    if isinstance(e, (NoCredentialsError, PartialCredentialsError)):
        return MissingCredentials(f"lambda-edge: no usable AWS credentials for {what}", CREDENTIALS_HINT)
    if isinstance(e, ClientError):
        err = e.response.get("Error", {})
        code = err.get("Code", "")
        hint = (CREDENTIALS_HINT if code in _AUTH_CODES else
                f"the AWS identity needs permission for {what.split()[0]}" if code in _DENIED_CODES else "")
        return OpsError(f"lambda-edge: {what}: {code}: {err.get('Message', '')}", hint)
    return OpsError(f"lambda-edge: {what}: {type(e).__name__}: {e}")  # EndpointConnectionError, timeouts, ...


def _call(what: str, fn, *args, **kwargs):
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        return fn(*args, **kwargs)
    except (ClientError, BotoCoreError) as e:
        raise _error(what, e) from None


def _pages(client, operation: str, what: str, key: str, **kwargs) -> list[Any]:
    return _call(what, lambda: [i for p in client.get_paginator(operation).paginate(**kwargs) for i in p.get(key) or []])


# ---------------------------------------------------------------- live settings (SSM)


def live_get(app, stack: str, pattern, env: Mapping[str, str]) -> dict[str, Any]:
    ssm = _client("ssm", REGION, env)
    key = live_key(app, stack, pattern)
    raw, version = _read(ssm, key)
    return {"store": STORE, "key": key, "region": REGION, "value": parse_value(raw), "raw": raw, "version": version,
            "missing": raw is None}


def live_set(app, stack: str, pattern, value: Any, env: Mapping[str, str], dry_run: bool = False) -> dict[str, Any]:
    """Write the pattern's live value (compact JSON, as the deploy seeds it). dry_run reads only."""
    import json

    ssm = _client("ssm", REGION, env)
    key = live_key(app, stack, pattern)
    before, version = _read(ssm, key)
    out = {"store": STORE, "key": key, "region": REGION, "before": parse_value(before), "after": value, "written": False,
           "version": version}
    if dry_run:
        return out
    put = _call(f"PutParameter {key}", ssm.put_parameter, Name=key, Value=json.dumps(value, separators=(",", ":")),
                Type="String", Overwrite=True)
    return {**out, "written": True, "version": put.get("Version")}


def _read(ssm, key: str) -> tuple[str | None, int | None]:
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        p = ssm.get_parameter(Name=key)["Parameter"]
    except ClientError as e:
        if e.response.get("Error", {}).get("Code") == "ParameterNotFound":
            return None, None
        raise _error(f"GetParameter {key}", e) from None
    except BotoCoreError as e:
        raise _error(f"GetParameter {key}", e) from None
    return p.get("Value"), p.get("Version")


# ---------------------------------------------------------------- what is deployed


def _base(arn: str) -> str:
    """arn:aws:lambda:us-east-1:123:function:name:7 -> arn:aws:lambda:us-east-1:123:function:name"""
    return ":".join(arn.split(":")[:7])


def stack_functions(app, stack: str, env: Mapping[str, str], session=None) -> list[dict[str, Any]]:
    """The stack's functions in us-east-1, current and retained ones (skip_destroy), found by their tags:
    [{"name", "arn" (unqualified), "trigger"}]. ListFunctions + ListTags: moto's Resource Groups Tagging API does
    not know Lambda, and ListTags needs no permission beyond lambda:ListTags."""
    lam = _client("lambda", REGION, env, session)
    out = []
    for f in _pages(lam, "list_functions", "ListFunctions", "Functions"):
        tags = _call(f"ListTags {f['FunctionName']}", lam.list_tags, Resource=_base(f["FunctionArn"])).get("Tags", {})
        if tags.get("edgeport:app") == app.name and tags.get("edgeport:stack") == stack:
            out.append({"name": f["FunctionName"], "arn": _base(f["FunctionArn"]), "trigger": tags.get("edgeport:trigger")})
    return sorted(out, key=lambda f: f["name"])


def _behaviour_paths(dist: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """A distribution's cache behaviours, the default one as "*" (its path pattern in CloudFront's console)."""
    out = [("*", dist.get("DefaultCacheBehavior") or {})]
    return out + [(b.get("PathPattern"), b) for b in ((dist.get("CacheBehaviors") or {}).get("Items") or [])]


def _associations(dist: dict[str, Any]) -> list[dict[str, str]]:
    """Every Lambda association of a distribution summary: behaviour, event type, versioned ARN. ListDistributions
    summaries carry each behaviour's LambdaFunctionAssociations
    (docs.aws.amazon.com/cloudfront/latest/APIReference/API_DistributionSummary.html)."""
    return [{"behaviour": path, "event": a.get("EventType"), "arn": a.get("LambdaFunctionARN")}
            for path, b in _behaviour_paths(dist) for a in ((b.get("LambdaFunctionAssociations") or {}).get("Items") or [])]


def _distributions(env: Mapping[str, str], session=None) -> list[dict[str, Any]]:
    cf = _client("cloudfront", REGION, env, session)  # CloudFront is global; its API is signed for us-east-1
    return _call("ListDistributions", lambda: [d for p in cf.get_paginator("list_distributions").paginate()
                                               for d in ((p.get("DistributionList") or {}).get("Items") or [])])


def declared(app) -> dict[str, Any]:
    """What the stack declares on CloudFront: its triggers, and which behaviour runs which (as resources.py builds
    the distribution, or as associations.py edits an existing one; "*" is the default behaviour, "every" every
    behaviour of an existing distribution)."""
    t = app.targets.lambda_edge
    if t.existing_distribution_id:
        pairs = [(_label(a["path_pattern"]), a["event_type"]) for a in existing_associations(app, {e: e for e in events(app)})]
    else:
        root = default_behaviour(app)
        pairs = [(b["path_pattern"], e) for b in behaviours(app) for e in b["events"]]
        pairs += [("*", e) for e in (root["events"] if root else [])]
    return {"triggers": events(app), "distribution": t.existing_distribution_id,
            "associations": [{"behaviour": b, "event": e} for b, e in pairs]}


def _label(path_pattern: str) -> str:
    return "every" if path_pattern == EVERY_BEHAVIOUR else "*" if path_pattern == "/*" else path_pattern


def status(app, stack: str, env: Mapping[str, str]) -> dict[str, Any]:
    """The stack's functions and their published versions, the distributions running them (deployment status,
    domain, aliases, which version runs on which behaviour and trigger), and how that differs from the declaration."""
    session = _session(env)
    fns = stack_functions(app, stack, env, session)
    mine = {f["arn"]: f for f in fns}
    lam = _client("lambda", REGION, env, session)
    for f in fns:
        versions = _pages(lam, "list_versions_by_function", f"ListVersionsByFunction {f['name']}", "Versions", FunctionName=f["name"])
        f["versions"] = sorted((v["Version"] for v in versions if v["Version"] != "$LATEST"), key=int)
        f["latest"] = f["versions"][-1] if f["versions"] else None
    want = declared(app)
    wanted_id = want["distribution"]
    dists = []
    for d in _distributions(env, session):
        assoc = [{**a, "function": mine[_base(a["arn"])]["name"], "version": a["arn"].rsplit(":", 1)[-1]}
                 for a in _associations(d) if _base(a["arn"] or "") in mine]
        if assoc or d.get("Id") == wanted_id:
            dists.append({"id": d.get("Id"), "status": d.get("Status"), "domain": d.get("DomainName"),
                          "aliases": (d.get("Aliases") or {}).get("Items") or [], "enabled": d.get("Enabled"),
                          "behaviours": [p for p, _ in _behaviour_paths(d)], "associations": assoc})
    for f in fns:
        f["associated"] = any(a["function"] == f["name"] for d in dists for a in d["associations"])
    return {"functions": fns, "distributions": [{k: v for k, v in d.items() if k != "behaviours"} for d in dists],
            "declared": want, "drift": _drift(want, fns, dists)}


def _drift(want: dict[str, Any], fns: list[dict[str, Any]], dists: list[dict[str, Any]]) -> list[str]:
    out = []
    tagged = {f["trigger"] for f in fns}
    out += [f"no function of the stack is tagged for trigger {e} (not deployed yet?)" for e in want["triggers"] if e not in tagged]
    if want["distribution"]:
        ours = [d for d in dists if d["id"] == want["distribution"]]
        if not ours:
            out.append(f"distribution {want['distribution']} (existingDistributionId) was not found")
        out += [f"distribution {d['id']} runs the stack's functions but is not the declared {want['distribution']}"
                for d in dists if d["id"] != want["distribution"]]
    else:
        ours = dists
        if not dists:
            out.append("no CloudFront distribution runs the stack's functions")
        elif len(dists) > 1:
            out.append(f"{len(dists)} distributions run the stack's functions ({', '.join(d['id'] for d in dists)}); "
                       "the stack creates one")
    live_events = {a["event"] for d in ours for a in d["associations"]}
    out += [f"trigger {e} is declared but no distribution runs the stack's function for it"
            for e in want["triggers"] if e not in live_events and ours]
    latest = {f["name"]: f["latest"] for f in fns}
    trigger_of = {f["name"]: f["trigger"] for f in fns}
    for d in ours:
        live = {(a["behaviour"], a["event"]) for a in d["associations"]}
        expected = {(b, a["event"]) for a in want["associations"]
                    for b in (d["behaviours"] if a["behaviour"] == "every" else [a["behaviour"]])}
        out += [f"distribution {d['id']}: behaviour {b} does not run the stack's {e} function"
                for b, e in sorted(expected - live) if e in live_events]
        out += [f"distribution {d['id']}: behaviour {b} runs the stack's function on {e}, which the stack does not declare there"
                for b, e in sorted(live - expected)]
        for a in d["associations"]:
            if trigger_of.get(a["function"]) != a["event"]:
                out.append(f"distribution {d['id']}: behaviour {a['behaviour']} runs {a['function']} (built for "
                           f"{trigger_of.get(a['function'])}) on {a['event']}")
            elif latest.get(a["function"]) and a["version"] != latest[a["function"]]:
                out.append(f"distribution {d['id']}: behaviour {a['behaviour']} runs version {a['version']} of "
                           f"{a['function']}, whose latest published version is {latest[a['function']]}")
        if d["status"] != "Deployed":
            out.append(f"distribution {d['id']} is {d['status']}: a change is still reaching the edge locations")
    return out


# ---------------------------------------------------------------- logs


def _regions(env: Mapping[str, str], session) -> tuple[list[str], str]:
    """The account's enabled Regions (ec2:DescribeRegions without AllRegions lists only those:
    docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeRegions.html), or botocore's list when EC2 refuses."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        found = [r["RegionName"] for r in _client("ec2", REGION, env, session).describe_regions(AllRegions=False)["Regions"]]
        if found:
            return sorted(found), "ec2:DescribeRegions"
    except (ClientError, BotoCoreError):
        pass
    return sorted(session.get_available_regions("logs")), "botocore endpoint data"


def filter_pattern(text: str | None) -> str | None:
    """The server-side filter for TEXT: a quoted term, which matches the exact phrase (CloudWatch Logs filter pattern
    syntax, "Matching terms in unstructured log events": docs.aws.amazon.com/AmazonCloudWatch/latest/logs/
    FilterAndPatternSyntax.html). The syntax documents no escape for a double quote inside a term, so the longest
    piece without quotes or backslashes goes to the server; logs() then keeps the events containing TEXT exactly."""
    if not text:
        return None
    pieces = [p for p in re.split(r'["\\]', text) if p.strip()]
    return f'"{max(pieces, key=len)}"' if pieces else None


def logs(app, stack: str, env: Mapping[str, str], since_ms: int, until_ms: int | None, text: str | None) -> dict[str, Any]:
    """The stack's function logs from every enabled Region, merged by time (oldest first). A Region that fails is
    listed in regions_failed; when every Region fails, the first error is raised."""
    session = _session(env)
    names = [f["name"] for f in stack_functions(app, stack, env, session)]
    if not names:
        return {"supported": True, "events": [], "groups": [], "regions_searched": 0, "regions_failed": {},
                "functions": [], "truncated": [], "note": f"no Lambda@Edge function is tagged for {app.name}/{stack}"}
    regions, source = _regions(env, session)
    clients = {r: _client("logs", r, env, session) for r in regions}  # made here: a Session is not thread-safe
    pattern = filter_pattern(text)

    def search(region: str) -> dict[str, Any]:
        from botocore.exceptions import BotoCoreError, ClientError

        client, found, groups, truncated = clients[region], [], [], []
        try:
            for n in names:
                groups += [g["logGroupName"] for p in client.get_paginator("describe_log_groups").paginate(
                               logGroupNamePrefix=LOG_GROUP_PREFIX + n) for g in p.get("logGroups") or []
                           if g["logGroupName"] == LOG_GROUP_PREFIX + n]  # the prefix alone also matches longer names
            for g in groups:
                kwargs: dict[str, Any] = {"logGroupName": g, "startTime": since_ms}
                if until_ms is not None:
                    kwargs["endTime"] = until_ms
                if pattern:
                    kwargs["filterPattern"] = pattern
                count = 0
                for p in client.get_paginator("filter_log_events").paginate(**kwargs, PaginationConfig={"PageSize": LOG_PAGE}):
                    page = p.get("events") or []
                    count += len(page)
                    found += [{"timestamp": e["timestamp"], "region": region, "group": g, "stream": e.get("logStreamName"),
                               "message": e.get("message", "")} for e in page if not text or text in e.get("message", "")]
                    if count >= LOG_MAX_EVENTS:
                        truncated.append({"region": region, "group": g})
                        break
            return {"region": region, "events": found, "groups": groups, "truncated": truncated, "error": None}
        except (ClientError, BotoCoreError) as e:
            return {"region": region, "events": [], "groups": groups, "truncated": [], "error": e}

    with ThreadPoolExecutor(max_workers=LOG_WORKERS) as pool:
        results = list(pool.map(search, regions))
    failed = [r for r in results if r["error"] is not None]
    if failed and len(failed) == len(results):
        raise _error(f"DescribeLogGroups/FilterLogEvents in {failed[0]['region']} (every other Region failed too)",
                     failed[0]["error"])
    merged = sorted((e for r in results for e in r["events"]),
                    key=lambda e: (e["timestamp"], e["region"], e["group"], e["stream"] or "", e["message"]))
    return {"supported": True, "events": merged,
            "groups": [{"region": r["region"], "group": g} for r in results for g in r["groups"]],
            "regions_searched": len(regions), "regions_source": source,
            "regions_failed": {r["region"]: str(_error("search", r["error"])) for r in failed},
            "functions": names, "truncated": [t for r in results for t in r["truncated"]]}


# ---------------------------------------------------------------- teardown


def teardown(app, stack: str, env: Mapping[str, str], delete: bool = False) -> dict[str, Any]:
    """What blocks deleting the stack's functions (associations; replicas, which no API lists: only a refused
    DeleteFunction shows them), and with delete=True the deletion of every function nothing associates."""
    from botocore.exceptions import BotoCoreError, ClientError

    session = _session(env)
    fns = stack_functions(app, stack, env, session)
    by_base = {f["arn"]: f for f in fns}
    used: dict[str, list[str]] = {}
    for d in _distributions(env, session):
        for a in _associations(d):
            if _base(a["arn"] or "") in by_base:
                used.setdefault(_base(a["arn"]), []).append(f"{d.get('Id')} {a['behaviour']} {a['event']} "
                                                            f"(version {a['arn'].rsplit(':', 1)[-1]})")
    lam = _client("lambda", REGION, env, session)
    out = []
    for f in fns:
        entry = {"name": f["name"], "arn": f["arn"], "trigger": f["trigger"], "associated_with": used.get(f["arn"], [])}
        if entry["associated_with"]:
            entry["state"] = "associated"
        elif not delete:
            entry["state"] = "deletable"
        else:
            try:
                lam.delete_function(FunctionName=f["arn"])  # unqualified: the function and every version
                entry["state"] = "deleted"
            except ClientError as e:
                err = e.response.get("Error", {})
                if err.get("Code") == "InvalidParameterValueException" and REPLICATED in err.get("Message", ""):
                    entry["state"] = "replicas-remain"
                elif err.get("Code") == "ResourceNotFoundException":
                    entry["state"] = "deleted"  # gone meanwhile
                else:
                    raise _error(f"DeleteFunction {f['name']}", e) from None
            except BotoCoreError as e:
                raise _error(f"DeleteFunction {f['name']}", e) from None
        out.append(entry)
    states = {e["state"] for e in out}
    advice = []
    if "associated" in states:
        advice.append("an associated function is still in use: remove its association first (`pulumi destroy` of the "
                      "stack, or `pulumi up` of a declaration without that trigger); CloudFront then removes the replicas "
                      "within a few hours")
    if "replicas-remain" in states:
        advice.append("CloudFront still holds replicas of a function whose association is gone: they are removed within "
                      "a few hours and cannot be deleted by hand; run this again with --delete later (--wait polls)")
    if "deletable" in states:
        advice.append("nothing associates the deletable functions: --delete deletes them (AWS refuses while replicas remain)")
    if not out:
        advice.append(f"no Lambda@Edge function is tagged for {app.name}/{stack}: nothing to delete")
    return {"functions": out, "blocking": sum(1 for e in out if e["state"] in ("associated", "replicas-remain")),
            "advice": advice}
