"""Generate the Pulumi component classes and their argument types from the declaration models.

The stack declaration is the one schema: each pattern's pydantic model (edgeport.patterns) and each target's
settings model (edgeport.targets) say which settings exist, which are required and what they mean. From them this
module writes `edgeport/components_gen.py` - a TypedDict per model and one component class per registered pattern -
and Pulumi's component analyzer turns those classes into provider/schema.json (edgeport.schema). The way pulumi-awsx
generates its schema types, so a field added to a model reaches every Pulumi language without a hand-written copy.

`python -m edgeport.argsgen` (or `make schema`) rewrites the file; a test checks that doing so changes nothing.
Pure: reads models only, never imports Pulumi.
"""

from __future__ import annotations

import types
import typing
from pathlib import Path
from typing import Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel

from . import patterns, targets
from .patterns.base import PatternBase
from .spec.models import App

OUT = Path(__file__).with_name("components_gen.py")

# Declaration fields a pattern component sets itself: `name` is the component's name, `type` its class, and the
# pattern runs on every target the component declares (so no `targets` subset).
_SET_BY_COMPONENT = {"name", "type", "targets"}

# Component-only arguments: what a YAML stack says at its top level (targets, origins) and the physical names.
_COMPONENT_ONLY = {
    "app": ("str", "App name used in physical names (default: the component name)."),
    "stack": ("str", "Stack name used in physical names (default: the current Pulumi stack)."),
}


def args_name(model: type[BaseModel]) -> str:
    return model.__name__.removesuffix("Settings").removesuffix("Source") + "Args"


class _Writer:
    def __init__(self) -> None:
        self.blocks: list[str] = []
        self.done: set[type] = set()

    def annotation(self, tp: Any) -> str:
        """The TypedDict annotation of a model field's type, in what Pulumi's analyzer understands (no unions)."""
        origin = get_origin(tp)
        if origin is typing.Annotated:
            return self.annotation(get_args(tp)[0])
        if origin in (Union, types.UnionType):
            members = [a for a in get_args(tp) if a is not type(None)]
            listed = [a for a in members if get_origin(a) is list]  # `str | list[str]`: the list says both
            return self.annotation((listed or members)[0])
        if origin is Literal:
            return type(get_args(tp)[0]).__name__
        if origin is list:
            return f"list[{self.annotation(get_args(tp)[0])}]"
        if origin is dict:
            return f"dict[str, {self.annotation(get_args(tp)[1])}]"
        if isinstance(tp, type) and issubclass(tp, BaseModel):
            self.model(tp)
            return args_name(tp)
        if tp in (str, int, float, bool):
            return tp.__name__
        if tp is Any:
            return "Any"
        raise TypeError(f"no component argument type for {tp!r}: teach edgeport.argsgen.annotation about it")

    def fields(self, model: type[BaseModel], skip: set[str]) -> list[str]:
        lines = []
        for name, f in model.model_fields.items():
            if name in skip:
                continue
            ann = self.annotation(f.annotation)
            lines.append(f"    {name}: {f'Required[{ann}]' if f.is_required() else ann}")
            doc = _field_doc(f)
            if doc:
                lines.append(f'    """{doc}"""')
        return lines

    def typed_dict(self, name: str, doc: str | None, lines: list[str], base: str = "TypedDict") -> None:
        head = [f"class {name}({base}, total=False):"]
        if doc:
            head.append(f'    """{_sentence(doc)}"""\n')
        self.blocks.append("\n".join(head + (lines or ["    pass"])))

    def model(self, model: type[BaseModel], skip: set[str] = frozenset()) -> None:
        if model in self.done:
            return
        self.done.add(model)
        lines = self.fields(model, set(skip))
        self.typed_dict(args_name(model), _doc(model), lines)


def _literal_values(tp: Any) -> list[Any]:
    origin = get_origin(tp)
    if origin is Literal:
        return list(get_args(tp))
    if origin in (Union, types.UnionType, typing.Annotated):
        return [v for a in get_args(tp) if a is not type(None) for v in _literal_values(a)]
    return []


def _field_doc(f: Any) -> str:
    """The field's description, the values it accepts when they are a fixed set, and its default."""
    parts = [_sentence(f.description)] if f.description else []
    values = _literal_values(f.annotation)
    if values:
        parts.append("One of " + ", ".join(str(v) for v in values) + ".")
    if not f.is_required() and f.default_factory is None and f.default not in (None, [], {}, ""):
        default = f.default
        if isinstance(default, BaseModel):
            return " ".join(parts)
        parts.append(f"Default: {str(default).lower() if isinstance(default, bool) else default}.")
    return " ".join(parts)


def _doc(model: type[BaseModel]) -> str | None:
    doc = model.__doc__
    if not doc or doc.startswith(("Usage docs:", "A base class")) or doc is BaseModel.__doc__:
        return None
    return " ".join(doc.split())


def _sentence(text: str) -> str:
    text = " ".join(text.split()).replace('"""', "'''").replace("\\", "\\\\")
    return text[0].upper() + text[1:] + ("" if text.endswith(".") else ".")


def _outputs_class() -> str:
    lines = ["class _EdgeComponent(Materializer, pulumi.ComponentResource):",
             '    """Outputs every edgeport component exposes (None where the target is not used)."""', ""]
    for t in targets.NAMES:
        for attr, (_key, ann, doc) in targets.profile(t).OUTPUTS.items():
            lines += [f"    {attr}: pulumi.Output[Optional[{ann}]]", f'    """{_sentence(doc)}"""']
    return "\n".join(lines)


def source() -> str:
    """The text of components_gen.py."""
    w = _Writer()
    for t in targets.NAMES:
        w.model(targets.profile(t).Settings)
    w.model(App.model_fields["targets"].annotation)  # TargetsArgs: one key per registered target
    base = w.fields(PatternBase, _SET_BY_COMPONENT)
    base += [
        "    targets: Required[TargetsArgs]",
        '    """Where the pattern runs: one or more of the platforms."""',
        "    origins: Required[dict[str, str]]",
        f'    """{_sentence(App.model_fields["origins"].description or "origin name -> URL; must include default")}"""',
    ]
    for name, (ann, doc) in _COMPONENT_ONLY.items():
        base += [f"    {name}: {ann}", f'    """{doc}"""']
    w.typed_dict("PatternArgs", "What every pattern component takes.", base)
    classes = []
    for kind in patterns.KINDS.values():
        own = set(PatternBase.model_fields) | _SET_BY_COMPONENT | {f for f, _ in kind.component_secrets.values()}
        lines = w.fields(kind.model, own)
        for arg, (field, doc) in kind.component_secrets.items():
            lines += [f"    {arg}: pulumi.Input[str]", f'    """{doc}"""']
        w.done.add(kind.model)
        w.typed_dict(f"{kind.component}Args", _doc(kind.model), lines, base="PatternArgs")
        classes.append(
            f"class {kind.component}(_PatternComponent):\n"
            f'    """{_sentence(kind.summary)}"""\n\n'
            f'    _pattern_type = "{kind.type}"\n\n'
            f"    def __init__(self, name: str, args: {kind.component}Args, opts: Optional[pulumi.ResourceOptions] = None):\n"
            f'        super().__init__("edgeport:index:{kind.component}", name, args, opts)')
    names = ", ".join(k.component for k in patterns.KINDS.values())
    return "\n\n\n".join([
        '"""GENERATED by edgeport.argsgen from the declaration models - do not edit; run `make schema`.\n\n'
        "One argument type per declaration model and one component per registered pattern.\n"
        '"""\n\n'
        "# ruff: noqa: E501\n"
        "# No `from __future__ import annotations`: Pulumi's component analyzer reads these annotations at run time.\n"
        "from typing import Any, Optional, Required, TypedDict  # noqa: F401\n\n"
        "import pulumi\n\n"
        "from .component_base import Materializer, PatternMixin",
        _outputs_class(),
        "class _PatternComponent(PatternMixin, _EdgeComponent):\n    pass",
        *w.blocks, *classes,
        f"PATTERN_COMPONENTS = [{names}]",
    ]) + "\n"


def main() -> None:
    OUT.write_text(source())
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
