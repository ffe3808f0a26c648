"""Text rendering of a conformance report: a pattern x scenario x target table, diffs, a summary line."""

from __future__ import annotations

import re

import click

from .runner import DIFFERENCE, FAIL, NA, PASS, Report, Result

_STYLE = {PASS: {"fg": "green"}, FAIL: {"fg": "red", "bold": True}, DIFFERENCE: {"fg": "yellow"}, NA: {"fg": "bright_black"}}
_CELL = {PASS: "pass", FAIL: "FAIL", DIFFERENCE: "declared-difference", NA: "n/a"}


def _cell(r: Result | None, notes: dict[str, int]) -> tuple[str, str]:
    """(text, status). A declared difference or n/a carries a footnote number pointing at its reason."""
    if r is None:
        return "", ""
    text = _CELL[r.status]
    if r.status in (DIFFERENCE, NA) and r.reason:
        n = notes.setdefault(r.reason, len(notes) + 1)
        text += f" [{n}]"
    return text, r.status


def _shorten(name: str, width: int) -> str:
    """Cut a long scenario name, keeping its for_each label ("... [new-hero]") readable."""
    m = re.match(r"^(.*?)( \[[^\]]*\])$", name)
    base, label = (m[1], m[2]) if m else (name, "")
    keep = max(8, width - len(label) - 1)
    return (base[:keep].rstrip() + "…" + label)[:width] if len(label) < width - 8 else name[: width - 1] + "…"


def render_table(report: Report, color: bool = True) -> str:
    # One row per scenario instance (file, pattern, scenario, for_each item), one column per target.
    rows: dict[tuple, dict[str, Result]] = {}
    for r in report.results:
        rows.setdefault((r.order, r.scenario), {})[r.target] = r
    notes: dict[str, int] = {}
    table: list[tuple[list[str], list[str]]] = []
    for key in sorted(rows):
        first = next(iter(rows[key].values()))
        cells = [_cell(rows[key].get(t), notes) for t in report.targets]
        table.append(([f"{first.pattern} ({first.type})", first.scenario] + [c[0] for c in cells],
                      ["", ""] + [c[1] for c in cells]))
    head = ["pattern", "scenario"] + report.targets
    widths = [max([len(head[i])] + [len(row[i]) for row, _ in table]) for i in range(len(head))]
    widths[1] = min(widths[1], 80)
    lines = ["  ".join(h.ljust(w) for h, w in zip(head, widths)).rstrip(),
             "  ".join("-" * w for w in widths)]
    last_pattern = None
    for row, states in table:
        shown = list(row)
        if row[0] == last_pattern:
            shown[0] = ""  # the pattern names its group once
        last_pattern = row[0]
        if len(shown[1]) > widths[1]:
            shown[1] = _shorten(shown[1], widths[1])
        parts = []
        for i, (text, w) in enumerate(zip(shown, widths)):
            cell = text if i == len(shown) - 1 else text.ljust(w)  # no trailing padding (styled text is not rstripped)
            if color and states[i]:
                cell = click.style(cell, **_STYLE[states[i]])
            parts.append(cell)
        lines.append("  ".join(parts).rstrip())
    if notes:
        lines.append("")
        for reason, n in notes.items():
            lines.append(f"[{n}] {reason}")
    return "\n".join(lines)


def render_failures(report: Report) -> str:
    out = []
    for r in report.results:
        if r.status != FAIL:
            continue
        where = f"{r.file}:{r.line}" if r.line else r.file
        out.append(f"FAIL  {r.pattern} ({r.type}) · {r.scenario} · {r.target}   ({where})")
        for s in r.steps:
            if "method" in s:
                hits = ", ".join(s["origin_requests"]) or "no origin request"
                out.append(f"  step {s['step']}: {s['method']} {s['target']} -> {s['status']} (first byte {s['ttfb_ms']:.0f} ms, "
                           f"complete {s['total_ms']:.0f} ms); origins: {hits}")
            elif "websocket" in s:
                out.append(f"  step {s['step']}: WebSocket {s['websocket']} {s['path']} -> {s['status']}")
        for m in r.mismatches:
            out.append(f"  step {m.step} · {m.what}")
            out.append(f"      expected: {m.expected}")
            out.append(f"      actual:   {m.actual}")
        if r.error:
            out.append("  error: " + r.error.rstrip().replace("\n", "\n         "))
        out.append("")
    return "\n".join(out).rstrip()


def render_summary(report: Report) -> str:
    s = report.summary()
    return (f"conformance {report.stack}: {s['scenarios']} scenarios ({s['cases']} cases), {s['runs']} runs on "
            f"{', '.join(report.targets)}: {s['pass']} pass, {s['fail']} FAIL, {s['declared_difference']} declared-difference, "
            f"{s['not_applicable']} n/a in {report.duration_s:.1f} s")
