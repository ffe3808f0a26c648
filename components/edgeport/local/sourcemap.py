"""Source map v3 lookups for `edgeport dev`'s error output: a position in a built bundle -> the TypeScript source
line it came from (tc39.es/ecma426: "mappings" is ;-separated lines of ,-separated segments of base64 VLQ fields
[generated column, source index, original line, original column, (name)], each relative to the previous one).

Written here rather than taken from a library: the lookup is 40 lines, and the maps are esbuild's own."""

from __future__ import annotations

import bisect
import json
import re
from pathlib import Path

_B64 = {c: i for i, c in enumerate("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")}


def _vlq(segment: str) -> list[int]:
    out, value, shift = [], 0, 0
    for ch in segment:
        digit = _B64[ch]
        value += (digit & 31) << shift
        if digit & 32:
            shift += 5
            continue
        out.append(-(value >> 1) if value & 1 else value >> 1)
        value, shift = 0, 0
    return out


class SourceMap:
    def __init__(self, data: dict, base: Path | None = None):
        self.sources = [str((base / s).resolve()) if base else s for s in data.get("sources", [])]
        # per generated line: sorted [(generated column, source index, original line, original column)]
        self.lines: list[list[tuple[int, int, int, int]]] = []
        src = oline = ocol = 0
        for line in data.get("mappings", "").split(";"):
            gcol, segs = 0, []
            for seg in filter(None, line.split(",")):
                f = _vlq(seg)
                gcol += f[0]
                if len(f) >= 4:
                    src, oline, ocol = src + f[1], oline + f[2], ocol + f[3]
                    segs.append((gcol, src, oline, ocol))
            self.lines.append(segs)

    @classmethod
    def load(cls, path: Path) -> "SourceMap":
        return cls(json.loads(path.read_text()), path.parent)

    def original(self, line: int, column: int) -> tuple[str, int, int] | None:
        """(source, line, column), all 1-based, for a 1-based generated line and column; None if unmapped."""
        if not 1 <= line <= len(self.lines):
            return None
        segs = self.lines[line - 1]
        i = bisect.bisect_right([s[0] for s in segs], column - 1) - 1
        if i < 0:
            return None
        _, src, oline, ocol = segs[i]
        return self.sources[src], oline + 1, ocol + 1


_FRAME = re.compile(r"(?P<file>(?:file://)?[^\s():]+(?:\.[cm]?js|<anonymous>)):(?P<line>\d+):(?P<col>\d+)")


def map_text(text: str, maps: dict[str, SourceMap], relative_to: Path) -> str:
    """`text` with every `file:line:col` of a mapped bundle followed by its source position, e.g.
    `worker.mjs:1:9891` -> `worker.mjs:1:9891 [functions/src/patterns/geo.ts:29:30]`. `maps` is keyed by the
    frame's file as the runtime prints it (a path, or a name such as worker.mjs)."""

    def one(m: re.Match) -> str:
        f = m.group("file").removeprefix("file://")
        sm = maps.get(f) or maps.get(Path(f).name)
        hit = sm.original(int(m.group("line")), int(m.group("col"))) if sm else None
        if not hit:
            return m.group(0)
        src, line, col = hit
        try:
            shown = str(Path(src).relative_to(relative_to))
        except ValueError:
            shown = src
        return f"{m.group(0)} [{shown}:{line}:{col}]"

    return _FRAME.sub(one, text)


class Chained:
    """A map from what a host runs to the bundle, then the bundle's own map to the sources."""

    def __init__(self, first: SourceMap, second: SourceMap):
        self.first, self.second = first, second

    def original(self, line: int, column: int) -> tuple[str, int, int] | None:
        hit = self.first.original(line, column)
        return self.second.original(hit[1], hit[2]) if hit else None


class Shifted:
    """The bundle's map for a runtime that runs the bundle behind a prefix on its first line (a module wrapper)."""

    def __init__(self, inner: SourceMap, first_line_shift: int):
        self.inner, self.shift = inner, first_line_shift

    def original(self, line: int, column: int) -> tuple[str, int, int] | None:
        return self.inner.original(line, column - self.shift if line == 1 else column)


def bundle_maps(build, target: str) -> dict[str, SourceMap]:
    """The source maps of a target's bundles (written by the build beside its output directory), keyed by the
    bundle's path and, for runtimes that print only the file name, its name."""
    from ..build.bundler import map_dir

    out: dict[str, SourceMap] = {}
    for a in build.for_target(target):
        path = map_dir(build.out_dir) / f"{a.path.relative_to(build.out_dir)}.map"
        if path.exists():
            sm = SourceMap.load(path)
            out[str(a.path)] = sm
            out.setdefault(a.path.name, sm)
    return out
