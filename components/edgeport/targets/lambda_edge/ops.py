"""Day-2 operations on a deployed Lambda@Edge stack (edgeport.ops; protocol.TargetOps), with boto3.

What the stack deployed is found from its declaration: the functions by their tags (edgeport:app, edgeport:stack,
edgeport:trigger; function_tags()), the distributions by the function versions they associate, the live settings by
their SSM names (live_key()). Credentials come from the usual chain (profile, environment, web identity / OIDC);
AWS_ENDPOINT_URL in the environment points every client elsewhere (tests use moto's server). Retries are botocore's
"standard" mode, which retries throttling and transient errors with backoff, at most 5 attempts
(boto3.amazonaws.com/v1/documentation/api/latest/guide/retries.html).
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Mapping

from ...ops import MissingCredentials, OpsError
from . import REGION, events, live_key

# SSM is a regional store and a written parameter is read back at once in its Region ("Parameter Store provides
# strong read-after-write consistency" is not promised for every API, but GetParameter reads the latest version:
# docs.aws.amazon.com/systems-manager/latest/userguide/systems-manager-parameter-store.html). The functions read
# us-east-1 (functions/platforms/lambda-edge/adapter.ts), so only their own cache (liveTtl) delays a change.
LIVE_PROPAGATION = (0.0, "docs.aws.amazon.com/systems-manager/latest/userguide/systems-manager-parameter-store.html")

# "Lambda@Edge ... sends logs to CloudWatch Logs in the AWS Region closest to the location where the function
# executed ... the log group name is /aws/lambda/us-east-1.function-name"
# (docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/edge-functions-logs.html).
LOG_GROUP_PREFIX = "/aws/lambda/us-east-1."
# DeleteFunction of a function with replicas left fails with InvalidParameterValueException "... because it is a
# replicated function"; replicas are usually gone within a few hours after the association is removed
# (docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/lambda-edge-delete-replicas.html).
REPLICATED = "replicated function"


def _session(env: Mapping[str, str]):
    import boto3

    keys = {k: env[e] for k, e in (("aws_access_key_id", "AWS_ACCESS_KEY_ID"), ("aws_secret_access_key", "AWS_SECRET_ACCESS_KEY"),
                                   ("aws_session_token", "AWS_SESSION_TOKEN")) if env.get(e)}
    try:
        session = boto3.session.Session(profile_name=env.get("AWS_PROFILE") or None, **keys)
        creds = session.get_credentials()
    except Exception as e:  # botocore ProfileNotFound and the like
        raise MissingCredentials(f"lambda-edge: AWS credentials unusable: {type(e).__name__}: {e}",
                                 "check AWS_PROFILE, or set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or assume a role (OIDC)") from None
    if creds is None:
        raise MissingCredentials("lambda-edge: no AWS credentials (profile, environment or role)",
                                 "set AWS_PROFILE, or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or assume a role (OIDC in CI)")
    return session


def _client(service: str, region: str, env: Mapping[str, str], session=None):
    from botocore.config import Config

    session = session or _session(env)
    return session.client(service, region_name=region, endpoint_url=env.get("AWS_ENDPOINT_URL") or None,
                          config=Config(retries={"max_attempts": 5, "mode": "standard"}, connect_timeout=5, read_timeout=20))


def _call(what: str, fn, *args, **kwargs):
    """An AWS call whose failure becomes an OpsError naming the operation and AWS's error code (never credentials)."""
    from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

    try:
        return fn(*args, **kwargs)
    except NoCredentialsError:
        raise MissingCredentials("lambda-edge: no AWS credentials", "set AWS_PROFILE or assume a role") from None
    except ClientError as e:
        err = e.response.get("Error", {})
        raise OpsError(f"lambda-edge: {what}: {err.get('Code')}: {err.get('Message')}") from None
    except BotoCoreError as e:
        raise OpsError(f"lambda-edge: {what}: {e}") from None


# ---------------------------------------------------------------- live settings (SSM)


def live_get(app, stack: str, pattern, env: Mapping[str, str]) -> dict[str, Any]:
    ssm = _client("ssm", REGION, env)
    key = live_key(app, stack, pattern)
    raw, version = _read(ssm, key)
    return {"store": "SSM parameter", "key": key, "region": REGION, "raw": raw, "value": _parse(raw),
            "version": version, "missing": raw is None}


def _read(ssm, key: str) -> tuple[str | None, int | None]:
    from botocore.exceptions import ClientError

    try:
        p = ssm.get_parameter(Name=key)["Parameter"]
    except ClientError as e:
        if e.response.get("Error", {}).get("Code") == "ParameterNotFound":
            return None, None
        err = e.response.get("Error", {})
        raise OpsError(f"lambda-edge: GetParameter {key}: {err.get('Code')}: {err.get('Message')}") from None
    return p.get("Value"), p.get("Version")


def live_set(app, stack: str, pattern, value: Any, env: Mapping[str, str], dry_run: bool = False) -> dict[str, Any]:
    ssm = _client("ssm", REGION, env)
    key = live_key(app, stack, pattern)
    before, _ = _read(ssm, key)
    out = {"store": "SSM parameter", "key": key, "region": REGION, "before": _parse(before), "after": value, "written": False}
    if dry_run:
        return out
    put = _call(f"PutParameter {key}", ssm.put_parameter, Name=key, Value=json.dumps(value, separators=(",", ":")),
                Type="String", Overwrite=True)
    return {**out, "written": True, "version": put.get("Version")}


def _parse(raw: str | None) -> Any:
    if raw is None:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return raw


# ---------------------------------------------------------------- what is deployed


def _base(arn: str) -> str:
    """arn:aws:lambda:us-east-1:123:function:name:7 -> arn:aws:lambda:us-east-1:123:function:name"""
    return ":".join(arn.split(":")[:7])


def stack_functions(app, stack: str, env: Mapping[str, str], session=None) -> list[dict[str, Any]]:
    """The stack's functions (current and retained ones), found by their tags."""
    lam = _client("lambda", REGION, env, session)
    out = []
    for page in _call("ListFunctions", lambda: list(lam.get_paginator("list_functions").paginate())):
        for f in page.get("Functions", []):
            tags = _call(f"ListTags {f['FunctionName']}", lam.list_tags, Resource=f["FunctionArn"]).get("Tags", {})
            if tags.get("edgeport:app") == app.name and tags.get("edgeport:stack") == stack:
                out.append({"name": f["FunctionName"], "arn": _base(f["FunctionArn"]), "trigger": tags.get("edgeport:trigger")})
    return sorted(out, key=lambda f: f["name"])


def _associations(dist: dict[str, Any]) -> list[dict[str, str]]:
    """Every Lambda association of a distribution (summary or config): behaviour, event type, versioned ARN."""
    behaviours = [("*", dist.get("DefaultCacheBehavior", {}))]
    behaviours += [(b.get("PathPattern"), b) for b in (dist.get("CacheBehaviors", {}) or {}).get("Items", []) or []]
    return [{"behaviour": path, "event": a.get("EventType"), "arn": a.get("LambdaFunctionARN")}
            for path, b in behaviours for a in ((b.get("LambdaFunctionAssociations") or {}).get("Items") or [])]


def _distributions(env: Mapping[str, str], session=None) -> list[dict[str, Any]]:
    cf = _client("cloudfront", REGION, env, session)
    out = []
    for page in _call("ListDistributions", lambda: list(cf.get_paginator("list_distributions").paginate())):
        out += (page.get("DistributionList", {}) or {}).get("Items", []) or []
    return out


def status(app, stack: str, env: Mapping[str, str]) -> dict[str, Any]:
    session = _session(env)
    fns = stack_functions(app, stack, env, session)
    mine = {f["arn"]: f for f in fns}
    lam = _client("lambda", REGION, env, session)
    for f in fns:
        versions = _call(f"ListVersionsByFunction {f['name']}",
                         lambda: [v for p in lam.get_paginator("list_versions_by_function").paginate(FunctionName=f["name"])
                                  for v in p.get("Versions", [])])
        f["versions"] = sorted(v["Version"] for v in versions if v["Version"] != "$LATEST")
    dists = []
    for d in _distributions(env, session):
        assoc = [a for a in _associations(d) if _base(a["arn"]) in mine]
        wanted = app.targets.lambda_edge.existing_distribution_id
        if assoc or d.get("Id") == wanted:
            dists.append({"id": d.get("Id"), "status": d.get("Status"), "domain": d.get("DomainName"),
                          "aliases": (d.get("Aliases") or {}).get("Items") or [],
                          "associations": [{**a, "function": mine[_base(a["arn"])]["name"] if _base(a["arn"]) in mine else None,
                                            "version": a["arn"].rsplit(":", 1)[-1]} for a in assoc]})
    declared = events(app)
    live = {a["event"] for d in dists for a in d["associations"]}
    drift = [f"trigger {e} is declared but no distribution runs the stack's function for it" for e in declared if e not in live]
    drift += [f"distribution {d['id']} runs the stack's function on {e}, which the stack no longer declares"
              for d in dists for e in sorted({a["event"] for a in d["associations"]}) if e not in declared]
    drift += [f"distribution {d['id']} is {d['status']} (a change is still deploying)" for d in dists if d["status"] != "Deployed"]
    if not dists:
        drift.append("no CloudFront distribution runs the stack's functions")
    return {"functions": fns, "distributions": dists, "declared": {"triggers": declared}, "drift": drift}


# ---------------------------------------------------------------- logs


def _regions(session) -> list[str]:
    # The Regions botocore knows for CloudWatch Logs (its bundled endpoint data: no API call, no ec2 permission);
    # a Region not enabled for the account answers with an error and is skipped.
    return sorted(session.get_available_regions("logs"))


def logs(app, stack: str, env: Mapping[str, str], since_ms: int, until_ms: int | None, text: str | None) -> dict[str, Any]:
    session = _session(env)
    names = [f["name"] for f in stack_functions(app, stack, env, session)]
    regions = _regions(session)

    def search(region: str) -> tuple[str, list[dict[str, Any]], list[str], str | None]:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            client = _client("logs", region, env, session)
            groups = [g["logGroupName"] for n in names
                      for p in client.get_paginator("describe_log_groups").paginate(logGroupNamePrefix=LOG_GROUP_PREFIX + n)
                      for g in p.get("logGroups", [])]
            found = []
            for g in groups:
                kwargs: dict[str, Any] = {"logGroupName": g, "startTime": since_ms}
                if until_ms is not None:
                    kwargs["endTime"] = until_ms
                if text:
                    # A quoted term matches the exact phrase (CloudWatch Logs filter pattern syntax:
                    # docs.aws.amazon.com/AmazonCloudWatch/latest/logs/FilterAndPatternSyntax.html).
                    kwargs["filterPattern"] = json.dumps(text)
                for p in client.get_paginator("filter_log_events").paginate(**kwargs):
                    found += [{"timestamp": e["timestamp"], "region": region, "group": g, "stream": e.get("logStreamName"),
                               "message": e.get("message", "")} for e in p.get("events", [])]
            return region, found, groups, None
        except (ClientError, BotoCoreError) as e:
            return region, [], [], str(e)

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(search, regions))
    events_ = sorted((e for _, found, _, _ in results for e in found if not text or text in e["message"]),
                     key=lambda e: (e["timestamp"], e["region"], e["message"]))
    return {"supported": True, "events": events_, "groups": [{"region": r, "group": g} for r, _, gs, _ in results for g in gs],
            "regions_searched": len(regions), "regions_failed": {r: err for r, _, _, err in results if err},
            "functions": names}


# ---------------------------------------------------------------- teardown


def teardown(app, stack: str, env: Mapping[str, str], delete: bool = False) -> dict[str, Any]:
    """What blocks deleting the stack's functions, and with delete=True the deletion of those nothing blocks."""
    from botocore.exceptions import ClientError

    session = _session(env)
    fns = stack_functions(app, stack, env, session)
    by_base = {f["arn"]: f for f in fns}
    used: dict[str, list[str]] = {}
    for d in _distributions(env, session):
        for a in _associations(d):
            if _base(a["arn"]) in by_base:
                used.setdefault(_base(a["arn"]), []).append(f"{d.get('Id')} {a['behaviour']} {a['event']}")
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
                lam.delete_function(FunctionName=f["name"])
                entry["state"] = "deleted"
            except ClientError as e:
                msg = e.response.get("Error", {}).get("Message", "")
                if REPLICATED in msg:
                    entry["state"] = "replicas-remain"
                else:
                    raise OpsError(f"lambda-edge: DeleteFunction {f['name']}: {e.response.get('Error', {}).get('Code')}: {msg}") from None
        out.append(entry)
    blocking = sum(1 for e in out if e["state"] in ("associated", "replicas-remain"))
    advice = []
    if any(e["state"] == "associated" for e in out):
        advice.append("an associated function is still in use: remove the association first (`pulumi destroy` of the "
                      "stack, or `pulumi up` of a stack that no longer declares the trigger), then wait for its replicas")
    if any(e["state"] == "replicas-remain" for e in out):
        advice.append("CloudFront still holds replicas of a function: they go within a few hours of the association's "
                      "removal; run this again with --delete later (or --wait)")
    if any(e["state"] == "deletable" for e in out):
        advice.append("nothing associates these functions any more: `--delete` deletes them (AWS refuses while replicas remain)")
    return {"functions": out, "blocking": blocking, "advice": advice}
