"""Errors edgeport reports to people: each names where, what is wrong and how to fix it."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class SpecIssue:
    """One problem in a stack declaration."""

    path: str  # e.g. "edgeport:app.patterns[0].routes[1]"
    message: str  # what is wrong
    hint: str = ""  # how to fix it
    file: str | None = None
    line: int | None = None

    def format(self) -> str:
        where = self.file or "<config>"
        if self.line is not None:
            where = f"{where}:{self.line}"
        text = f"{where}: {self.path}: {self.message}" if self.path else f"{where}: {self.message}"
        if self.hint:
            text += f"\n    fix: {self.hint}"
        return text

    def to_json(self) -> dict:
        return {"file": self.file, "line": self.line, "path": self.path, "message": self.message, "hint": self.hint}


class EdgeportError(Exception):
    """An error with a message fit for a terminal; the CLI prints it without a traceback."""

    exit_code = 1


class SpecError(EdgeportError):
    """The stack declaration is invalid; carries every issue found, not just the first."""

    exit_code = 2

    def __init__(self, issues: list[SpecIssue]):
        self.issues = list(issues)
        super().__init__(self.format())

    def format(self) -> str:
        n = len(self.issues)
        head = f"{n} problem{'s' if n != 1 else ''} in the stack declaration:"
        return "\n".join([head, *(i.format() for i in self.issues)])


class LocalSecretError(EdgeportError):
    """A local secret value (environment or .dev.vars) cannot be used: too short, undecodable. Exit 1 like a
    missing one - the declaration is fine, the fix is in the environment or .dev.vars. One issue per value."""

    def __init__(self, issues: list[SpecIssue]):
        self.issues = list(issues)
        n = len(self.issues)
        head = f"{n} local secret value{'s' if n != 1 else ''} cannot be used:"
        super().__init__("\n".join([head, *(i.format() for i in self.issues)]))


class BuildError(EdgeportError):
    """Bundling failed or a bundle is over its budget."""


class PlaceholderError(EdgeportError):
    """A conformance placeholder that cannot be parsed or resolved."""


class LocalRunError(EdgeportError):
    """A local runtime could not be started or served."""


@dataclass
class Problems:
    """Collects issues while validating, so users see all of them at once."""

    items: list[SpecIssue] = field(default_factory=list)

    def add(self, path: str, message: str, hint: str = "") -> None:
        self.items.append(SpecIssue(path=path, message=message, hint=hint))

    def raise_if_any(self) -> None:
        if self.items:
            raise SpecError(self.items)
