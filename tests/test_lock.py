"""requirements.lock and pyproject.toml cannot drift apart: the lock pins what the tests ran with, pyproject's lower
bounds for the packages that decide deployed behaviour (pulumi and the provider SDKs, whose versions pick the provider
plugins `pulumi up` downloads; boto3 for the dynamic provider) equal those pins, and this venv runs them."""

from __future__ import annotations

import re
import tomllib
from importlib import metadata

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

from conftest import ROOT

DEPLOY_DECIDING = ["pulumi", "pulumi-cloudflare", "pulumi-aws", "pulumiverse-vercel", "boto3"]


def locked() -> dict[str, Version]:
    pins: dict[str, Version] = {}
    for n, line in enumerate((ROOT / "requirements.lock").read_text().splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        m = re.fullmatch(r"([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;@]+)", line.strip())
        assert m, f"requirements.lock:{n}: {line!r} is not an exact `name==version` pin"
        pins[canonicalize_name(m[1])] = Version(m[2])
    return pins


def declared() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return [Requirement(r) for r in [*project["dependencies"], *project["optional-dependencies"]["dev"]]]


def test_every_declared_dependency_is_locked_within_its_range():
    pins = locked()
    for req in declared():
        name = canonicalize_name(req.name)
        assert name in pins, f"{req.name} is in pyproject.toml but not in requirements.lock: run `make lock`"
        assert req.specifier.contains(pins[name], prereleases=True), \
            f"requirements.lock pins {req.name}=={pins[name]}, outside pyproject.toml's {req.specifier}"


@pytest.mark.parametrize("name", DEPLOY_DECIDING)
def test_lower_bound_is_the_locked_version(name):
    [req] = [r for r in declared() if canonicalize_name(r.name) == name]
    lower = [s.version for s in req.specifier if s.operator == ">="]
    assert lower == [str(locked()[name])], (
        f"pyproject.toml declares {req}; its lower bound must be the locked (tested) {name}=={locked()[name]}")


@pytest.mark.parametrize("name", DEPLOY_DECIDING)
def test_this_venv_runs_the_locked_version(name):
    assert Version(metadata.version(name)) == locked()[name], "reinstall from the lock: make setup"


def test_the_component_provider_installs_the_locked_versions():
    # Pulumi builds the provider's virtualenv from provider/requirements.txt (pip, cwd provider/).
    lines = (ROOT / "provider" / "requirements.txt").read_text().splitlines()
    assert "-c ../requirements.lock" in lines and "-e .." in lines
