"""Day-2 operations on a deployed Vercel stack (edgeport.ops; protocol.TargetOps), through the Vercel REST API.

What the stack deployed is found from its declaration: the Edge Config is named `edge_config_name()` (its slug),
the project is the declared id or the name edgeport creates (`project_ref()`). Team-owned resources take the
`teamId` query parameter on every call (vercel.com/docs/rest-api/reference/welcome#accessing-resources-owned-by-a-team).
"""

from __future__ import annotations

import json
import urllib.parse
from typing import Any, Mapping

from ...ops import OpsError, require
from ...ops.http import ApiError, JsonApi
from ...spec.secret_refs import env_name
from . import EDGE_CONFIG_ENV, NAME, edge_config_name, live_key, project_ref

API = "https://api.vercel.com"
API_ENV = "EDGEPORT_VERCEL_API"  # another base URL (tests point it at a local recording server)
TOKEN_ENV = "VERCEL_API_TOKEN"  # the pulumiverse-vercel provider's variable

# "Updates to your Edge Config can take up to a few seconds to propagate globally"
# (vercel.com/docs/edge-config/vercel-api). "A few seconds" is taken as 10 s.
LIVE_PROPAGATION = (10.0, "vercel.com/docs/edge-config/vercel-api")


def _api(env: Mapping[str, str], what: str) -> JsonApi:
    return JsonApi(env.get(API_ENV) or API, require(env, TOKEN_ENV, NAME, what), name="the Vercel API")


def _team(app) -> dict[str, str]:
    t = app.targets.vercel
    return {"teamId": t.team_id} if t.team_id else {}


def _edge_config(api: JsonApi, app, stack: str) -> dict[str, Any]:
    """The stack's Edge Config among the account's (Get Edge Configs: GET /v1/edge-config, a JSON array;
    vercel.com/docs/rest-api/edge-config/get-edge-configs). Slugs are not unique: two of ours is an error."""
    slug = edge_config_name(app, stack)
    listed = api.request("GET", "/v1/edge-config", query=_team(app))
    found = [c for c in listed or [] if isinstance(c, dict) and c.get("slug") == slug]
    if not found:
        raise OpsError(f"vercel: no Edge Config named {slug!r}" + (f" in team {app.targets.vercel.team_id}" if _team(app) else ""),
                       f"deploy the stack first (`pulumi up -s {stack}`), or check targets.vercel.teamId")
    if len(found) > 1:
        raise OpsError(f"vercel: {len(found)} Edge Configs are named {slug!r} ({', '.join(c.get('id', '?') for c in found)})",
                       "delete or rename the one the stack does not use")
    return found[0]


def _read(api: JsonApi, app, config_id: str, key: str) -> tuple[bool, Any]:
    """(present, value) of one item (Get an Edge Config item: GET /v1/edge-config/{edgeConfigId}/item/{edgeConfigItemKey},
    answering {key, value, edgeConfigId, createdAt, updatedAt}; vercel.com/docs/rest-api/edge-config/get-an-edge-config-item)."""
    try:
        item = api.request("GET", f"/v1/edge-config/{config_id}/item/{urllib.parse.quote(key, safe='')}", query=_team(app))
    except ApiError as e:
        if e.status == 404:
            return False, None
        raise
    if not isinstance(item, dict) or "value" not in item:
        raise OpsError("vercel: the Edge Config item answer has no value")
    return True, item["value"]


def live_get(app, stack: str, pattern, env: Mapping[str, str]) -> dict[str, Any]:
    api = _api(env, "access to the project's team")
    cfg = _edge_config(api, app, stack)
    key = live_key(app, stack, pattern)
    present, value = _read(api, app, cfg["id"], key)
    return {"store": "Edge Config", "edge_config": cfg["id"], "key": key, "value": value,
            "raw": json.dumps(value) if present else None, "missing": not present}


def live_set(app, stack: str, pattern, value: Any, env: Mapping[str, str], dry_run: bool = False) -> dict[str, Any]:
    api = _api(env, "access to the project's team")
    cfg = _edge_config(api, app, stack)
    key = live_key(app, stack, pattern)
    _, before = _read(api, app, cfg["id"], key)
    out = {"store": "Edge Config", "edge_config": cfg["id"], "key": key, "before": before, "after": value, "written": False}
    if dry_run:
        return out
    # Update Edge Config items in batch: PATCH /v1/edge-config/{edgeConfigId}/items with
    # {"items": [{"operation": "upsert", "key", "value"}]}, keys ^[\w-]+$; answers {"status": "ok"}
    # (vercel.com/docs/rest-api/edge-config/update-edge-config-items-in-batch).
    answer = api.request("PATCH", f"/v1/edge-config/{cfg['id']}/items", query=_team(app),
                         json_body={"items": [{"operation": "upsert", "key": key, "value": value}]})
    if not isinstance(answer, dict) or answer.get("status") != "ok":
        raise OpsError(f"vercel: the Edge Config update answered {json.dumps(answer)[:200]}")
    return {**out, "written": True}


def status(app, stack: str, env: Mapping[str, str]) -> dict[str, Any]:
    """The project, its latest production deployment (List deployments: GET /v6/deployments?projectId=&target=
    production&limit=1, each {uid, url, state|readyState, created}; vercel.com/docs/rest-api/deployments/list-deployments)
    and which environment variables exist (Retrieve the environment variables of a project: GET
    /v10/projects/{idOrName}/env, each {key, target, type}; vercel.com/docs/rest-api/projects/retrieve-the-environment-variables-of-a-project-by-id-or-name).
    Values are never asked for (no `decrypt`) and never kept."""
    api = _api(env, "access to the project's team")
    ref = project_ref(app, stack)
    try:
        project = api.request("GET", f"/v9/projects/{urllib.parse.quote(ref, safe='')}", query=_team(app))
    except ApiError as e:
        if e.status == 404:
            return {"project": {"ref": ref, "exists": False}, "deployment": None, "env": [],
                    "declared": {"env": _declared_env(app, stack)}, "drift": [f"project {ref} does not exist"]}
        raise
    pid = project.get("id", ref) if isinstance(project, dict) else ref
    listed = api.request("GET", "/v6/deployments", query={**_team(app), "projectId": pid, "target": "production", "limit": "1"})
    deps = listed.get("deployments") if isinstance(listed, dict) else None
    dep = deps[0] if deps and isinstance(deps[0], dict) else None
    envs = api.request("GET", f"/v10/projects/{urllib.parse.quote(pid, safe='')}/env", query=_team(app))
    present = sorted({e.get("key") for e in (envs or {}).get("envs", []) if isinstance(e, dict) and e.get("key")})
    declared = _declared_env(app, stack)
    drift = [f"environment variable {k} is declared but not set" for k in declared if k not in present]
    if dep is None:
        drift.append("no production deployment")
    elif (dep.get("state") or dep.get("readyState")) not in ("READY", None):
        drift.append(f"latest production deployment is {dep.get('state') or dep.get('readyState')}")
    return {"project": {"ref": ref, "id": pid, "exists": True},
            "deployment": None if dep is None else {"id": dep.get("uid"), "url": dep.get("url"),
                                                    "state": dep.get("state") or dep.get("readyState"),
                                                    "created": dep.get("created")},
            "env": present, "declared": {"env": declared}, "drift": drift}


def _declared_env(app, stack: str) -> list[str]:
    from ...spec import runtime

    names = [env_name(s) for s in app.secrets_for(NAME)]
    if runtime.live_patterns(app, NAME):
        names.append(EDGE_CONFIG_ENV)
    return sorted(names)


def logs(app, stack: str, env: Mapping[str, str], since_ms: int, until_ms: int | None, text: str | None) -> dict[str, Any]:
    """Runtime logs of the latest production deployment (Get logs for a deployment: GET
    /v1/projects/{projectId}/deployments/{deploymentId}/runtime-logs, a stream of JSON lines
    {level, message, rowId, source, timestampInMs, requestPath, responseStatusCode, ...};
    vercel.com/docs/rest-api/logs/get-logs-for-a-deployment). Lines are kept from `since_ms` on, matching `text`."""
    api = _api(env, "access to the project's team")
    st = status(app, stack, env)
    dep = st["deployment"]
    if not st["project"]["exists"] or dep is None:
        return {"supported": True, "events": [], "note": "no production deployment"}
    raw = api.request("GET", f"/v1/projects/{st['project']['id']}/deployments/{dep['id']}/runtime-logs",
                      query=_team(app), raw=True)
    events = []
    for line in raw.decode("utf-8", "replace").splitlines():
        try:
            e = json.loads(line)
        except ValueError:
            continue
        ts = e.get("timestampInMs") if isinstance(e, dict) else None
        if not isinstance(ts, (int, float)) or ts < since_ms or (until_ms is not None and ts > until_ms):
            continue
        msg = str(e.get("message", ""))
        if text and text not in msg:
            continue
        events.append({"timestamp": int(ts), "deployment": dep["id"], "level": e.get("level"), "source": e.get("source"),
                       "path": e.get("requestPath"), "status": e.get("responseStatusCode"), "message": msg})
    return {"supported": True, "events": sorted(events, key=lambda e: e["timestamp"])}
