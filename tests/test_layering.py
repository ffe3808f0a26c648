"""The layers stay layered: spec -> build -> materialize, with local running and conformance beside materialize.

- `validate`, `build`, `dev` and `conformance` never load the Pulumi SDK (it is only needed where resources are
  made: `plan` and `pulumi up`), checked on sys.modules in a fresh interpreter;
- no circle among the package's module-level imports;
- a command reads the stack file once.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import pytest
from conftest import ROOT

PKG = ROOT / "components" / "edgeport"

# Runs in a fresh interpreter: a command (in-process, through click), then imports; reports the pulumi modules
# loaded and how often the watched file was read. (A subprocess also keeps `plan`'s Pulumi mocks out of this one.)
_PROBE = """
import json, sys
from pathlib import Path
watched, reads, real = Path(sys.argv[3]).resolve() if sys.argv[3] else None, [], Path.read_text
def counting(self, *a, **kw):
    if watched is not None and Path(self).resolve() == watched:
        reads.append(1)
    return real(self, *a, **kw)
Path.read_text = counting
import edgeport.spec.validate as v  # wrapped before any module imports the name
validations, real_validate = [], v.validate_app
def validate_app(*a, **kw):
    validations.append(1)
    return real_validate(*a, **kw)
v.validate_app = validate_app
from click.testing import CliRunner
from edgeport.cli import main
args = json.loads(sys.argv[1])
r = CliRunner().invoke(main, args) if args else None
for m in json.loads(sys.argv[2]):
    __import__(m)
print(json.dumps({"exit": r.exit_code if r else 0, "output": r.output[-2000:] if r else "", "reads": len(reads), "validations": len(validations),
                  "pulumi": sorted(m for m in sys.modules if m == "pulumi" or m.startswith(("pulumi.", "pulumi_")))}))
"""


def _probe(args: list[str], imports: list[str] = (), watch: Path | None = None) -> dict:
    out = subprocess.run([sys.executable, "-c", _PROBE, json.dumps(args), json.dumps(list(imports)), str(watch or "")],
                         cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("args", [
    ["validate", "--stack", "dev"],
    ["build", "--stack", "dev", "--json"],
    ["capabilities", "--json"],
    ["conformance", "--help"],
    ["dev", "--help"],
    ["experiment", "--help"],
], ids=lambda a: a[0])
def test_commands_outside_materialize_never_load_pulumi(args):
    got = _probe(args)
    assert got["exit"] == 0, got["output"]
    assert got["pulumi"] == [], f"`edgeport {' '.join(args)}` loaded {got['pulumi'][:5]}"


def test_local_running_and_conformance_modules_never_load_pulumi():
    """What `dev` and `conformance` run after their --help: the dev server, the runner, every target's facts,
    local stores and plan view (the views are pure too: the offline plan renders JSON without the SDK)."""
    mods = ["edgeport.local.dev", "edgeport.local.runner", "edgeport.conformance.runner", "edgeport.conformance.cli",
            "edgeport.build", "edgeport.argsgen", "edgeport.plan_render", "edgeport.targets.lambda_edge.local",
            "edgeport.ops.cli", "edgeport.ops.experiment"]
    mods += [f"edgeport.targets.{p}{sub}" for p in ("cloudflare", "lambda_edge", "vercel") for sub in ("", ".plan", ".ops")]
    assert _probe([], mods)["pulumi"] == []


def _module_imports(path: Path, name: str) -> set[str]:
    """Modules of the package imported at module level (not inside functions or `if TYPE_CHECKING:`)."""
    tree = ast.parse(path.read_text())
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    out: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.If):  # `if TYPE_CHECKING:` blocks never run
            continue
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names if a.name.startswith("edgeport")}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            if not mod.startswith("edgeport"):
                continue
            out.add(mod)
            out |= {f"{mod}.{a.name}" for a in node.names}  # `from . import targets` imports a module
    return out


def _graph() -> dict[str, set[str]]:
    files = {}
    for p in PKG.rglob("*.py"):
        rel = p.relative_to(PKG.parent).with_suffix("")
        parts = list(rel.parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        files[".".join(parts)] = p
    return {m: {d for d in _module_imports(p, m) if d in files and d != m} for m, p in files.items()}


def test_no_import_circle():
    graph = _graph()
    # A package's __init__ runs before its submodules, so `pkg.sub` importing `pkg` is not a circle; a package
    # importing its own submodule is the usual registry shape and not one either.
    def edges(m):
        return {d for d in graph[m] if not m.startswith(d + ".") and not d.startswith(m + ".")}

    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(m):
        state[m] = 1
        stack.append(m)
        for d in sorted(edges(m)):
            if state.get(d) == 1:
                raise AssertionError("import circle: " + " -> ".join(stack[stack.index(d):] + [d]))
            if d not in state:
                visit(d)
        stack.pop()
        state[m] = 2

    for m in sorted(graph):
        if m not in state:
            visit(m)


def test_spec_and_patterns_import_nothing_above_them():
    """The spec layer and the pattern modules know nothing of build, materialize, local running or the CLI."""
    graph = _graph()
    above = ("edgeport.build", "edgeport.components", "edgeport.component_base", "edgeport.program", "edgeport.plan",
             "edgeport.local", "edgeport.conformance", "edgeport.cli")
    for m, deps in graph.items():
        if m.startswith(("edgeport.spec", "edgeport.patterns")):
            bad = sorted(d for d in deps if d.startswith(above))
            assert not bad, f"{m} imports {bad}"


@pytest.mark.parametrize("args", [["validate", "--stack", "dev"], ["build", "--stack", "dev", "--json"],
                                  ["plan", "--stack", "dev", "--offline", "--json"]], ids=lambda a: a[0])
def test_a_command_reads_and_validates_the_stack_file_once(args):
    got = _probe(args, watch=ROOT / "stacks" / "Pulumi.dev.yaml")
    assert got["exit"] == 0, got["output"]
    assert got["reads"] == 1, f"`edgeport {args[0]}` read the stack file {got['reads']} times"
    assert got["validations"] == 1, f"`edgeport {args[0]}` validated the declaration {got['validations']} times"


def test_the_newest_local_compatibility_date_is_the_pinned_workerds():
    """validate refuses a compatibilityDate the local workerd cannot run; the limit is the pinned binary's own."""
    from edgeport.targets import cloudflare

    pkg = json.loads((ROOT / "functions" / "package.json").read_text())
    assert pkg["dependencies"]["workerd"] == cloudflare.PINNED_WORKERD
    probe = (  # evaluated from functions/, where miniflare resolves
        'import { Miniflare } from "miniflare";\n'
        "for (const date of process.argv.slice(1)) {\n"
        "  const mf = new Miniflare({ modules: true, compatibilityDate: date,\n"
        "    script: 'export default { fetch() { return new Response(\"ok\") } }' });\n"
        '  try { console.log(date, (await mf.dispatchFetch("http://x/")).status); }\n'
        '  catch { console.log(date, "refused"); } finally { await mf.dispose().catch(() => {}); }\n'
        "}\n")
    day_after = (date.fromisoformat(cloudflare.NEWEST_LOCAL_DATE) + timedelta(days=1)).isoformat()
    out = subprocess.run(["node", "--input-type=module", "-e", probe, cloudflare.NEWEST_LOCAL_DATE, day_after],
                         cwd=ROOT / "functions", capture_output=True, text=True, timeout=120)
    answers = dict(line.split(" ", 1) for line in out.stdout.splitlines() if line[:2] in ("19", "20"))
    assert answers == {cloudflare.NEWEST_LOCAL_DATE: "200", day_after: "refused"}, out.stdout + out.stderr[-1500:]


def test_every_registered_target_satisfies_the_target_protocols_and_has_an_edge_platform():
    """Each package in the target registry provides the facts, plan view and resources the protocols describe (with
    the protocols' parameter names), and the edge code has a platform folder of the same name."""
    import inspect
    import re

    from edgeport import targets
    from edgeport.targets.protocol import TargetFacts, TargetOps, TargetPlanView, TargetResources

    def methods(proto):
        return {n: list(inspect.signature(getattr(proto, n)).parameters)[1:] for n, v in vars(proto).items()
                if inspect.isfunction(v) and not n.startswith("_")}

    for name in targets.NAMES:
        facts, view, res = targets.profile(name), targets.plan_view(name), targets.resources(name)
        assert isinstance(facts, TargetFacts) and isinstance(view, TargetPlanView) and isinstance(res, TargetResources), name
        assert facts.NAME == name
        for proto, module in ((TargetFacts, facts), (TargetResources, res)):
            for meth, params in methods(proto).items():
                assert list(inspect.signature(getattr(module, meth)).parameters) == params, (name, meth)
        ops = targets.ops(name)  # day-2 operations (edgeport.ops): every target has them
        assert isinstance(ops, TargetOps), name
        for meth, params in methods(TargetOps).items():
            assert list(inspect.signature(getattr(ops, meth)).parameters) == params, (name, meth)
    ts = {re.search(r'export const name = "([^"]+)"', p.read_text()).group(1)
          for p in (ROOT / "functions" / "platforms").glob("*/index.mjs")}
    assert ts == set(targets.NAMES)
