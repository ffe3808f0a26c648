"""Day-2 operations on a deployed Cloudflare stack (edgeport.ops; protocol.TargetOps), through the Cloudflare API v4.

What the stack deployed is found from its declaration: the Worker script is `script_name()`, the KV namespace of
live settings is titled "<script>-live" (resources.py), the routes are `worker_routes()`. Every answer is the
API's envelope {"success", "errors", "messages", "result"} except a KV value read, which is the stored bytes
(developers.cloudflare.com/api/resources/kv/subresources/namespaces/subresources/values/methods/get/).
"""

from __future__ import annotations

import json
import urllib.parse
from typing import Any, Mapping

from ...ops import OpsError, parse_value, require
from ...ops.http import ApiError, JsonApi
from . import NAME, current_migration_tag, live_key, script_name, worker_routes

API = "https://api.cloudflare.com/client/v4"
API_ENV = "EDGEPORT_CLOUDFLARE_API"  # another base URL (tests point it at a local recording server)
TOKEN_ENV = "CLOUDFLARE_API_TOKEN"  # the provider's own variable

# "Changes are usually immediately visible in the Cloudflare global network location at which they are made.
# Changes may take up to 60 seconds or more to be visible in other global network locations as their cached
# versions of the data time out." (developers.cloudflare.com/kv/concepts/how-kv-works/)
LIVE_PROPAGATION = (60.0, "developers.cloudflare.com/kv/concepts/how-kv-works/")


def _api(env: Mapping[str, str], what: str) -> JsonApi:
    token = require(env, TOKEN_ENV, NAME, what)
    return JsonApi(env.get(API_ENV) or API, token, name="the Cloudflare API")


def _result(body: Any) -> Any:
    if not isinstance(body, dict) or "success" not in body:
        raise OpsError("cloudflare: the API did not answer with its JSON envelope")
    if not body["success"]:
        errs = "; ".join(f"{e.get('message')} (code {e.get('code')})" for e in body.get("errors") or [] if isinstance(e, dict))
        raise OpsError(f"cloudflare: {errs or 'the API reported a failure'}")
    return body.get("result")


def _pages(api: JsonApi, path: str, per_page: int = 100, limit: int = 50) -> list[dict[str, Any]]:
    """Every item of a paginated list (result_info.total_pages), at most `limit` pages."""
    items: list[dict[str, Any]] = []
    for page in range(1, limit + 1):
        body = api.request("GET", path, query={"page": str(page), "per_page": str(per_page)})
        result = _result(body)
        items += [r for r in result or [] if isinstance(r, dict)]
        info = body.get("result_info") or {}
        if page >= int(info.get("total_pages") or 1) or not result:
            break
    return items


def _namespace(api: JsonApi, app, stack: str) -> dict[str, Any]:
    """The stack's KV namespace of live settings (List Namespaces: GET /accounts/{account_id}/storage/kv/namespaces,
    developers.cloudflare.com/api/resources/kv/subresources/namespaces/methods/list/)."""
    title = f"{script_name(app, stack)}-live"
    found = [n for n in _pages(api, f"/accounts/{app.targets.cloudflare.account_id}/storage/kv/namespaces")
             if n.get("title") == title]
    if not found:
        raise OpsError(f"cloudflare: no KV namespace titled {title!r} in account {app.targets.cloudflare.account_id}",
                       f"deploy the stack first (`pulumi up -s {stack}`), or check targets.cloudflare.accountId")
    return found[0]


def _value_path(app, namespace_id: str, key: str) -> str:
    # Key names go percent-encoded in the path ("Use URL-encoding to use special characters (for example, :, !, %)
    # in the key name"; our keys hold "/"): the Write and Read key-value pair methods.
    return (f"/accounts/{app.targets.cloudflare.account_id}/storage/kv/namespaces/{namespace_id}/values/"
            f"{urllib.parse.quote(key, safe='')}")


def _read(api: JsonApi, app, namespace_id: str, key: str) -> str | None:
    try:
        raw = api.request("GET", _value_path(app, namespace_id, key), raw=True)
    except ApiError as e:
        if e.status == 404:  # {"errors": [{"code": 10009, "message": "get: 'key not found'"}]}
            return None
        raise
    return raw.decode("utf-8", "replace")


def live_get(app, stack: str, pattern, env: Mapping[str, str]) -> dict[str, Any]:
    api = _api(env, "Workers KV Storage Read")
    ns = _namespace(api, app, stack)
    key = live_key(app, stack, pattern)
    raw = _read(api, app, ns["id"], key)
    return {"store": "Workers KV", "namespace": ns["id"], "key": key, "raw": raw, "value": parse_value(raw),
            "missing": raw is None}


def live_set(app, stack: str, pattern, value: Any, env: Mapping[str, str], dry_run: bool = False) -> dict[str, Any]:
    api = _api(env, "Workers KV Storage Write")
    ns = _namespace(api, app, stack)
    key = live_key(app, stack, pattern)
    before = _read(api, app, ns["id"], key)
    out = {"store": "Workers KV", "namespace": ns["id"], "key": key, "before": parse_value(before), "after": value,
           "written": False}
    if dry_run:
        return out
    # Write key-value pair: PUT .../values/{key_name}; "Body should be the value to be stored" (metadata would
    # need multipart/form-data; we store none). The answer is the envelope with result null.
    _result(api.request("PUT", _value_path(app, ns["id"], key), data=_encode(value),
                        content_type="text/plain; charset=utf-8"))
    return {**out, "written": True}


def status(app, stack: str, env: Mapping[str, str]) -> dict[str, Any]:
    """The Worker script (List Workers: GET /accounts/{account_id}/workers/scripts, each with id, modified_on,
    migration_tag; cloudflare/cloudflare-python src/cloudflare/types/workers/script.py), its routes (List Routes:
    GET /zones/{zone_id}/workers/routes, each {id, pattern, script}), compared with the declaration."""
    api = _api(env, "Workers Scripts Read and Workers Routes Read")
    t = app.targets.cloudflare
    name = script_name(app, stack)
    scripts = _result(api.request("GET", f"/accounts/{t.account_id}/workers/scripts")) or []
    script = next((s for s in scripts if isinstance(s, dict) and s.get("id") == name), None)
    routes = [r for r in _result(api.request("GET", f"/zones/{t.zone_id}/workers/routes")) or [] if isinstance(r, dict)]
    mine = sorted(r.get("pattern", "") for r in routes if r.get("script") == name)
    declared = sorted(worker_routes(app))
    drift = []
    if script is None:
        drift.append(f"Worker {name} is not deployed")
    for r in declared:
        if r not in mine:
            drift.append(f"route {r} is declared but not live")
    for r in mine:
        if r not in declared:
            drift.append(f"route {r} runs {name} but is not declared")
    others = [f"{r.get('pattern')} -> {r.get('script') or '(no Worker)'}" for r in routes
              if r.get("script") != name and r.get("pattern") in declared]
    drift += [f"declared route taken by another Worker: {o}" for o in others]
    return {"script": {"name": name, "deployed": script is not None,
                       "modified_on": script.get("modified_on") if script else None,
                       "migration_tag": current_migration_tag(scripts, name) if script else None},
            "routes": mine, "declared": {"routes": declared}, "drift": drift}


def logs(app, stack: str, env: Mapping[str, str], since_ms: int, until_ms: int | None, text: str | None) -> dict[str, Any]:
    """Workers logs are not a history the API can page through: live logs stream over a tail session's WebSocket
    (`wrangler tail`, developers.cloudflare.com/workers/observability/logs/real-time-logs/), stored ones go to
    Workers Logs (dashboard) or a Logpush job (developers.cloudflare.com/workers/observability/logs/logpush/)."""
    name = script_name(app, stack)
    return {"supported": False, "events": [],
            "how": f"npx wrangler tail {name} --format pretty" + (f" --search {json.dumps(text)}" if text else "")
                   + "  (live); Workers Logs in the dashboard or a Logpush job for history"}


def _encode(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()
