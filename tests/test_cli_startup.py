"""`edgeport --help` and `edgeport validate` import only what they use (#14): help imports neither pydantic nor Pulumi
(the target packages' settings models are what pulled pydantic in), validate no Pulumi and none of the modules of
commands it does not run. Checked on the modules imported (python -X importtime), not on time."""

from __future__ import annotations

import subprocess
import sys

import pytest

from conftest import ROOT, credential_free_env
from edgeport import targets
from edgeport.cli import HELP_FACTS


def imported(*args: str) -> set[str]:
    """The modules `edgeport <args>` imports, from -X importtime's report on stderr."""
    r = subprocess.run([sys.executable, "-X", "importtime", "-m", "edgeport.cli", *args], cwd=ROOT, capture_output=True,
                       text=True, timeout=120, env=credential_free_env())
    assert r.returncode == 0, r.stderr[-2000:]
    return {line.rsplit("|", 1)[1].strip() for line in r.stderr.splitlines() if line.startswith("import time:")}


def tops(modules: set[str]) -> set[str]:
    return {m.split(".")[0] for m in modules}


@pytest.mark.parametrize("args", [["--help"], ["dev", "--help"], ["plan", "--help"], ["experiment", "--help"]],
                         ids=["help", "dev-help", "plan-help", "experiment-help"])
def test_help_imports_neither_pydantic_nor_pulumi(args):
    mods = imported(*args)
    assert "click" in mods and "edgeport.errors" in mods  # the report is read right (edgeport.cli runs as __main__)
    assert not tops(mods) & {"pydantic", "pydantic_core", "pulumi", "pulumi_aws", "pulumiverse_vercel", "yaml"}, sorted(mods)
    assert not {m for m in mods if m.startswith(("edgeport.spec", "edgeport.patterns", "edgeport.targets."))}


def test_validate_imports_no_pulumi_and_no_other_commands():
    mods = imported("validate", "--stack", "dev")
    assert "pydantic" in mods and "edgeport.spec.loader" in mods
    assert not {m for m in mods if m.split(".")[0].startswith("pulumi")}, sorted(mods)
    unused = ("edgeport.ops", "edgeport.ci", "edgeport.conformance", "edgeport.build", "edgeport.local", "edgeport.plan",
              "edgeport.plan_render", "edgeport.plan_diff", "edgeport.program", "edgeport.components")
    assert not {m for m in mods if m in unused or m.startswith(tuple(f"{u}." for u in unused))}, sorted(mods)


def test_help_facts_are_the_target_packages():
    """The help texts' ports and local runtimes (cli.HELP_FACTS, written out so that help loads no target package)
    are the target packages' own, for every registered target, in registry order."""
    assert list(HELP_FACTS) == list(targets.NAMES)
    for name in targets.NAMES:
        facts = targets.profile(name)
        assert HELP_FACTS[name] == (facts.DEFAULT_PORT, facts.LOCAL_RUNTIME), name


def test_dev_help_shows_each_targets_port_and_local_runtime():
    r = subprocess.run([sys.executable, "-m", "edgeport.cli", "dev", "--help"], cwd=ROOT, capture_output=True, text=True,
                       timeout=120, env=credential_free_env())
    assert r.returncode == 0
    text = " ".join(r.stdout.split())
    for name in targets.NAMES:
        assert f"{targets.profile(name).DEFAULT_PORT} {name}" in text
        assert f"{targets.profile(name).LOCAL_RUNTIME} for {name}" in text
