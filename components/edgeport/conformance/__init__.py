"""Conformance: one declarative scenario suite per pattern type, run against every target that hosts it.

Scenario files (conformance/scenarios/*.yaml, format in docs/conformance.md) are loaded by
`scenarios`, filled in from the stack by `context`, executed against the built bundles in
the local runtimes by `runner`, and printed by `report` / `cli` (`edgeport conformance`).
"""

import importlib

# Loaded on first use: `edgeport --help` and every other command register `conformance` (cli.py) without paying
# for the scenario models and the runner.
_EXPORTS = {**dict.fromkeys(("DIFFERENCE", "FAIL", "NA", "PASS", "Report", "Result", "run_conformance"), "runner"),
            **dict.fromkeys(("ScenarioError", "ScenarioFile", "ScenarioIssue", "load_scenarios", "parse_file"), "scenarios")}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(importlib.import_module(f"{__name__}.{_EXPORTS[name]}"), name)
    raise AttributeError(name)
