"""Pydantic validation errors -> issues people can act on (key path, message, fix), shared by every YAML contract
edgeport reads: stack declarations (spec/loader.py) and conformance scenario files (conformance/scenarios.py).

A validator adds to what an issue says through its error's context: `hint` (the fix) and `at` (a key path below
the failing value, for rules that look at several keys of a mapping)."""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, get_args, get_origin

from pydantic import BaseModel

from ..errors import SpecIssue
from .yaml_lines import path_str

_TYPE_NAMES = {"string_type": "a string", "int_type": "an integer", "int_parsing": "an integer", "float_type": "a number",
               "float_parsing": "a number", "bool_type": "true or false", "bool_parsing": "true or false",
               "list_type": "a list", "dict_type": "a mapping", "model_type": "a mapping", "model_attributes_type": "a mapping"}


@dataclass(frozen=True)
class Contract:
    """How one YAML contract's errors read: its root model, the path prefix issues carry, the tags its
    discriminated unions put into error locations (tag -> member model; dropped from the path people see), what
    an unknown tag is called, and how to explain a value that failed its regular expression."""

    model: type[BaseModel]
    root: str = ""
    tags: Mapping[str, type[BaseModel] | None] = field(default_factory=dict)  # None: the tag picks no model
    tag_noun: str = "type"
    pattern_hint: Callable[[str], str | None] = lambda key: None


def yaml_type(v: Any) -> str:
    return {str: "a string", int: "an integer", float: "a number", bool: "a boolean", list: "a list", dict: "a mapping",
            type(None): "nothing (null)"}.get(type(v), type(v).__name__)


def allowed_keys(contract: Contract, loc: tuple) -> list[str]:
    """The keys the mapping at `loc` accepts (walks the model classes, best effort)."""
    cls = contract.model
    for part in loc[:-1]:
        if isinstance(part, int):
            continue
        if part in contract.tags:
            cls = contract.tags[part] or cls
            continue
        fields = {(f.alias or n): f for n, f in cls.model_fields.items()}
        f = fields.get(part)
        if f is None:
            return []
        stack, found = [f.annotation], None
        while stack:
            a = stack.pop()
            if isinstance(a, type) and issubclass(a, BaseModel):
                found = a
                break
            stack.extend(get_args(a))
            if get_origin(a) is None and hasattr(a, "__metadata__"):
                stack.extend(get_args(a))
        if found is None:
            return []
        cls = found
    return [(f.alias or n) for n, f in cls.model_fields.items()]


def issue_from_pydantic(err: dict, contract: Contract) -> tuple[tuple, SpecIssue]:
    """(the key path the issue is about, the issue)."""
    loc = tuple(err["loc"])
    typ = err["type"]
    ctx = err.get("ctx") or {}
    clean = tuple(p for p in loc if p not in contract.tags)
    if clean[-1:] == ("[key]",):  # pydantic's marker for a mapping key that failed: the key is the location
        clean = clean[:-1]
        why = err["msg"].removeprefix("Value error, ")
        err = {**err, "msg": f"{clean[-1]!r} is not an allowed key here: " + why[0].lower() + why[1:]}
    clean += tuple(ctx.get("at", ()))
    msg = err["msg"]
    hint = str(ctx.get("hint", ""))
    if typ == "extra_forbidden":
        key = loc[-1]
        allowed = allowed_keys(contract, loc)
        close = difflib.get_close_matches(str(key), allowed, n=1)
        msg = f"unknown key {key!r}"
        hint = (f"did you mean {close[0]!r}? " if close else "") + (f"allowed keys: {', '.join(allowed)}" if allowed else "remove it")
    elif typ == "missing":
        msg = f"required key {loc[-1]!r} is missing"
        hint = hint or "add it"
        clean = clean[:-1]
    elif typ == "union_tag_invalid":
        tag = ctx.get("tag")
        expected = [t for t in contract.tags]
        msg = f"unknown {contract.tag_noun} {tag!r}"
        close = difflib.get_close_matches(str(tag), expected, n=1)
        hint = f"did you mean {close[0]!r}?" if close else f"use one of {', '.join(expected)}"
        clean = clean + ("type",)
    elif typ == "union_tag_not_found":
        msg = "no `type` given"
        hint = f"add `type:` with one of {', '.join(contract.tags)}"
    elif typ in ("literal_error", "enum"):
        msg = f"{err.get('input')!r} is not allowed"
        hint = f"use {ctx['expected']}"
    elif typ == "string_pattern_mismatch":
        msg = f"{err.get('input')!r} does not have the expected form"
        hint = contract.pattern_hint(str(clean[-1] if clean else "")) or f"it must match {ctx['pattern']}"
    elif typ in _TYPE_NAMES:
        msg = f"expected {_TYPE_NAMES[typ]}, got {yaml_type(err.get('input'))}"
        if typ == "string_type" and isinstance(err.get("input"), (int, float, bool)):
            hint = "wrap the value in quotes so YAML keeps it as text (e.g. \"0123...\")"
    elif typ == "value_error":
        msg = msg.removeprefix("Value error, ")
    elif typ == "too_short" and ctx.get("min_length") == 1:
        msg = f"expected a non-empty {'list' if isinstance(err.get('input'), list) else 'mapping'}, got an empty one"
    elif typ in ("too_short", "too_long", "greater_than_equal", "less_than_equal", "greater_than", "less_than"):
        msg = msg[0].lower() + msg[1:]
    return clean, SpecIssue(path=path_str(clean, contract.root), message=msg, hint=hint)
