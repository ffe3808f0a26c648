"""Every file of the bad-stack corpus (tests/bad_stacks.py) is refused the same way by `validate`, `build` and
`plan`: exit 2, every expected key named with the file and the line it is written on, all in one run, and
nothing built or planned."""

from __future__ import annotations

import re

import pytest
import yaml
from click.testing import CliRunner

from bad_stacks import CASES
from conftest import ROOT, write_project
from edgeport.cli import main

DEV = (ROOT / "stacks" / "Pulumi.dev.yaml").read_text()
ISSUE = re.compile(r"^stacks/Pulumi\.t\.yaml:(\d+): (.+?): ", re.M)


def _stack_text(change) -> str:
    if isinstance(change, tuple):
        old, new = change
        assert old in DEV, old
        return DEV.replace(old, new, 1)
    doc = yaml.safe_load(DEV)
    change(doc["config"])
    return yaml.safe_dump(doc, sort_keys=False, allow_unicode=True)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """One project per case, written once."""
    dirs = {}
    for case_id, change, _ in CASES:
        d = tmp_path_factory.mktemp("bad")
        write_project(d, {"t": _stack_text(change)})
        dirs[case_id] = d
    return dirs


def test_the_corpus_covers_every_mistake_class():
    classes = {case_id.split(":")[0] for case_id, _, _ in CASES}
    assert len(CASES) >= 60
    assert classes >= {"type", "unknown", "typo", "missing", "routes", "countries", "ratios", "duplicates", "capability",
                       "jwks", "secrets", "origins", "limits", "yaml", "overlap", "date", "one pass"}


def _named(want: str, found: list[tuple[str, str]], output: str) -> int | None:
    """The line of an issue about `want`: at that key or inside it, or at its parent when the message names the key
    (a missing key is reported where it belongs: "edgeport:app.patterns[2]: required key 'routes' is missing")."""
    for line, path in found:
        if path == want or path.startswith(want + ".") or path.startswith(want + "["):
            return int(line)
    parent, _, last = want.rpartition(".")
    for line, path in found:
        if path == parent and f"'{last}'" in output:
            return int(line)
    return None


@pytest.mark.parametrize("command", ["validate", "build", "plan"])
@pytest.mark.parametrize("case_id, change, paths", CASES, ids=[c[0] for c in CASES])
def test_a_bad_stack_is_refused_with_file_line_and_key(corpus, command, case_id, change, paths):
    project = corpus[case_id]
    r = CliRunner().invoke(main, [command, "--stack", "t", "--project-dir", str(project)])
    assert r.exit_code == 2, f"{command}: exit {r.exit_code}\n{r.output}"
    assert "Traceback" not in r.output
    found = ISSUE.findall(r.output)
    lines = (project / "stacks" / "Pulumi.t.yaml").read_text().splitlines()
    for want in paths:
        line = _named(want, found, r.output)
        assert line, f"{command} did not name {want}:\n{r.output}"
        key = re.sub(r"\[\d+\]$", "", want.rsplit(".", 1)[-1]).split("[")[0]  # the last key of the path
        text = lines[line - 1]
        assert key in text or text.lstrip().startswith("- ") or key in r.output, \
            f"{want} reported on line {line}, which reads {text!r}"
    assert not (project / ".edgeport").exists(), f"{command} built something for an invalid stack"
