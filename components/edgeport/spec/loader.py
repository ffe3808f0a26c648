"""Load a stack's declaration from ``Pulumi.<stack>.yaml`` in the project's stackConfigDir (or a dict) into a
validated App."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

import yaml
from pydantic import ValidationError

from ..errors import EdgeportError, SpecError, SpecIssue
from .. import targets
from ..patterns import KINDS
from . import secret_refs as secret_names
from .models import App
from .pydantic_issues import Contract, issue_from_pydantic, yaml_type
from .validate import ROOT, validate_app
from .yaml_lines import LOADER, duplicate_keys, line_map, nearest_line, parse_yaml, path_str

if TYPE_CHECKING:
    from ..targets.base import BundleUnit

CONFIG_KEY = "edgeport:app"


@dataclass
class Stack:
    """A loaded stack: its name, file and validated declaration."""

    name: str
    app: App
    file: Path | None = None
    project_dir: Path = field(default_factory=Path.cwd)
    config: dict[str, Any] = field(default_factory=dict)  # the whole `config:` map of the stack file
    lines: dict[tuple, int] = field(default_factory=dict)  # key path under edgeport:app -> line in the file
    # Every target's bundle units (targets.bundles_and_limits), worked out once while loading checks the platform
    # limits; build_app takes them from here instead of working them out again. None: not worked out.
    units: list[BundleUnit] | None = None

    def locate(self, issue: SpecIssue) -> SpecIssue:
        """The issue with this stack file's name and the line of its key path (for checks run after loading)."""
        if self.file is None:
            return issue
        rel = self.file.relative_to(self.project_dir) if self.file.is_relative_to(self.project_dir) else self.file
        return locator(str(rel), self.lines)(issue)

    def secret_configured(self, name: str) -> bool:
        """Whether the stack file holds a value for the secret (normally `secure: ...`)."""
        return secret_names.config_key(name) in self.config

    def advisories(self) -> list[str]:
        """What deploys but costs more than expected, per target (targets.advisories), located in the stack file."""
        from .. import targets

        return [self.locate(i).format() for i in targets.advisories(self.app)]

    def secret_warnings(self) -> list[str]:
        """Secrets `pulumi up` cannot decrypt as they stand: not set, or a placeholder an example left behind
        (`secure: v1:REPLACE_WITH...` is no ciphertext). Warnings, not errors: the declaration is fine, and the
        fix is one `pulumi config set --secret` before the first deploy."""
        out = []
        for s in self.app.secret_names():
            fix = f"pulumi config set --secret {secret_names.config_key(s)} <value> -s {self.name}"
            value = self.config.get(secret_names.config_key(s))
            if value is None:
                where = self.file.relative_to(self.project_dir) if self.file and self.file.is_relative_to(self.project_dir) else self.file
                out.append(f"secret {s} has no value in {where or 'the stack file'}; "
                           f"`pulumi up` will stop until you run `{fix}`")
            elif _PLACEHOLDER.search(str(value.get("secure", "") if isinstance(value, dict) else value)):
                out.append(f"secret {s} holds a placeholder (an example's stand-in), not a Pulumi "
                           f"ciphertext: run `{fix}`")
        return out


# Words examples and templates put where a real value belongs.
_PLACEHOLDER = re.compile(r"REPLACE|CHANGE_?ME|TODO|FIXME|<[^>]+>|\bX{4,}\b", re.IGNORECASE)


# ---------------------------------------------------------------- YAML with line numbers


def _path_str(loc: tuple) -> str:
    return path_str(loc, ROOT)


def _parse_path(path: str) -> tuple:
    """'edgeport:app.patterns[0].routes' -> ('patterns', 0, 'routes')."""
    rest = path[len(ROOT):]
    out: list = []
    for chunk in rest.replace("[", ".[").split("."):
        if not chunk:
            continue
        out.append(int(chunk[1:-1]) if chunk.startswith("[") else chunk)
    return tuple(out)


# ---------------------------------------------------------------- pydantic errors -> issues


def _contract():
    return Contract(model=App, root=ROOT, tags={t: k.model for t, k in KINDS.items()}, tag_noun="pattern type",
                    pattern_hint=_pattern_hint)


def _issue_from_pydantic(err: dict) -> SpecIssue:
    issue = issue_from_pydantic(err, _contract())[1]
    if err["type"] == "union_tag_not_found":
        return replace(issue, message="pattern has no `type`")
    return issue


_yaml_type = yaml_type


def _pattern_hint(field: str) -> str | None:
    """How to write a setting that failed its pattern (regex): each target package's HINTS, by camelCase key."""
    for t in targets.NAMES:
        hint = getattr(targets.profile(t), "HINTS", {}).get(field)
        if hint:
            return hint
    return None


# ---------------------------------------------------------------- entry points


def locator(file: str | None, lines: dict[tuple, int] | None) -> Callable[[SpecIssue], SpecIssue]:
    """Sets an issue's file and the line of its key path (or of the nearest enclosing key that has one)."""
    lines = lines or {}

    def locate(issue: SpecIssue) -> SpecIssue:
        if not issue.path.startswith(ROOT):
            return issue  # not under edgeport:app (e.g. a secret's own config key): located where it was made
        return replace(issue, file=file, line=nearest_line(lines, _parse_path(issue.path)))

    return locate


def _rules_despite(raw: dict, errors: list) -> list[SpecIssue]:
    """The cross-field rules, run on what did parse, so one pass reports schema and semantic mistakes together:
    when every schema error is inside some patterns, the rules run on the app without them (their findings keep
    the patterns' original indexes). Errors elsewhere (origins, targets) leave nothing sound to check."""
    bad = {err["loc"][1] for err in errors if len(err["loc"]) > 1 and err["loc"][0] == "patterns"
           and isinstance(err["loc"][1], int)}
    if not bad or any(err["loc"][:1] != ("patterns",) or len(err["loc"]) < 2 for err in errors):
        return []
    pats = raw.get("patterns")
    kept = [i for i in range(len(pats)) if i not in bad] if isinstance(pats, list) else []
    if not kept:
        return []
    try:
        app = App.model_validate({**raw, "patterns": [pats[i] for i in kept]})
    except ValidationError:
        return []
    renumber = re.compile(r"\bpatterns\[(\d+)\]")

    def original(text: str) -> str:
        return renumber.sub(lambda m: f"patterns[{kept[int(m.group(1))]}]", text)

    return [replace(i, path=original(i.path), message=original(i.message)) for i in validate_app(app).items]


def parse_app(raw: Any, *, file: str | None = None, lines: dict[tuple, int] | None = None) -> App:
    """Validate a raw `edgeport:app` value. Raises SpecError listing every problem."""
    locate = locator(file, lines)

    if not isinstance(raw, dict):
        raise SpecError([locate(SpecIssue(ROOT, f"expected a mapping, got {_yaml_type(raw)}",
                                          "see docs/configuration.md for the shape of edgeport:app"))])
    try:
        app = App.model_validate(raw)
    except ValidationError as e:
        errors = e.errors()
        issues = [_issue_from_pydantic(err) for err in errors] + _rules_despite(raw, errors)
        raise SpecError([locate(i) for i in issues]) from None
    problems = validate_app(app)
    if problems.items:
        raise SpecError([locate(i) for i in problems.items])
    return app


def stack_dir(project_dir: Path) -> Path:
    """Where the project keeps its stack files: Pulumi.yaml's `stackConfigDir`, relative to Pulumi.yaml, or beside
    Pulumi.yaml when it has none (www.pulumi.com/docs/iac/concepts/projects/project-file/, "stackConfigDir");
    stacks/ in a directory without Pulumi.yaml."""
    try:
        doc = yaml.load((project_dir / "Pulumi.yaml").read_text(), Loader=LOADER)
    except FileNotFoundError:  # a bare directory of stacks (bench/, --project-dir): edgeport's own layout
        return project_dir / "stacks"
    except (OSError, yaml.YAMLError):
        doc = None
    sub = doc.get("stackConfigDir") if isinstance(doc, dict) else None
    return project_dir / sub if isinstance(sub, str) and sub else project_dir


def stack_file(project_dir: Path, stack: str) -> Path:
    return stack_dir(project_dir) / f"Pulumi.{stack}.yaml"


def find_project_dir(start: Path | None = None) -> Path:
    """The nearest directory upwards holding Pulumi.yaml."""
    here = (start or Path.cwd()).resolve()
    for d in (here, *here.parents):
        if (d / "Pulumi.yaml").exists():
            return d
    raise EdgeportError(f"no Pulumi.yaml found in {here} or its parents; run edgeport from your project directory")


def stack_file_secret_issues(path: Path, stack: str, file: str | None = None) -> list[SpecIssue]:
    """plaintext_secret_issues for a stack file on disk (none if it does not parse: load_stack reports that)."""
    return read_stack_file(path, stack, file)[1]


def read_stack_file(path: Path, stack: str, file: str | None = None) -> tuple[dict[tuple, int], list[SpecIssue]]:
    """What `pulumi up` needs from the stack file besides the Pulumi config, from one parse: the line numbers of the
    keys under config -> edgeport:app, and its plain-text secrets (stack_file_secret_issues). Nothing if it does
    not parse (load_stack reports that)."""
    try:
        node, doc = parse_yaml(path.read_text())
    except (OSError, yaml.YAMLError):
        return {}, []
    all_lines = line_map(node)
    prefix = ("config", CONFIG_KEY)
    lines = {k[2:]: v for k, v in all_lines.items() if k[:2] == prefix}
    config = doc.get("config") if isinstance(doc, dict) else None
    if not isinstance(config, dict):
        return lines, []
    return lines, plaintext_secret_issues(config, stack, file, all_lines)


# ---------------------------------------------------------------- secret values in the stack file


def _referenced_secrets(raw_app: Any) -> list[str]:
    """Secret names the patterns reference, read from the raw declaration so that this check runs (and its
    issues are listed) even when the declaration has other problems."""
    patterns = raw_app.get("patterns") if isinstance(raw_app, dict) else None
    names: list[str] = []
    for p in patterns if isinstance(patterns, list) else []:
        if not isinstance(p, dict):
            continue
        kind = KINDS.get(p["type"]) if isinstance(p.get("type"), str) else None
        # An unknown or missing type still gets the check: every field any kind names a secret with.
        for key in kind.secret_fields if kind else dict.fromkeys(f for k in KINDS.values() for f in k.secret_fields):
            name = p.get(key)
            if isinstance(name, str) and name not in names:
                names.append(name)
    return names


def _is_pulumi_secret(value: Any) -> bool:
    """`pulumi config set --secret` writes `{secure: <ciphertext>}`; anything else is readable by whoever reads the file."""
    return isinstance(value, dict) and set(value) == {"secure"} and isinstance(value["secure"], str)


def _looks_like(key: str, names: list[str]) -> str | None:
    """The referenced secret a config key seems meant for (case, '-' for '_', an EDGEPORT_SECRET_ prefix, a typo)."""
    norm = key.lower().replace("-", "_").removeprefix(secret_names.ENV_PREFIX.lower())
    if norm in names:
        return norm
    close = difflib.get_close_matches(norm, names, n=1, cutoff=0.8)
    return close[0] if close else None


def plaintext_secret_issues(config: dict, stack: str, file: str | None = None,
                            lines: dict[tuple, int] | None = None) -> list[SpecIssue]:
    """A secret value written into the stack file in plain text (`edgeport:jwt_hmac: abc...` instead of the
    `secure: v1:...` that `pulumi config set --secret` writes): for every secret a pattern references, and
    for any other plain-string `edgeport:*` key that looks like one of them. The value is never repeated."""
    lines = lines or {}
    names = _referenced_secrets(config.get(CONFIG_KEY))
    issues = []
    for key, value in config.items():
        if not isinstance(key, str) or not key.startswith("edgeport:") or key == CONFIG_KEY or _is_pulumi_secret(value):
            continue
        if value is None or value == "":
            continue  # holds nothing that could leak (`edgeport plan` warns that the secret is unset)
        bare = key.removeprefix("edgeport:")
        if bare in names:
            name, what = bare, f"the value of secret {bare} is written in plain text"
        elif isinstance(value, str) and (name := _looks_like(bare, names)):
            what = (f"holds plain text and looks like secret {name}, which a pattern references "
                    f"(its value belongs under {secret_names.config_key(name)}, encrypted)")
        else:
            continue
        issues.append(SpecIssue(
            key, what,
            f"remove this key and run `pulumi config set --secret {name} <value> -s {stack}` (it stores `secure: v1:...`), "
            f"or for local runs only set {secret_names.env_name(name)} or put `{name}=...` in {secret_names.DEV_VARS}; "
            "if this file was ever committed or shared, use a new value",
            file, lines.get(("config", key))))
    return issues


def _duplicates(node, file: str) -> list[SpecIssue]:
    out = []
    for path, first, again in duplicate_keys(node):
        inside = path[2:] if path[:2] == ("config", CONFIG_KEY) else None
        where = path_str(inside, ROOT) if inside is not None else path_str(path)
        out.append(SpecIssue(where, f"{path[-1]!r} is written twice (first on line {first}); YAML keeps only the last",
                             "remove one of them, or merge the two", file, again))
    return out


def load_stack(stack: str, project_dir: Path | None = None) -> Stack:
    project_dir = project_dir or find_project_dir()
    path = stack_file(project_dir, stack)
    if not path.exists():
        known = sorted(p.name[len("Pulumi."):-len(".yaml")] for p in stack_dir(project_dir).glob("Pulumi.*.yaml"))
        raise EdgeportError(f"stack {stack!r}: {path} does not exist" + (f" (stacks here: {', '.join(known)})" if known else ""))
    rel = str(path.relative_to(project_dir)) if path.is_relative_to(project_dir) else str(path)
    text = path.read_text()
    try:
        node, doc = parse_yaml(text)
        doc = doc or {}
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        line = mark.line + 1 if mark else None
        raise SpecError([SpecIssue("(file)", f"not valid YAML: {getattr(e, 'problem', e)}", "fix the YAML syntax", rel, line)]) from None
    config = doc.get("config") if isinstance(doc, dict) else None
    if not isinstance(config, dict) or CONFIG_KEY not in config:
        raise SpecError([SpecIssue(ROOT, f"{rel} has no `config: {CONFIG_KEY}:` section",
                                   "declare your app under config -> edgeport:app (see docs/configuration.md)", rel, None)])
    all_lines = line_map(node)
    prefix = ("config", CONFIG_KEY)
    lines = {k[2:]: v for k, v in all_lines.items() if k[:2] == prefix}
    leaks = plaintext_secret_issues(config, stack, rel, all_lines) + _duplicates(node, rel)
    try:
        app = parse_app(config[CONFIG_KEY], file=rel, lines=lines)
    except SpecError as e:
        raise SpecError([*e.issues, *leaks]) from None
    # Platform quotas the declaration breaks (config sizes, behaviour counts, Edge Config size, trigger limits):
    # static, so every command that loads a stack reports them, not only the ones that build.
    units, limits = targets.bundles_and_limits(app, stack)
    problems = [*[locator(rel, lines)(i) for i in limits], *leaks]
    if problems:
        raise SpecError(problems)
    return Stack(name=stack, app=app, file=path, project_dir=project_dir, config=config, lines=lines, units=units)
