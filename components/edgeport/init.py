"""`edgeport init DIR`: a project that works at once - Pulumi.yaml, a thin __main__.py, stacks/Pulumi.dev.yaml with
the chosen targets and one example of each chosen pattern, .gitignore, pinned requirements, the GitOps workflows
(.github/workflows/, docs/gitops.md) and a README with the next commands. It never overwrites a file: if any it
would write exists, it writes nothing and names them."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from . import __version__, targets
from .dist import DATA, deploy_pins
from .errors import EdgeportError
from .patterns import KINDS

TEMPLATES = Path(__file__).resolve().parent / "templates"
NAME = re.compile(r"^[a-z][a-z0-9-]{1,31}$")  # the app name rule (spec: 2-32 characters)


def _origins(patterns: list[dict]) -> dict[str, str]:
    names = {"default"}
    for p in patterns:
        names |= {r["origin"] for r in p.get("rules", [])} | {v["origin"] for v in p.get("variants", []) if v.get("origin")}
    return {n: "https://origin.example.com" if n == "default" else f"https://{n}.origin.example.com" for n in sorted(names)}


def requirements() -> str:
    """The edgeport version this project was made with and the exact versions of everything it installs, as
    edgeport's tests ran them (edgeport/data/requirements.txt, written when the package was built; a checkout
    reads its requirements.lock): a deploy installs what was tested."""
    shipped = DATA / "requirements.txt"
    pins = shipped.read_text().split() if shipped.exists() else deploy_pins()
    return ("# edgeport and the exact versions of what it installs, as edgeport's tests ran them. A deploy (`pulumi up`)\n"
            "# needs only these; `edgeport dev` and `edgeport conformance` also need Node.js >= 20.3 with npm.\n"
            f"edgeport[local]=={__version__}\n" + "".join(f"{p}\n" for p in pins))


def files(name: str, chosen_targets: list[str], chosen_patterns: list[str]) -> dict[str, str]:
    """Path -> content of everything init writes."""
    template = yaml.safe_load((TEMPLATES / "stack.yaml").read_text().replace("{name}", name))
    pats = [template["patterns"][t] for t in chosen_patterns]
    for p in pats:  # a pattern pinned to targets keeps only those chosen; none left: it runs on none, so drop it
        if "targets" in p:
            p["targets"] = [t for t in p["targets"] if t in chosen_targets]
    pats = [p for p in pats if p.get("targets", True) != []]
    app = {"name": name, "origins": _origins(pats), "targets": {t: template["targets"][t] for t in chosen_targets},
           "patterns": pats}
    stack = ("# The development stack: `edgeport dev --stack dev` serves it locally, `edgeport plan --stack dev` shows\n"
             "# what `pulumi up` would create. Replace the placeholder ids before deploying.\n"
             + yaml.safe_dump({"config": {"edgeport:app": app}}, sort_keys=False, width=120))
    out = {
        "Pulumi.yaml": yaml.safe_dump({"name": name, "runtime": {"name": "python", "options": {"toolchain": "pip", "virtualenv": ".venv"}},
                                       "description": "Edge patterns declared once with edgeport", "stackConfigDir": "stacks"},
                                      sort_keys=False),
        "__main__.py": '"""The Pulumi program: edgeport builds this stack\'s edge bundles and creates their resources."""\n\n'
                       "from edgeport.program import main\n\nmain()\n",
        "stacks/Pulumi.dev.yaml": stack,
        ".gitignore": ".venv/\n__pycache__/\n.edgeport/\n.dev.vars\n",
        "requirements.txt": requirements(),
        "README.md": (f"# {name}\n\nEdge patterns declared once with edgeport (`stacks/Pulumi.dev.yaml`).\n\n"
                      "```sh\npython -m venv .venv && .venv/bin/pip install -r requirements.txt && . .venv/bin/activate\n"
                      "edgeport validate --stack dev      # check the declaration\n"
                      "edgeport dev --stack dev           # serve it locally on every target's runtime\n"
                      "edgeport plan --stack dev          # what `pulumi up -s dev` would create, offline\n```\n\n"
                      "`dev` (and `conformance`) run the edge code in each platform's local runtime: they need Node.js >= 20.3\n"
                      "with npm, and install the runtimes once into ~/.cache/edgeport (`edgeport setup-runtimes` does it ahead).\n"
                      "Validating, planning and deploying need Python only.\n\n"
                      "Then deploy: `pulumi stack init dev`, set the secrets the stack names with `pulumi config set --secret`,\n"
                      "replace the placeholder ids in the stack file and run `pulumi up -s dev`.\n"
                      "Pull requests and deploys from CI: `.github/workflows/` (see edgeport's docs/gitops.md).\n"),
    }
    for wf in sorted((TEMPLATES / "github" / "workflows").glob("*.yml")):
        out[f".github/workflows/{wf.name}"] = wf.read_text()
    return out


def init(directory: Path, name: str | None, chosen_targets: list[str] | None, chosen_patterns: list[str] | None) -> list[Path]:
    name = name or re.sub(r"[^a-z0-9-]+", "-", directory.resolve().name.lower()).strip("-") or "edge"
    if not NAME.match(name):
        raise EdgeportError(f"--name {name!r}: use lower-case letters, digits and '-', starting with a letter, 2-32 characters")
    chosen_targets = list(chosen_targets or targets.NAMES)
    chosen_patterns = list(chosen_patterns or KINDS)
    bad = [t for t in chosen_targets if t not in targets.NAMES] + [p for p in chosen_patterns if p not in KINDS]
    if bad:
        raise EdgeportError(f"unknown: {', '.join(bad)} (targets: {', '.join(targets.NAMES)}; patterns: {', '.join(KINDS)})")
    content = files(name, chosen_targets, chosen_patterns)
    existing = [p for p in content if (directory / p).exists()]
    if existing:
        raise EdgeportError(f"{directory} already has {', '.join(existing)}: init writes nothing over existing files "
                            "(choose an empty directory)")
    written = []
    for rel, text in content.items():
        path = directory / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        written.append(path)
    return written
