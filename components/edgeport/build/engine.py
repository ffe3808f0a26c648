"""The engine: one config-free bundle per target, compiled once from functions/ by esbuild; a stack's bundle is the
engine with the stack's config put in front of it by Python (inject()). So a deploy needs no Node: an installed
edgeport carries the engines prebuilt (edgeport/engine/, written by `python -m edgeport.build.engine DIR` when the
package is built), and a checkout compiles them from functions/ on first use, cached by a hash of the sources.

Injection. The adapters read a free identifier `__EDGEPORT_CONFIG__` (functions/platforms/<t>/adapter.ts); the
engine leaves it unresolved and inject() declares it on a first line of its own:

    "use strict";const __EDGEPORT_CONFIG__=(<config JSON>);     <- added (the directive only for a CommonJS engine
    <the engine, unchanged>                                         that starts with one, so the module stays strict)

JSON is a JavaScript expression (ES2019 made U+2028/U+2029 legal in string literals). The engine's bytes follow
unchanged, so its source map only moves down one line: ";" before its mappings (a ";" is one generated line in the
Source Map v3 "mappings" field, tc39.es/ecma426/). Vercel's static `export const config = {matcher}` goes after the
engine (vercel.com/docs/routing-middleware/api#config-object: the matcher must be a constant the build can read).
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any, Iterable

from ..errors import BuildError

PLACEHOLDER = "__EDGEPORT_CONFIG__"
PACKAGED = Path(__file__).resolve().parents[1] / "engine"  # edgeport/engine/ in an installed package
ENGINE_ENV = "EDGEPORT_ENGINE_DIR"  # a directory of prebuilt engines to use instead
# What the engines are compiled from (relative to functions/): a change to any of them makes new engines.
SOURCES = ("src", "platforms", "build.mjs", "package-lock.json", "tsconfig.json")
MANIFEST = "engine.json"


def engine_file(target: str, types: Iterable[str] | None = None) -> str:
    """The engine of `target` carrying the pattern steps `types` (None: every pattern)."""
    return f"{target}.{'+'.join(sorted(types)) or 'none'}.js" if types is not None else f"{target}.js"


def source_hash(fdir: Path) -> str:
    h = hashlib.sha256()
    for part in SOURCES:
        p = fdir / part
        files = sorted(x for x in p.rglob("*") if x.is_file() and not x.name.endswith(".test.mjs")) if p.is_dir() else [p]
        for f in files:
            if f.exists():
                h.update(str(f.relative_to(fdir)).encode() + b"\0" + f.read_bytes() + b"\0")
    return h.hexdigest()[:20]


Want = tuple[str, "frozenset[str] | None"]  # (target, pattern types; None: every pattern)


def engines(wanted: list[Want]) -> Path:
    """A directory holding each wanted engine (engine_file(target, types), + `.map`): prebuilt
    (EDGEPORT_ENGINE_DIR or the installed package's), or compiled from this checkout's functions/ (cached under
    functions/.engine/<hash of the sources>)."""
    env = os.environ.get(ENGINE_ENV)
    if env:
        return _checked(Path(env), wanted)
    from .bundler import functions_dir

    try:
        fdir = functions_dir()
    except BuildError:
        if (PACKAGED / MANIFEST).exists():
            return _checked(PACKAGED, wanted)
        raise
    return compile_engines(fdir, wanted)


def _checked(d: Path, wanted: list[Want]) -> Path:
    missing = [engine_file(t, k) for t, k in wanted if not (d / engine_file(t, k)).exists()]
    if missing:
        raise BuildError(f"no prebuilt engine {', '.join(missing)} in {d} (reinstall edgeport, or set {ENGINE_ENV})")
    return d


def every_engine() -> list[Want]:
    """What an installed package ships: for each target, an engine per set of the patterns it can host."""
    from .. import targets
    from ..patterns import KINDS

    out: list[Want] = []
    for t in targets.NAMES:
        hosted = [k for k, kind in KINDS.items() if kind.capability(t).supported]
        out += [(t, frozenset(c)) for n in range(len(hosted) + 1) for c in itertools.combinations(hosted, n)]
    return out


def compile_engines(fdir: Path, wanted: list[Want], out: Path | None = None) -> Path:
    """Compile the wanted engines from functions/ (esbuild through build.mjs) into `out`, or into the cache."""
    from ..patterns import KINDS
    from .bundler import node_binary

    if out is None:
        out = fdir / ".engine" / source_hash(fdir)
    todo = sorted({(t, k) for t, k in wanted if not (out / engine_file(t, k)).exists()},
                  key=lambda w: engine_file(*w))
    if not todo:
        return out
    out.parent.mkdir(parents=True, exist_ok=True)
    # Written into a staging directory and moved into place file by file (os.replace is atomic): builds running at
    # once (a plan per pull-request check, `dev` beside `plan`) never read half an engine.
    stage = Path(tempfile.mkdtemp(prefix=".stage-", dir=out.parent))
    try:
        known = list(KINDS)
        job = {"outDir": str(stage), "mapDir": str(stage), "bundles": [
            {"target": t, "event": None, "outfile": engine_file(t, k), "known": known,
             "patterns": sorted(k) if k is not None else None} for t, k in todo]}
        job_path = stage / "job.json"
        job_path.write_text(json.dumps(job))
        proc = subprocess.run([node_binary(), str(fdir / "build.mjs"), "--job", str(job_path)], capture_output=True,
                              text=True, cwd=fdir, env={**os.environ, "EDGEPORT_REPORT_DIR": os.getcwd()})
        if proc.returncode != 0:
            raise BuildError(f"bundling failed:\n{proc.stderr.strip()}")
        job_path.unlink()
        out.mkdir(parents=True, exist_ok=True)
        for t, k in todo:
            for name in (engine_file(t, k), f"{engine_file(t, k)}.map"):
                os.replace(stage / name, out / name)
        (out / MANIFEST).write_text(json.dumps({"sources": source_hash(fdir),
                                                "engines": sorted(p.name for p in out.glob("*.js"))}) + "\n")
    finally:
        shutil.rmtree(stage, ignore_errors=True)
    return out


def inject(engine: bytes, config: dict[str, Any] | None, footer: str | None = None) -> tuple[bytes, int]:
    """The stack's bundle: the engine with `config` declared in front (and `footer` after); also the number of
    lines added in front, for the source map."""
    if config is None:
        head = b""
    else:
        if engine.count(PLACEHOLDER.encode()) < 1:
            raise BuildError(f"the engine does not read {PLACEHOLDER}: it was built with its config inlined")
        text = js_literal(config)
        directive = b'"use strict";' if engine.startswith(b'"use strict";') else b""
        head = directive + f"const {PLACEHOLDER}=({text});\n".encode()
    body = engine if engine.endswith(b"\n") or not footer else engine + b"\n"
    tail = f"{footer}\n".encode() if footer else b""
    return head + body + tail, head.count(b"\n")


_IDENT = re.compile(r"^[A-Za-z_$][A-Za-z0-9_$]*$")


def js_literal(value: Any) -> str:
    """`value` as a compact JavaScript expression: JSON, with the quotes of object keys that are identifiers left
    out (as esbuild prints an object literal), a few hundred bytes less on a typical config."""
    if isinstance(value, dict):
        return "{" + ",".join(f"{_key(k)}:{js_literal(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ",".join(js_literal(v) for v in value) + "]"
    return json.dumps(value, ensure_ascii=False)


def _key(k: str) -> str:
    # A literal key "__proto__" (quoted or not) sets the object's prototype instead of a property (ECMA-262,
    # __proto__ Property Names in Object Initializers); a computed key is an ordinary property, as in JSON.parse.
    if k == "__proto__":
        return '["__proto__"]'
    return k if _IDENT.match(k) else json.dumps(k, ensure_ascii=False)


def shift_map(source_map: bytes, lines: int, base: Path) -> bytes:
    """The engine's source map (read from directory `base`) for the bundle with `lines` lines put in front; its
    sources made absolute, since the bundle's map is written elsewhere."""
    m = json.loads(source_map)
    m["sources"] = [str((base / s).resolve()) for s in m.get("sources", [])]
    m["mappings"] = ";" * lines + m["mappings"]
    return json.dumps(m, separators=(",", ":")).encode()


def main(argv: list[str]) -> int:
    """`python -m edgeport.build.engine DIR`: write every target's prebuilt engine into DIR (package builds)."""
    from .. import targets
    from .bundler import functions_dir

    if len(argv) != 1:
        print("usage: python -m edgeport.build.engine OUT_DIR", file=sys.stderr)
        return 2
    out = Path(argv[0]).resolve()
    wanted = every_engine()
    compile_engines(functions_dir(), wanted, out)
    print(f"wrote {len(wanted)} engines of {', '.join(targets.NAMES)} to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
