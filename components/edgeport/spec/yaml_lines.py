"""YAML with line numbers, shared by the stack loader and the conformance scenario files: one parse gives the node
tree (for lines) and the document; a key path maps to the line its key is written on."""

from __future__ import annotations

from typing import Any

import yaml

# libyaml's parser when PyYAML was built with it (the wheels are): the same nodes, marks and safe types, about six
# times faster than the pure-Python one on a 300-pattern stack file. Its syntax error messages are worded a little
# differently ("did not find expected ',' or '}'"); the line is the same.
LOADER: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def parse_yaml(text: str) -> tuple[Any, Any]:
    """The YAML node tree (for line numbers) and the document built from it, in one parse."""
    loader = LOADER(text)
    try:
        node = loader.get_single_node()
        return node, (loader.construct_document(node) if node is not None else None)
    finally:
        loader.dispose()


def line_map(node, path: tuple = (), out: dict | None = None) -> dict[tuple, int]:
    """Key path (keys and list indexes) -> 1-based line; a key's line is where the key is written."""
    out = {} if out is None else out
    if node is None:
        return out
    out[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            line_map(v, path + (k.value,), out)
            out[path + (k.value,)] = k.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for i, v in enumerate(node.value):
            line_map(v, path + (i,), out)
    return out


def duplicate_keys(node, path: tuple = ()) -> list[tuple[tuple, int, int]]:
    """Keys written twice in one mapping: (key path, first line, repeated line). YAML 1.2 requires keys to be
    unique (yaml.org/spec/1.2.2/#mapping), but PyYAML keeps the last one silently - a pasted block that repeats
    `routes:` would otherwise replace the first without a word."""
    out: list[tuple[tuple, int, int]] = []
    if isinstance(node, yaml.MappingNode):
        seen: dict[Any, int] = {}
        for k, v in node.value:
            key, line = k.value, k.start_mark.line + 1
            if key in seen:
                out.append((path + (key,), seen[key], line))
            else:
                seen[key] = line
            out += duplicate_keys(v, path + (key,))
    elif isinstance(node, yaml.SequenceNode):
        for i, v in enumerate(node.value):
            out += duplicate_keys(v, path + (i,))
    return out


def nearest_line(lines: dict[tuple, int], path: tuple) -> int | None:
    """The line of `path`, or of the nearest enclosing key that has one."""
    while path and path not in lines:
        path = path[:-1]
    return lines.get(path)


def path_str(path: tuple, root: str = "") -> str:
    """('patterns', 0, 'routes') -> 'patterns[0].routes' (after `root` when given: 'edgeport:app.patterns[0]...')."""
    s = root
    for part in path:
        s += f"[{part}]" if isinstance(part, int) else (f".{part}" if s else str(part))
    return s
