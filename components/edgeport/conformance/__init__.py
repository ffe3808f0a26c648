"""Conformance: one declarative scenario suite per pattern type, run against every target that hosts it.

Scenario files (conformance/scenarios/*.yaml, format in docs/conformance.md) are loaded by
`scenarios`, filled in from the stack by `context`, executed against the built bundles in
the local runtimes by `runner`, and printed by `report` / `cli` (`edgeport conformance`).
"""

from .runner import DIFFERENCE, FAIL, NA, PASS, Report, Result, run_conformance
from .scenarios import ScenarioError, ScenarioFile, ScenarioIssue, load_scenarios, parse_file

__all__ = ["DIFFERENCE", "FAIL", "NA", "PASS", "Report", "Result", "ScenarioError", "ScenarioFile", "ScenarioIssue",
           "load_scenarios", "parse_file", "run_conformance"]
