"""The docs stay true to the code: every declaration key is documented, every command exists."""

from __future__ import annotations

import re

import click
from click.testing import CliRunner
from pydantic import BaseModel

from conftest import ROOT
from edgeport.cli import main
from edgeport import targets
from edgeport.patterns import KINDS
from edgeport.patterns.jwt_auth import Jwk
from edgeport.spec import models


def _keys(cls, prefix=""):
    for name, f in cls.model_fields.items():
        if name == "type" or cls is Jwk:
            continue
        yield f.alias or name
        ann = f.annotation
        for sub in (getattr(ann, "__args__", None) or (ann,)):
            if isinstance(sub, type) and issubclass(sub, BaseModel) and sub is not Jwk:
                yield from _keys(sub)


def test_every_key_is_in_the_configuration_reference():
    doc = (ROOT / "docs" / "configuration.md").read_text()
    # Every model reachable from the App and from each registered pattern's model (nested ones by _keys).
    classes = [models.App, *(targets.profile(n).Settings for n in targets.NAMES), *(k.model for k in KINDS.values())]
    in_code = {w for span in re.findall(r"`([^`\n]+)`", doc.replace("```", "")) for w in re.findall(r"[A-Za-z][\w-]*", span)}
    missing = sorted({k for c in classes for k in _keys(c) if k not in in_code})
    assert missing == []


def test_readme_commands_exist():
    readme = (ROOT / "README.md").read_text()
    documented = set(re.findall(r"^\| `edgeport ([\w-]+)", readme, re.M)) | {"secrets"}
    commands = main.list_commands(click.Context(main))  # every command, also those registered on first need
    assert documented == set(commands)
    for name in commands:
        assert CliRunner().invoke(main, [name, "--help"]).exit_code == 0
