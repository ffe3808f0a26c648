"""Where the local runtime hosts live (the Node side of `dev` and `conformance`), and how an installed edgeport gets
them.

In a checkout the hosts are functions/local/host.mjs and functions/platforms/*/host.mjs, and they resolve their
npm packages (miniflare/workerd, edge-runtime, esbuild, the AWS SDK for the Lambda@Edge bundles) from
functions/node_modules, installed by `make setup`: nothing here changes that.

An installed edgeport carries the same host files in edgeport/runtime/ together with a package.json and a
package-lock.json that hold only what the hosts load, at the exact versions of functions/package-lock.json (both
written by stage() when the package is built). On first use they are installed into a cache directory:

    ${XDG_CACHE_HOME:-~/.cache}/edgeport/runtime/<lockfile hash>-<os>-<arch>/     package.json, package-lock.json,
                                                                              node_modules/ (npm ci)
        hosts/<hash of the host files>/                                      local/, platforms/ (copied)

Node resolves a bare import by looking for node_modules in the importing file's directory and then in each parent
(nodejs.org/api/esm.html#resolution-algorithm, "PACKAGE_RESOLVE"), so the copied hosts find the packages installed
two levels up; a new edgeport whose hosts changed but whose lockfile did not reuses node_modules. `npm ci` installs
exactly what the lockfile says, fails when package.json and the lockfile disagree, and never writes either
(docs.npmjs.com/cli/v10/commands/npm-ci); --prefer-offline takes packages from npm's cache without revalidating
them (docs.npmjs.com/cli/v10/using-npm/config#prefer-offline), safe here because the lockfile pins every version and
its integrity hash. Each step installs into a temporary directory next to its destination and renames it into
place (rename(2) is atomic within a file system), under a lock file, so concurrent first uses install once and no
reader sees half an install. EDGEPORT_RUNTIME_DIR replaces the cache root; npm's own settings (registry, cache,
proxy) come from its usual npm_config_* variables and .npmrc files.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Callable

from ..build.bundler import functions_dir, node_binary
from ..errors import BuildError, LocalRunError

PACKAGED = Path(__file__).resolve().parents[1] / "runtime"  # edgeport/runtime/ of an installed package
CACHE_ENV = "EDGEPORT_RUNTIME_DIR"
HOST_ENTRY = "local/host.mjs"
# npm 7 is the first that reads lockfileVersion 3 (docs.npmjs.com/cli/v10/configuring-npm/package-lock-json).
MIN_NPM = (7, 0)
# Packages the hosts need that no host imports by name: the Lambda@Edge bundles keep the AWS SDK external (the
# nodejs runtime ships it; functions/platforms/lambda-edge/index.mjs) and the host's require() resolves it next to
# the hosts; workerd is the binary miniflare runs, pinned beside it as in functions/package.json.
NOT_IMPORTED = ("@aws-sdk/client-secrets-manager", "@aws-sdk/client-ssm", "workerd")
RUNTIME_VERSION = "0.0.0"  # constant: the lockfile's hash changes with its packages, not with edgeport's version

_lock = threading.Lock()
_ready: Path | None = None


# ---------------------------------------------------------------- which directory serves the hosts


def checkout_functions() -> Path | None:
    """functions/ of this checkout (or EDGEPORT_FUNCTIONS_DIR), when there is one."""
    env = os.environ.get("EDGEPORT_FUNCTIONS_DIR")
    d = Path(env) if env else Path(__file__).resolve().parents[3] / "functions"
    return d if env or (d / "build.mjs").exists() else None


def packaged() -> bool:
    return (PACKAGED / "package-lock.json").exists() and (PACKAGED / HOST_ENTRY).exists()


def runtime_dir(say: Callable[[str], None] | None = None) -> Path:
    """The directory holding local/host.mjs, with the runtime packages resolvable from it: a checkout's
    functions/, or the installed package's runtime, installed into the cache on first use."""
    global _ready
    if checkout_functions() is not None or not packaged():
        return functions_dir()  # a checkout: as before (its errors say to run `make setup`)
    if _ready is not None and (_ready / HOST_ENTRY).exists():
        return _ready
    with _lock:
        check_node()
        _ready = ensure_installed(say or _stderr)
    return _ready


def _stderr(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def cache_root() -> Path:
    env = os.environ.get(CACHE_ENV)
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "edgeport" / "runtime"


def _digest(paths: list[Path], base: Path) -> str:
    h = hashlib.sha256()
    for p in paths:
        h.update(str(p.relative_to(base)).encode() + b"\0" + p.read_bytes() + b"\0")
    return h.hexdigest()[:16]


def install_key(src: Path = PACKAGED) -> str:
    """The node_modules directory's name: the lockfile's and package.json's hash, and the platform (npm picks the
    native binaries of workerd and esbuild for the machine it runs on)."""
    os_name, arch = _npm_platform()
    return f"{_digest([src / 'package.json', src / 'package-lock.json'], src)}-{os_name}-{arch}"


def host_files(src: Path = PACKAGED) -> list[Path]:
    return sorted(p for p in src.rglob("*.mjs") if p.is_file())


# ---------------------------------------------------------------- installing


def _version(text: str) -> tuple[int, ...]:
    m = re.match(r"v?(\d+)\.(\d+)", text.strip())
    return (int(m[1]), int(m[2])) if m else (0, 0)


_WHY = ("the local runtimes of `edgeport dev` and `edgeport conformance` run in Node.js >= 20.3 and install with npm "
        "(validate, build, plan and deploys need no Node)")


def check_node() -> None:
    if not shutil.which("node"):
        raise LocalRunError(f"node is not on PATH: {_WHY}")
    try:
        node_binary()  # the version check
    except BuildError as e:
        raise LocalRunError(f"{e}: {_WHY}") from None


def npm_binary() -> str:
    check_node()
    npm = shutil.which("npm")
    if not npm:
        raise LocalRunError("npm is not on PATH: edgeport installs the local runtimes of `dev` and `conformance` with "
                            "`npm ci` on first use (npm comes with Node.js; or run `edgeport setup-runtimes` where it is)")
    out = subprocess.run([npm, "--version"], capture_output=True, text=True).stdout
    if _version(out) < MIN_NPM:
        raise LocalRunError(f"npm {out.strip() or '?'} is too old: the runtime lockfile needs npm >= {MIN_NPM[0]}")
    return npm


def _npm_platform() -> tuple[str, str]:
    arch = {"x86_64": "x64", "amd64": "x64", "aarch64": "arm64"}.get(platform.machine().lower(), platform.machine().lower())
    return sys.platform, arch


def _fits(allowed: list[str] | None, mine: str) -> bool:
    if not allowed:
        return True
    return mine in allowed or (all(a.startswith("!") for a in allowed) and f"!{mine}" not in allowed)


def _packages_in(lock: Path) -> int:
    """About how many packages npm installs here: those whose os and cpu fields fit this machine."""
    os_name, arch = _npm_platform()
    return sum(1 for k, m in json.loads(lock.read_text())["packages"].items()
               if k and _fits(m.get("os"), os_name) and _fits(m.get("cpu"), arch))


def _count_installed(nm: Path) -> int:
    if not nm.is_dir():
        return 0
    return sum(1 for _ in nm.glob("*/package.json")) + sum(1 for _ in nm.glob("@*/*/package.json"))


def _disk_size(d: Path) -> int:
    seen, total = set(), 0
    for f in d.rglob("*"):
        st = f.lstat()
        if f.is_symlink() or not f.is_file() or (st.st_dev, st.st_ino) in seen:
            continue
        seen.add((st.st_dev, st.st_ino))
        total += st.st_size
    return total


def _replace_dir(tmp: Path, dest: Path) -> None:
    """Move `tmp` to `dest` atomically; if another process got there first, keep theirs."""
    try:
        os.rename(tmp, dest)
    except OSError:
        if not dest.exists():
            raise
        shutil.rmtree(tmp, ignore_errors=True)


class _FileLock:
    def __init__(self, path: Path):
        self.path = path

    def __enter__(self):
        import fcntl

        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.f = open(self.path, "a")
        fcntl.flock(self.f, fcntl.LOCK_EX)
        return self

    def __exit__(self, *exc):
        import fcntl

        fcntl.flock(self.f, fcntl.LOCK_UN)
        self.f.close()


def ensure_installed(say: Callable[[str], None] = _stderr, src: Path = PACKAGED, root: Path | None = None) -> Path:
    """The hosts' directory in the cache, installing node_modules (`npm ci`) and copying the hosts when missing."""
    root = root or cache_root()
    base = root / install_key(src)
    hosts = base / "hosts" / _digest(host_files(src), src)
    if (hosts / HOST_ENTRY).exists() and (base / "node_modules").is_dir():
        return hosts
    with _FileLock(root / ".lock"):
        if not (base / "node_modules").is_dir():
            _npm_ci(src, base, say)
        if not (hosts / HOST_ENTRY).exists():
            hosts.parent.mkdir(parents=True, exist_ok=True)
            tmp = Path(tempfile.mkdtemp(prefix=".copy-", dir=hosts.parent))
            for f in host_files(src):
                (tmp / f.relative_to(src)).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(f, tmp / f.relative_to(src))
            shutil.copy2(src / "package.json", tmp / "package.json")
            _replace_dir(tmp, hosts)
    return hosts


def _npm_ci(src: Path, base: Path, say: Callable[[str], None]) -> None:
    npm = npm_binary()
    pkg = json.loads((src / "package.json").read_text())
    total = _packages_in(src / "package-lock.json")
    names = ", ".join(f"{n} {v}" for n, v in pkg["dependencies"].items() if not n.startswith("@aws-sdk/"))
    say(f"edgeport: installing the local runtimes for dev and conformance (first use of this lockfile; {names}; "
        f"{total} npm packages) into {base}")
    base.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".install-", dir=base.parent))
    t0 = time.monotonic()
    try:
        for name in ("package.json", "package-lock.json"):
            shutil.copy2(src / name, tmp / name)
        proc = subprocess.Popen([npm, "ci", "--prefer-offline", "--no-audit", "--no-fund", "--loglevel=error"],
                                cwd=tmp, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                env={**os.environ, "npm_config_update_notifier": "false"})
        output: list[str] = []
        reader = threading.Thread(target=lambda: output.extend(proc.stdout), daemon=True)
        reader.start()
        while proc.poll() is None:
            try:
                proc.wait(timeout=3)
            except subprocess.TimeoutExpired:
                done = min(_count_installed(tmp / "node_modules"), total)
                say(f"edgeport:   ... {done} of about {total} packages ({time.monotonic() - t0:.0f} s)")
        reader.join(5)
        if proc.returncode != 0:
            tail = "".join(output[-25:]).rstrip()
            raise LocalRunError(f"installing the local runtimes failed (`npm ci` in {tmp}, exit {proc.returncode}):\n"
                                f"{tail}\n(npm needs the npm registry, or its cache from an earlier install; its "
                                "settings come from npm_config_* variables and .npmrc)")
        _replace_dir(tmp, base)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    size = _disk_size(base / "node_modules")
    say(f"edgeport: local runtimes installed in {time.monotonic() - t0:.1f} s ({size / 1e6:.0f} MB)")


# ---------------------------------------------------------------- packaging (python -m edgeport.dist)

# Import statements start a line (`import ... from "x"`, `export ... from "x"`, `import "x"`); a dynamic import("x")
# may stand anywhere. Module text inside strings (the Worker modules handed to Miniflare) starts no line.
_IMPORT = re.compile(r"""^[ \t]*(?:import|export)\b[^'"`;]*?\bfrom\s*["']([^"']+)["']|^[ \t]*import\s*["']([^"']+)["']"""
                     r"""|\bimport\(\s*["']([^"']+)["']\s*\)""", re.M)


def host_closure(fdir: Path) -> tuple[list[Path], set[str]]:
    """The .mjs files local/host.mjs loads (following relative imports, static and dynamic), and the npm packages
    they import by name."""
    seen: list[Path] = []
    bare: set[str] = set()
    todo = [fdir / HOST_ENTRY]
    while todo:
        f = todo.pop().resolve()
        if f in seen:
            continue
        if not f.exists():
            raise BuildError(f"{f} is imported by a local host but does not exist")
        seen.append(f)
        for spec in (a or b or c for a, b, c in _IMPORT.findall(f.read_text())):
            if spec.startswith("."):
                todo.append(f.parent / spec)
            elif not spec.startswith("node:"):
                bare.add("/".join(spec.split("/")[:2]) if spec.startswith("@") else spec.split("/")[0])
    return sorted(seen), bare


def prune_lock(lock: dict, deps: dict[str, str]) -> dict:
    """functions/package-lock.json (lockfileVersion 3) cut down to what `deps` need: the root's dependencies
    replaced, every package no longer reachable (through dependencies, optionalDependencies and required peer
    dependencies, resolved as Node does: node_modules of the dependent, then of each parent) dropped, and the
    dev/optional flags recomputed for the smaller tree (npm skips optional packages of other platforms)."""
    if lock.get("lockfileVersion") != 3:
        raise BuildError("functions/package-lock.json: expected lockfileVersion 3 (npm >= 9)")
    pkgs = lock["packages"]

    def resolve(frm: str, name: str) -> str | None:
        at = frm
        while True:
            cand = f"{at}/node_modules/{name}" if at else f"node_modules/{name}"
            if cand in pkgs:
                return cand
            if not at:
                return None
            cut = at.rfind("/node_modules/")
            at = at[:cut] if cut >= 0 else ""

    required: set[str] = set()
    optional: set[str] = set()

    def visit(path: str, needed: bool, edges: dict[str, str], opt_edges: dict[str, str]) -> list[tuple[str, bool]]:
        out = []
        for name, is_opt in [*((n, False) for n in edges), *((n, True) for n in opt_edges)]:
            target = resolve(path, name)
            if target is None:
                if is_opt:
                    continue
                raise BuildError(f"functions/package-lock.json: {path or 'the root'} needs {name}, which it does not hold")
            out.append((target, needed and not is_opt))
        return out

    queue = visit("", True, deps, {})
    while queue:
        path, needed = queue.pop()
        if path in required or (not needed and path in optional):
            continue
        if needed:
            required.add(path)
            optional.discard(path)
        else:
            optional.add(path)
        meta = pkgs[path]
        peers = {n: v for n, v in meta.get("peerDependencies", {}).items()
                 if not meta.get("peerDependenciesMeta", {}).get(n, {}).get("optional")}
        queue += visit(path, needed, {**meta.get("dependencies", {}), **peers}, meta.get("optionalDependencies", {}))
    kept = required | optional
    out_pkgs: dict[str, dict] = {"": {"name": "edgeport-runtime", "version": RUNTIME_VERSION, "dependencies": deps,
                                      "engines": lock["packages"][""].get("engines", {})}}
    for path in sorted(kept):
        meta = {k: v for k, v in pkgs[path].items() if k not in ("dev", "optional", "devOptional")}
        if path in optional and path not in required:
            meta["optional"] = True
        out_pkgs[path] = meta
    return {"name": "edgeport-runtime", "version": RUNTIME_VERSION, "lockfileVersion": 3, "requires": True,
            "packages": out_pkgs}


def stage(fdir: Path, out: Path) -> dict:
    """Write the runtime an installed edgeport carries into `out` (edgeport/runtime/): the hosts local/host.mjs
    loads, and a package.json + package-lock.json holding only the packages they need, at functions/'s versions."""
    files, bare = host_closure(fdir)
    platforms = sorted(p.parent.name for p in (fdir / "platforms").glob("*/host.mjs"))
    missing = [p for p in platforms if (fdir / "platforms" / p / "host.mjs").resolve() not in files]
    if missing:
        raise BuildError(f"local/host.mjs does not reach the host of {', '.join(missing)}: it would be left out")
    fpkg = json.loads((fdir / "package.json").read_text())
    wanted = sorted(bare | set(NOT_IMPORTED))
    absent = [n for n in wanted if n not in fpkg.get("dependencies", {})]
    if absent:
        raise BuildError(f"the local hosts need {', '.join(absent)}: add them to functions/package.json's dependencies")
    deps = {n: fpkg["dependencies"][n] for n in wanted}
    lock = prune_lock(json.loads((fdir / "package-lock.json").read_text()), deps)
    if out.exists():
        shutil.rmtree(out)
    for f in files:
        dest = out / f.relative_to(fdir.resolve())
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(f, dest)
    pkg = {"name": "edgeport-runtime", "private": True, "version": RUNTIME_VERSION, "type": "module",
           "description": "The local runtime hosts of an installed edgeport (written by `python -m edgeport.dist`)",
           "engines": fpkg.get("engines", {}), "dependencies": deps}
    (out / "package.json").write_text(json.dumps(pkg, indent=2) + "\n")
    (out / "package-lock.json").write_text(json.dumps(lock, indent=2) + "\n")
    return {"hosts": [str(f.relative_to(fdir.resolve())) for f in files], "dependencies": deps,
            "packages": len(lock["packages"]) - 1}
