"""Text rendering of an offline plan: a resource tree per target with each resource's key inputs."""

from __future__ import annotations

import json
from typing import Any, Callable

from . import targets
from .plan import Plan, PlannedResource


# type -> [(input key, formatter)]: each target's plan module says which inputs of its resources deserve a line.
KEY_INPUTS: dict[str, list[tuple[str, Callable[[Any], str] | None]]] = {
    k: v for t in targets.NAMES for k, v in targets.plan_view(t).KEY_INPUTS.items()}


def _lines(r: PlannedResource) -> list[str]:
    out = []
    for key, fmt in KEY_INPUTS.get(r.type, []):
        if key not in r.inputs:
            continue
        v = r.inputs[key]
        text = fmt(v) if fmt else (json.dumps(v) if isinstance(v, (list, dict, bool)) or v is None else str(v))
        secret = " (secret)" if key in r.secret_inputs else ""
        out.append(f"{key}: {text}{secret}")
    return out


def render_text(plan: Plan) -> str:
    # plan.resources is already in a stable order (parents first, siblings by target then URN); the tree keeps it.
    children: dict[str | None, list[PlannedResource]] = {}
    for r in plan.resources:
        children.setdefault(r.parent_urn, []).append(r)
    counts = plan.by_target()
    total = sum(len(v) for v in counts.values())
    head = [f"Offline plan for stack {plan.stack} (app {plan.app}): {total} resources in {plan.seconds:.1f} s",
            "  " + ", ".join(f"{t}: {len(rs)}" for t, rs in counts.items()), ""]
    body: list[str] = []

    def walk(r: PlannedResource, depth: int) -> None:
        pad = "  " * depth
        body.append(f"{pad}+ {r.type}  {r.name}")
        for line in _lines(r):
            body.append(f"{pad}    {line}")
        for c in children.get(r.urn, []):
            walk(c, depth + 1)

    for root in children.get(None, []):
        walk(root, 0)
    return "\n".join(head + body + _prerequisite_lines(plan))


def _prerequisite_lines(plan: Plan) -> list[str]:
    if not plan.prerequisites:
        return []
    out = ["", "Prerequisites (not created by this stack):"]
    for f in plan.prerequisites:
        where = f" ({f.where()})" if f.level in ("error", "warning") else ""
        out.append(f"  {f.level:<8} {f.target} {f.check}: {f.message}{where}")
        if f.hint and f.level in ("error", "warning"):
            out.append(f"           fix: {f.hint}")
    return out


def _kb(n: int) -> str:
    return f"{n / 1024:.1f} KB" if n < 1024 * 1024 else f"{n / 1048576:.3g} MB"


def _prerequisite_markdown(plan: Plan) -> list[str]:
    if not plan.prerequisites:
        return []
    out = ["**Prerequisites** (not created by this stack)", "", "| | target | check | finding |", "|---|---|---|---|"]
    for f in plan.prerequisites:
        text = f.message + (f" — `{f.where()}`; fix: {f.hint}" if f.level in ("error", "warning") and f.hint else "")
        mark = f"**{f.level}**" if f.level in ("error", "warning") else f.level
        out.append(f"| {mark} | {f.target} | {f.check} | {text.replace('|', chr(92) + '|')} |")
    return out + [""]


def render_markdown(plan: Plan) -> str:
    """A summary for a pull-request comment: counts and bundle budgets up front, resources folded per target."""
    counts = plan.by_target()
    lines = [f"### edgeport plan: stack `{plan.stack}`, app `{plan.app}`", "",
             "| target | resources | bundles (size / budget) |", "|---|---:|---|"]
    for target, rs in counts.items():
        bundles = [b for b in plan.bundles if b["target"] == target]
        cells = []
        for b in bundles:
            measured = b["gzipBytes"] if b["budget"]["measure"] == "gzip" else b["zipBytes"]
            label = b["event"] or b["file"].rsplit("/", 1)[-1]
            flag = " ⚠ over budget" if b["overBudget"] else ""
            cells.append(f"{label} {_kb(measured)} {b['budget']['measure']} / {_kb(b['budget']['bytes'])}{flag}")
        lines.append(f"| {target} | {len(rs)} | {' · '.join(cells) or '-'} |")
    lines.append("")
    for target, rs in counts.items():
        lines += [f"<details><summary>{target}: {len(rs)} resources</summary>", "", "| type | name | key inputs |",
                  "|---|---|---|"]
        for r in rs:
            inputs = "; ".join(_lines(r)).replace("|", "\\|")
            lines.append(f"| `{r.type}` | `{r.name}` | {inputs} |")
        lines += ["", "</details>", ""]
    lines += _prerequisite_markdown(plan)
    for w in plan.warnings:
        lines.append(f"> **warning:** {w}")
    # No timing here: the comment must be byte-identical when nothing changed, or every push rewrites it.
    lines.append("<sub>offline plan: the Pulumi program under mocks; prerequisites checked where credentials allow</sub>")
    return "\n".join(lines) + "\n"
