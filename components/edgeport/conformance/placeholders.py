"""Placeholders in scenario strings: `{route}`, `{token:expired}`, `{variant[{captured.v}].path}` ...

A scenario file is written once per pattern *type*; the values that differ per stack
(routes, variant names, origins, secrets) are filled in from the stack's declaration
when a scenario runs. Placeholders nest (the inner one is resolved first), an inserted
value is never re-scanned (a variant's path template keeps its literal `{path}`), and
`{{` / `}}` stand for literal braces. A string that is exactly one placeholder keeps the
value's type (`"{variants}"` is a list, `"{max_message_bytes+1}"` an int).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Callable

from ..errors import PlaceholderError

__all__ = ["PlaceholderError"]


@dataclass(frozen=True)
class Node:
    """One `{...}` placeholder; its name may itself contain placeholders."""

    parts: tuple  # str | Node


def parse(text: str) -> tuple:
    """Split a string into literal parts and placeholder Nodes. Raises PlaceholderError."""
    parts, i = _parse(text, 0, nested=False)
    return tuple(parts)


def _parse(s: str, i: int, nested: bool) -> tuple[list, int]:
    parts: list = []
    buf: list[str] = []

    def flush():
        if buf:
            parts.append("".join(buf))
            buf.clear()

    while i < len(s):
        c = s[i]
        if c == "{":
            if not nested and s.startswith("{{", i):
                buf.append("{")
                i += 2
                continue
            flush()
            inner, i = _parse(s, i + 1, nested=True)
            if not inner:
                raise PlaceholderError(f"empty placeholder '{{}}' in {s!r}")
            parts.append(Node(tuple(inner)))
            continue
        if c == "}":
            if nested:
                flush()
                return parts, i + 1
            if s.startswith("}}", i):
                buf.append("}")
                i += 2
                continue
            raise PlaceholderError(f"unmatched '}}' in {s!r} (write '}}}}' for a literal brace)")
        buf.append(c)
        i += 1
    if nested:
        raise PlaceholderError(f"unclosed '{{' in {s!r} (write '{{{{' for a literal brace)")
    flush()
    return parts, i


def names(text: str, dummy: str = "X") -> list[str]:
    """Every placeholder name in `text`, inner placeholders replaced by `dummy` (for static checks)."""
    out: list[str] = []

    def walk(parts) -> str:
        s = ""
        for p in parts:
            if isinstance(p, Node):
                name = walk(p.parts)
                out.append(name)
                s += dummy
            else:
                s += p
        return s

    walk(parse(text))
    return out


_ARITH = re.compile(r"^(?P<base>.+?)(?P<op>[+*-])(?P<n>\d+)$")


def resolve_text(text: str, lookup: Callable[[str], Any]) -> Any:
    """Fill every placeholder of `text` with lookup(name)."""
    parts = parse(text)

    def value(node: Node) -> Any:
        name = "".join(str(value(p)) if isinstance(p, Node) else p for p in node.parts)
        return _lookup_arith(name, lookup)

    if len(parts) == 1 and isinstance(parts[0], Node):
        return value(parts[0])
    out = []
    for p in parts:
        if isinstance(p, Node):
            v = value(p)
            if isinstance(v, (list, dict)):
                raise PlaceholderError(f"{{{_name(p)}}} is a list; it can only stand alone in a value, not inside {text!r}")
            out.append("" if v is None else str(v))
        else:
            out.append(p)
    return "".join(out)


def _name(node: Node) -> str:
    return "".join("{" + _name(p) + "}" if isinstance(p, Node) else p for p in node.parts)


def _lookup_arith(name: str, lookup: Callable[[str], Any]) -> Any:
    """`{burst+1}`: a small offset or factor on a numeric value (message sizes, delays)."""
    m = _ARITH.match(name)
    if m and not name.startswith("token"):
        try:
            base = lookup(m["base"])
        except PlaceholderError:
            base = None
        if isinstance(base, (int, float)) and not isinstance(base, bool):
            n = int(m["n"])
            return {"+": base + n, "-": base - n, "*": base * n}[m["op"]]
    return lookup(name)


def resolve(value: Any, lookup: Callable[[str], Any]) -> Any:
    """Resolve placeholders in every string of a YAML value (keys included)."""
    if isinstance(value, str):
        return resolve_text(value, lookup)
    if isinstance(value, list):
        return [resolve(v, lookup) for v in value]
    if isinstance(value, dict):
        return {(resolve_text(k, lookup) if isinstance(k, str) else k): resolve(v, lookup) for k, v in value.items()}
    return value


def strip_arith(name: str) -> str:
    m = _ARITH.match(name)
    return m["base"] if m and not name.startswith("token") else name
