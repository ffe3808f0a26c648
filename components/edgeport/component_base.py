"""What every edgeport component does, as mixins for the generated component classes (components_gen.py).

Every component validates its declaration with the same rules as `edgeport validate`, builds the bundles, and
creates one child component per target through the target registry (each target's ``resources.materialize``):
EdgeApp/pattern -> ``edgeport:<platform>:<Kind>`` -> provider resources. Child names start with the component's
name, so an alias on a renamed component carries over to every child.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping, Optional

import pulumi

from . import targets
from .build import BuildResult, build_app, default_out_dir
from .errors import EdgeportError
from .patterns import KINDS
from .spec.loader import parse_app
from .spec.models import App
from .spec.validate import check_secret_value, validate_app


def _checked(name: str, value: pulumi.Input[str], app: App) -> pulumi.Output[str]:
    def check(v: str) -> str:
        problems = check_secret_value(name, v, app)
        if problems:
            raise EdgeportError("; ".join(problems))
        return v

    return pulumi.Output.secret(pulumi.Output.from_input(value).apply(check))


class Materializer:
    """Materializes an App on every target it declares and sets the component's outputs (every target's OUTPUTS,
    None where the target is not used). Mixed into a pulumi.ComponentResource."""

    def _materialize(self, name: str, app: App, stack: str, secrets: Mapping[str, pulumi.Input[str]],
                     build: Optional[BuildResult], project_dir: Path, *, validated: bool = False) -> None:
        if not validated:  # an App built in Python gets the same checks as YAML (parse_app has run them already)
            validate_app(app).raise_if_any()
        missing = [s for s in app.secret_names() if s not in secrets]
        if missing:
            raise EdgeportError(f"no value for secret{'s' if len(missing) > 1 else ''} {', '.join(missing)}: "
                                + "; ".join(f"pulumi config set --secret {m} <value>" for m in missing))
        build = build or build_app(app, stack, default_out_dir(project_dir, stack))
        checked = {s: _checked(s, secrets[s], app) for s in app.secret_names()}
        outs: dict[str, Any] = {}
        for target in app.targets.names():
            artifacts = build.for_target(target)
            if artifacts:
                outs[target] = targets.resources(target).materialize(f"{name}-{target}", app, stack, artifacts, checked,
                                                           pulumi.ResourceOptions(parent=self))
        self.outputs = outs
        none = pulumi.Output.from_input(None)
        registered: dict[str, Any] = {}
        for target in targets.NAMES:
            got = outs.get(target, {})
            for attr, (key, _type, _doc) in targets.profile(target).OUTPUTS.items():
                v = got.get(key)
                registered[attr] = none if v is None or v == [] else pulumi.Output.all(*v) if isinstance(v, list) else v
                setattr(self, attr, registered[attr])
        self.register_outputs(registered)


_COMMON = ("routes", "targets", "origins", "app", "stack")


def _single_pattern_app(name: str, pattern_type: str, args: Mapping[str, Any]) -> tuple[dict, dict[str, Any]]:
    """The YAML-shaped declaration equivalent to one pattern component, and its secrets."""
    secret_args = KINDS[pattern_type].component_secrets
    pattern = {k: v for k, v in args.items() if k not in _COMMON and k not in secret_args and v is not None}
    pattern.update(name=name, type=pattern_type, routes=list(args["routes"]))
    secrets: dict[str, Any] = {}
    for arg, (field, _doc) in secret_args.items():
        if args.get(arg) is not None:  # e.g. hmac_secret -> secret: <name>_hmac, a secret named after the component
            secret_name = f"{name.replace('-', '_')}_{arg.removesuffix('_secret')}"
            pattern[field] = secret_name
            secrets[secret_name] = args[arg]
    raw = {"name": args.get("app") or name, "origins": dict(args["origins"]), "targets": dict(args["targets"]),
           "patterns": [pattern]}
    return raw, secrets


class PatternMixin:
    """A component for one pattern: its arguments are the pattern's settings plus targets and origins."""

    _pattern_type = ""  # (Resource itself uses _type for the type token)

    def __init__(self, token: str, name: str, args: Mapping[str, Any], opts: Optional[pulumi.ResourceOptions]):
        super().__init__(token, name, None, opts)
        raw, secrets = _single_pattern_app(name, self._pattern_type, args)
        self._materialize(name, parse_app(raw), args.get("stack") or pulumi.get_stack(), secrets, None, Path.cwd(),
                          validated=True)
