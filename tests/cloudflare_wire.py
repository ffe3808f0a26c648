"""Run the Cloudflare component under Pulumi's mocks and print, as JSON, every request it makes of the resource
monitor: `python tests/cloudflare_wire.py {edgeport|pulumi_cloudflare} SCENARIO...` (one JSON object, by scenario).

`edgeport` runs it as shipped (targets/cloudflare/sdk.py); `pulumi_cloudflare` swaps in the generated SDK, so
test_cloudflare_sdk.py can require the two to send the same thing. One process per SDK: Pulumi's settings and the
mocks are process-global, so each scenario gets a stack (and root resource) of its own.
"""

from __future__ import annotations

import copy
import json
import sys
from pathlib import Path
from types import SimpleNamespace

import pulumi
from google.protobuf.json_format import MessageToDict
from pulumi.runtime import settings
from pulumi.runtime.mocks import MockMonitor, _sync_await
from pulumi.runtime.stack import run_pulumi_func

from edgeport.plan import recording_mocks
from edgeport.spec import load_stack, parse_app
from edgeport.targets.cloudflare import resources

ROOT = Path(__file__).resolve().parents[1]
SCRIPTS = "cloudflare:index/getWorkersScripts:getWorkersScripts"


def scenario(name: str) -> tuple[dict, list]:
    """(edgeport:app, the account's scripts the data source answers with)."""
    raw = copy.deepcopy(load_stack("dev", ROOT).config["edgeport:app"])  # secrets, live settings, rooms
    cf = raw["targets"]["cloudflare"]
    if name == "dev":  # a first deploy: no script yet, every Durable Object migration is sent
        return raw, []
    if name == "domain":  # a custom domain; the script is at the newest migration tag, so none is sent
        cf.update(customDomain=True, scriptName="shop-worker")
        return raw, [{"id": "shop-worker", "migrationTag": "edgeport-v1", "createdOn": "2026-01-01T00:00:00Z"}]
    if name == "dns":  # the originless DNS record; only other scripts in the account
        cf["dns"] = True
        return raw, [{"id": "someone-else", "migrationTag": "v9"}]
    if name == "steps":  # later migrations (renames, transfers), several pending: sent as `steps`
        from edgeport.targets import cloudflare as facts

        facts.MIGRATIONS = [*facts.MIGRATIONS,
                            ("edgeport-v2", {"renamed_classes": [{"from_": "EdgeportRoom", "to": "Room2"}],
                                             "new_classes": ["Old"], "deleted_classes": ["Gone"]}),
                            ("edgeport-v3", {"transferred_classes": [{"from": "A", "from_script": "other", "to": "B"}],
                                             "renamed_classes": [{"from": "Room2", "to": "Room3"}]})]
        return raw, [{"id": "shop-wire", "migrationTag": "edgeport-v1"}]
    if name == "jwt":  # no live settings, no rooms: no KV namespace, no data source
        raw["patterns"] = [p for p in raw["patterns"] if p["type"] == "jwt-auth"]
        return raw, []
    raise SystemExit(f"unknown scenario {name}")


class Recorder(MockMonitor):
    def __init__(self, mocks):
        super().__init__(mocks)
        self.requests: list[dict] = []

    def _keep(self, rpc: str, request) -> None:
        d = MessageToDict(request, preserving_proto_field_name=True)
        # URN sets become lists in an order that depends on string hashing: compare them as sets.
        if "dependencies" in d:
            d["dependencies"] = sorted(d["dependencies"])
        for deps in d.get("propertyDependencies", {}).values():
            deps["urns"] = sorted(deps.get("urns", []))
        self.requests.append({"rpc": rpc, "request": d,
                              "bytes": len(request.SerializeToString(deterministic=True))})

    def RegisterResource(self, request):
        self._keep("RegisterResource", request)
        return super().RegisterResource(request)

    def RegisterResourceOutputs(self, request):
        self._keep("RegisterResourceOutputs", request)
        return super().RegisterResourceOutputs(request)

    def Invoke(self, request):
        self._keep("Invoke", request)
        return super().Invoke(request)


def main(sdk: str, names: list[str]) -> None:
    if sdk == "pulumi_cloudflare":
        import warnings

        warnings.simplefilter("ignore", DeprecationWarning)
        import pulumi_cloudflare

        resources.cloudflare = pulumi_cloudflare  # type: ignore[assignment]
    elif sdk != "edgeport":
        raise SystemExit(f"unknown SDK {sdk}")
    print(json.dumps({name: run(name) for name in names} | {"imported_pulumi_cloudflare": "pulumi_cloudflare" in sys.modules},
                     sort_keys=True))


def run(name: str) -> dict:
    raw, scripts = scenario(name)
    app = parse_app(raw)
    mocks = recording_mocks({SCRIPTS: lambda args: {"results": scripts, **args}})
    monitor = Recorder(mocks)
    settings.ROOT.set(None)  # a new root stack resource for this scenario's stack
    pulumi.runtime.set_mocks(mocks, project="edgeport", stack=f"wire-{name}", preview=False, monitor=monitor)
    artifact = SimpleNamespace(code="export default { fetch() { return new Response('ok') } }\n",
                               secret_names=sorted(app.secrets_for("cloudflare")))
    secrets = {s: pulumi.Output.secret(f"value-of-{s}") for s in artifact.secret_names}
    seen: dict = {}

    def program():
        outs = resources.materialize("shop", app, "wire", [artifact], secrets, pulumi.ResourceOptions())
        return pulumi.Output.all(outs["script_name"], pulumi.Output.all(*outs["routes"])).apply(
            lambda v: seen.update(script_name=v[0], routes=v[1]))

    _sync_await(run_pulumi_func(lambda: _sync_await(pulumi.Output.from_input(program()).future())))
    return {"requests": monitor.requests, "outputs": seen}


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2:])
