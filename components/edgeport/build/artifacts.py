"""Build outputs: one Artifact per bundle, and the manifest the local hosts read."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..targets.base import Budget

MANIFEST = "manifest.json"


@dataclass(frozen=True)
class Artifact:
    target: str
    event: str | None
    path: Path  # the bundle file
    sha256: str
    size: int
    gzip_size: int
    zip_size: int
    budget: Budget
    config: dict[str, Any]
    config_path: Path | None  # config shipped beside the bundle (Cloudflare)
    secret_names: list[str]
    extra_files: list[Path] = field(default_factory=list)

    @property
    def code(self) -> str:
        return self.path.read_text()

    @property
    def measured(self) -> int:
        return self.gzip_size if self.budget.measure == "gzip" else self.zip_size

    @property
    def over_budget(self) -> bool:
        return self.measured > self.budget.limit

    @property
    def label(self) -> str:
        return self.target + (f":{self.event}" if self.event else "")

    def to_json(self, base: Path) -> dict[str, Any]:
        rel = lambda p: str(p.relative_to(base))  # noqa: E731
        return {
            "target": self.target, "event": self.event, "file": rel(self.path), "sha256": self.sha256, "bytes": self.size,
            "gzipBytes": self.gzip_size, "zipBytes": self.zip_size,
            "budget": {"bytes": self.budget.limit, "measure": self.budget.measure, "label": self.budget.label},
            "overBudget": self.over_budget, "configFile": rel(self.config_path) if self.config_path else None,
            "secrets": self.secret_names, "extraFiles": [rel(p) for p in self.extra_files],
        }


def measure(path: Path, entry_name: str) -> tuple[str, int, int, int]:
    data = path.read_bytes()
    gz = len(gzip.compress(data, compresslevel=9, mtime=0))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        info = zipfile.ZipInfo(entry_name, date_time=(1980, 1, 1, 0, 0, 0))
        info.compress_type = zipfile.ZIP_DEFLATED
        z.writestr(info, data)
    return hashlib.sha256(data).hexdigest(), len(data), gz, len(buf.getvalue())


@dataclass
class BuildResult:
    app: str
    stack: str
    out_dir: Path
    artifacts: list[Artifact]
    origins: dict[str, str]  # declared origins (name -> URL)
    local: dict[str, dict[str, Any]]  # per target: what a local host needs besides the bundle

    @property
    def manifest_path(self) -> Path:
        return self.out_dir / MANIFEST

    def for_target(self, target: str) -> list[Artifact]:
        return [a for a in self.artifacts if a.target == target]

    def to_json(self) -> dict[str, Any]:
        return {"app": self.app, "stack": self.stack, "outDir": str(self.out_dir), "origins": self.origins,
                "targets": self.local, "artifacts": [a.to_json(self.out_dir) for a in self.artifacts]}

    def write_manifest(self) -> None:
        # Atomic, like the bundles (bundler.build_app): concurrent builds of one stack never show a torn manifest.
        tmp = self.manifest_path.with_name(f".{MANIFEST}.{os.getpid()}")
        tmp.write_text(json.dumps(self.to_json(), indent=2) + "\n")
        os.replace(tmp, self.manifest_path)
