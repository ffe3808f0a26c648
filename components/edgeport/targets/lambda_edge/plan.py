"""How an offline plan shows and mocks Lambda@Edge's AWS resources (edgeport.plan). Pure: no Pulumi import."""

from __future__ import annotations

import json
from typing import Any

from . import ORIGIN_CACHE_CONTROL_POLICY, REGION

FAKE_ACCOUNT = "123456789012"
FAKE_DOMAIN = "d111111abcdef8.cloudfront.net"


def _behaviours(v: Any) -> str:
    if not isinstance(v, list):
        return str(v)
    out = []
    for b in v:
        ev = ",".join(a.get("eventType", "?") for a in b.get("lambdaFunctionAssociations") or [])
        out.append(f"{b.get('pathPattern')}[{ev or '-'}]")
    return " ".join(out)


def _default_behaviour(v: Any) -> str:
    if not isinstance(v, dict):
        return str(v)
    ev = ",".join(a.get("eventType", "?") for a in v.get("lambdaFunctionAssociations") or [])
    return f"*[{ev or '-'}]"


def _origins(v: Any) -> str:
    if not isinstance(v, list):
        return str(v)
    return ", ".join(f"{o.get('originId')}={o.get('domainName')}{o.get('originPath', '')}" for o in v)


def _policy(v: Any) -> str:
    try:
        doc = json.loads(v) if isinstance(v, str) else v
        return "; ".join(f"{','.join(s['Action'])} on {len(s['Resource']) if isinstance(s['Resource'], list) else 1} resource(s)"
                         for s in doc["Statement"])
    except (ValueError, KeyError, TypeError):
        return str(v)


def _principals(v: Any) -> str:
    try:
        doc = json.loads(v)
        return ",".join(p for s in doc["Statement"] for p in s["Principal"]["Service"])
    except (ValueError, KeyError, TypeError):
        return str(v)


def _archive(v: Any) -> str:
    if isinstance(v, dict) and "archive" in v:
        return ", ".join(f"{k} ({a.get('bytes'):,} B)" if isinstance(a, dict) and a.get("bytes") else k for k, a in v["archive"].items())
    return str(v)


KEY_INPUTS = {
    "pulumi:providers:aws": [("region", None)],
    "aws:secretsmanager/secret:Secret": [("name", None), ("recoveryWindowInDays", None)],
    "aws:secretsmanager/secretVersion:SecretVersion": [("secretString", None)],
    "aws:iam/role:Role": [("assumeRolePolicy", _principals)],
    "aws:iam/rolePolicy:RolePolicy": [("policy", _policy)],
    "aws:lambda/function:Function": [("name", None), ("runtime", None), ("memorySize", None), ("timeout", None),
                                     ("publish", None), ("skipDestroy", None), ("architectures", None), ("code", _archive)],
    "aws:cloudfront/distribution:Distribution": [("origins", _origins), ("defaultCacheBehavior", _default_behaviour),
                                                 ("orderedCacheBehaviors", _behaviours),
                                                 ("priceClass", None), ("waitForDeployment", None)],
    "aws:cloudfront/cachePolicy:CachePolicy": [("comment", None), ("maxTtl", None)],
    "aws:cloudfront/originRequestPolicy:OriginRequestPolicy": [("comment", None)],
    "aws:ssm/parameter:Parameter": [("name", None), ("type", None)],
    "pulumi-python:dynamic:Resource": [("distribution_id", None), ("associations", None)],
}


def _function(name: str, inputs: dict) -> dict:
    # Auto-named by the provider: "<logical name>-<7 random hex>"; a fixed suffix keeps plans comparable.
    physical = inputs.get("name") or f"{name}-0a1b2c3"
    arn = f"arn:aws:lambda:{REGION}:{FAKE_ACCOUNT}:function:{physical}"
    return {"name": physical, "arn": arn, "version": "1", "qualifiedArn": f"{arn}:1"}


FABRICATE = {
    "aws:lambda/function:Function": _function,
    "aws:secretsmanager/secret:Secret":
        lambda name, inputs: {"arn": f"arn:aws:secretsmanager:{REGION}:{FAKE_ACCOUNT}:secret:{inputs.get('name', name)}-AbCdEf"},
    "aws:iam/role:Role": lambda name, inputs: {"arn": f"arn:aws:iam::{FAKE_ACCOUNT}:role/{name}"},
    "aws:cloudfront/distribution:Distribution": lambda name, inputs: {"domainName": FAKE_DOMAIN},
    "aws:ssm/parameter:Parameter":
        lambda name, inputs: {"arn": f"arn:aws:ssm:{REGION}:{FAKE_ACCOUNT}:parameter{inputs.get('name', '')}"},
    "pulumi-python:dynamic:Resource": lambda name, inputs: {"domainName": FAKE_DOMAIN},  # DistributionAssociations
}

# Managed CloudFront cache policies by name (the id AWS assigns to UseOriginCacheControlHeaders-QueryStrings).
MANAGED_CACHE_POLICIES = {ORIGIN_CACHE_CONTROL_POLICY: "4cc15a8a-d715-48a4-82b8-cc0b614638fe"}

INVOKES = {
    "aws:cloudfront/getCachePolicy:getCachePolicy":
        lambda args: {"id": MANAGED_CACHE_POLICIES.get(args.get("name"), f"managed-{args.get('name')}"), **args},
}
