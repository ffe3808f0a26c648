"""What every pattern module provides: its declaration model (a PatternBase) and a PatternKind that tells the
rest of edgeport everything else about it - validation, the runtime config it emits, where it can run, its chain
order, what it reads and writes, and its conformance placeholders.

The loader, validation, runtime config, capability matrix, components and conformance iterate the registry
(``edgeport.patterns.KINDS``) and call these hooks; none of them names a pattern type. Pure Python: no Pulumi.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, ClassVar, Literal

from pydantic import Field

from .. import targets
from ..spec.types import Model, Route, Slug

if TYPE_CHECKING:
    from ..errors import Problems
    from ..spec.models import App

TargetName = Literal[targets.NAMES]  # type: ignore[valid-type]


class PatternBase(Model):
    """Fields every pattern declares."""

    name: Slug
    routes: list[Route] = Field(min_length=1, description="paths the pattern covers: exact paths, or prefixes "
                                "ending in '*'")
    exclude: list[Route] = Field(default_factory=list, description="paths inside `routes` this pattern leaves alone, "
                                 "matched in their exact spelling only (e.g. jwt-auth on /* with exclude: [/public/*])")
    targets: list[TargetName] | None = Field(default=None, description="default: every target the stack declares")
    previous_names: list[Slug] = Field(default_factory=list, description="earlier names, oldest first: a rename keeps "
                                       "cookies, store keys and Pulumi resources instead of replacing them")

    @property
    def stable_id(self) -> str:
        """The name physical identifiers (cookies, store keys) derive from: the first name the pattern had."""
        return self.previous_names[0] if self.previous_names else self.name


@dataclass(frozen=True)
class Capability:
    """Whether a target can host a pattern, how (or why not), and on Lambda@Edge which triggers it runs in."""

    supported: bool
    how: str
    events: tuple[str, ...] = ()


def yes(how: str, *events: str) -> Capability:
    return Capability(True, how, tuple(events))


def no(why: str) -> Capability:
    return Capability(False, why)


@dataclass(frozen=True)
class Reads:
    """What of a request a pattern's answer depends on. Targets that cache put it into the cache key."""

    headers: frozenset[str] = frozenset()
    cookies: frozenset[str] = frozenset()
    country: bool = False  # the viewer's country, as the platform resolves it


@dataclass(frozen=True)
class SecretValueProblem:
    """Why a secret's value cannot serve a pattern, and how many random bytes would."""

    pattern: str
    message: str  # e.g. "is 5 bytes; HS256 needs at least 32 random bytes (RFC 7518 §3.2)"
    need: int  # bytes of `secrets.token_urlsafe(need)` that fix it in either encoding


@dataclass(frozen=True)
class Requirement:
    """A scenario's `requires:` entry: whether one declared pattern has what the scenario needs."""

    holds: Callable[[Any], bool]
    otherwise: str  # completes "pattern <name> ..." when it does not hold


@dataclass(frozen=True)
class Placeholders:
    """The conformance placeholders of a pattern type: their names (regular expressions, arithmetic suffixes
    stripped), what `for_each` iterates over and what `requires` may ask for."""

    names: tuple[str, ...] = ()
    for_each: frozenset[str] = frozenset({"routes"})
    requires: dict[str, Requirement] = field(default_factory=dict)


class PatternKind:
    """A pattern type. Subclasses set the class attributes and override the hooks they need."""

    type: ClassVar[str]  # the `type:` of a declaration, e.g. "ab-test"
    model: ClassVar[type[PatternBase]]
    order: ClassVar[int]  # chain order when several patterns cover one request (lower runs first)
    component: ClassVar[str]  # the Pulumi component's class name (edgeport:index:<component>)
    summary: ClassVar[str]  # one line, the component's doc
    # Component argument -> (the declaration field naming a secret, its doc): a component takes the secret's value
    # (a Pulumi secret) where a stack file names a secret held in Pulumi config.
    component_secrets: ClassVar[dict[str, tuple[str, str]]] = {}
    hosts: ClassVar[dict[str, Capability]]  # target name -> capability; a target not listed cannot host it
    guard: ClassVar[bool] = False  # matches every spelling of its routes and must see every request of a target
    stateful: ClassVar[bool] = False  # holds data that replacing its resources loses (App.protects)
    needs: ClassVar[frozenset[str]] = frozenset()  # platform features: "durable-objects"
    answers_in: ClassVar[tuple[str, ...]] = ()  # Lambda@Edge triggers in which it may generate the whole answer
    live_tag: ClassVar[str] = ""  # short name in live-store keys, for kinds with live settings
    secret_fields: ClassVar[tuple[str, ...]] = ()  # fields naming a secret
    placeholders: ClassVar[Placeholders] = Placeholders()
    # Scenario-file keys that stand for origin scripts of this pattern (esi-compose: shell, fragments), each with
    # its shape: "script" (one origin script) or "scripts" (a mapping name -> script); conformance/model.py gives
    # the shapes their models. See sugar_scripts.
    scenario_sugar: ClassVar[dict[str, str]] = {}

    # ---------------------------------------------------------------- declaration
    def validate(self, p: Any, path: str, problems: "Problems", app: "App") -> None:
        """Rules across this pattern's fields and the app (origins it names ...), added to `problems`."""

    def secrets(self, p: Any) -> list[str]:
        return [v for f in self.secret_fields if (v := getattr(p, f, None))]

    def capability(self, target: str) -> Capability:
        return self.hosts.get(target) or no(f"{self.type} has no implementation for {target}")

    def events(self, p: Any, app: "App | None", target: str) -> tuple[str, ...]:
        """The triggers a declared pattern runs in on a target that splits a request into triggers."""
        return self.capability(target).events

    # ---------------------------------------------------------------- what the edge code gets
    def runtime(self, p: Any, app: "App", live_key: str | None) -> dict[str, Any]:
        """The pattern's own part of its runtime config (functions/src/patterns/<type>.ts reads it)."""
        return {}

    def bundle_config(self) -> dict[str, Any]:
        """Config a bundle carries once when it holds any pattern of this kind."""
        return {}

    def identity_headers(self, p: Any) -> set[str]:
        """Headers whose value at the origin must come from the edge alone (stripped from every request)."""
        return set()

    def origin_headers(self, p: Any) -> set[str]:
        """Request headers the pattern sets for the origin."""
        return set()

    def reads(self, p: Any) -> Reads:
        return Reads()

    def live_default(self, p: Any) -> dict[str, Any] | None:
        """The value the live store is seeded with, for a pattern whose settings can change without a deploy."""
        return None

    def local_signing_algs(self, p: Any) -> list[str]:
        """Asymmetric algorithms for which `edgeport dev` holds a local key pair the pattern trusts locally."""
        return []

    def trust_local_keys(self, p: Any, jwks: list[dict[str, Any]]) -> Any:
        """The pattern also trusting these local public keys (local runs only)."""
        return p

    def live_problem(self, p: Any, value: Any) -> str | None:
        """Why `value` (parsed JSON) would be ignored by the edge as this pattern's live setting; None if it is used."""
        return None

    # ---------------------------------------------------------------- checks against a target's limits and values
    def header_issues(self, p: Any, index: int, target: str, limit: Any) -> list:
        """Issues when what the pattern reads or forwards does not fit the platform's request-header limit."""
        return []

    def secret_problems(self, p: Any, name: str, value: str) -> list:
        """Problems with a secret's value for this pattern (SecretValueProblem), never repeating the value."""
        return []

    # ---------------------------------------------------------------- local runs and conformance
    def mints(self, p: Any) -> bool:
        """Whether development tokens for the pattern can be signed with its local secret (edgeport token)."""
        return False

    def dev_token(self, p: Any, secret: str, **claims: Any) -> str:
        """A development token for a pattern that mints(), signed with the secret's local value."""
        raise NotImplementedError(self.type)

    def demo_content(self, p: Any, app: "App", echoes: dict[str, Any]) -> None:
        """Script the local echo origins with what the pattern needs to show something (edgeport dev)."""

    def with_deadlines_at_least(self, p: Any, floor_ms: int) -> Any | None:
        """The pattern with every deadline below `floor_ms` raised to it, or None when none is below."""
        return None

    def items(self, ctx: Any, kind: str) -> list[tuple[str, dict[str, Any]]] | None:
        """(label, fields) per instance of a `for_each` scenario; None for a kind this type does not know."""
        return None

    def lookup(self, ctx: Any, name: str, scope: dict[str, Any]) -> Any:
        """The value of one of this type's placeholders for ctx.pattern (raises PlaceholderError if unknown)."""
        from ..errors import PlaceholderError

        raise PlaceholderError(f"unknown placeholder {{{name}}} for {self.type}")

    def overlap_conflict(self, a: Any, b: Any) -> str | None:
        """Why two patterns of this type cannot both run on one path (None: they compose, in declaration order)."""
        return None

    def sugar_scripts(self, p: Any, sugar: dict[str, Any], resolve: Any) -> list[tuple[dict[str, Any], dict[str, Any]]]:
        """The origin scripts the sugar stands for, as (extra placeholder scope, {origin: {path: script}}) pairs;
        resolve(value, scope) resolves a scenario value's placeholders with that extra scope."""
        return []
