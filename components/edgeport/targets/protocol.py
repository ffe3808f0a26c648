"""What a target package provides, as typed protocols: the registry (targets/__init__.py) hands these out, and
tests/test_layering.py checks every registered package against them. Split in three so that the pure facts never
drag in Pulumi: TargetFacts (the package's __init__), TargetPlanView (plan.py, pure) and TargetResources
(resources.py, Pulumi). docs/extending.md lists them for a new target."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Mapping, Protocol, runtime_checkable

if TYPE_CHECKING:
    from pydantic import BaseModel

    from ..errors import SpecIssue
    from ..spec.models import App
    from ..spec.validate import Problems
    from .base import BundleUnit


@runtime_checkable
class TargetFacts(Protocol):
    """The pure facts of a platform (no Pulumi import)."""

    NAME: str  # the registry name (also the TypeScript platform folder's name)
    LABEL: str  # what people call the product
    DEFAULT_PORT: int  # `edgeport dev`
    COMPONENT_TYPE: str  # the Pulumi component type its resources module makes
    OUTPUTS: Mapping[str, tuple[str, Any, str]]  # component attribute -> (stack output key, type, doc)
    LOCAL_RUNTIME: str  # what dev, conformance and the tests run its bundles in
    HINTS: Mapping[str, str]  # how to write a setting that failed its form, by camelCase key
    Settings: type["BaseModel"]  # its block under `targets:`

    def validate(self, app: "App", problems: "Problems") -> None: ...
    def bundles(self, app: "App", stack: str) -> list["BundleUnit"]: ...
    def check_limits(self, app: "App", stack: str, units: list["BundleUnit"]) -> list["SpecIssue"]: ...
    def secret_refs(self, app: "App", stack: str) -> dict[str, dict[str, Any]]: ...
    def live_key(self, app: "App", stack: str, pattern: Any) -> str: ...
    def live_keys(self, app: "App", stack: str) -> dict[str, str]: ...
    def local_settings(self, app: "App", stack: str) -> dict[str, Any]: ...


# Optional facts a package may add (looked up with getattr by their one user): LOCAL_ENV (environment of its local
# host), local_stores(runner) (stores the local host cannot hold itself), TRIGGERS (event order for listings),
# bundle_footer(unit) (text the build layer appends to the engine, e.g. Vercel's static config object),
# advisories(app) (SpecIssues for what deploys but costs more than expected: validate and plan show them as warnings).
OPTIONAL_FACTS = ("LOCAL_ENV", "local_stores", "TRIGGERS", "bundle_footer", "advisories")


@runtime_checkable
class TargetPlanView(Protocol):
    """How `edgeport plan` shows and mocks the platform's resources (pure)."""

    KEY_INPUTS: Mapping[str, Any]  # resource type -> the inputs worth showing (and how)
    FABRICATE: Mapping[str, Callable[[str, dict], dict]]  # resource type -> outputs a provider would compute
    INVOKES: Mapping[str, Callable[[dict], dict]]  # data source token -> its mocked answer


@runtime_checkable
class TargetResources(Protocol):
    """The Pulumi side: the component and its resources."""

    def materialize(self, name: str, app: "App", stack: str, artifacts: list[Any], secrets: Mapping[str, Any],
                    opts: Any) -> Mapping[str, Any]: ...


@runtime_checkable
class TargetOps(Protocol):
    """Day-2 operations on what a stack deployed (edgeport.ops; the package's `ops` module, pure Python, no Pulumi).
    Each function takes the environment to read credentials and API endpoints from, raises edgeport.ops.OpsError
    (MissingCredentials, ApiError) on failure and returns JSON-ready dicts."""

    # How long a written live value takes to reach every edge location, not counting the edge code's own cache
    # (the pattern's liveTtl): (seconds, source of the figure).
    LIVE_PROPAGATION: tuple[float, str]

    def live_get(self, app: "App", stack: str, pattern: Any, env: Mapping[str, str]) -> dict[str, Any]: ...
    def live_set(self, app: "App", stack: str, pattern: Any, value: Any, env: Mapping[str, str],
                 dry_run: bool = False) -> dict[str, Any]: ...
    def status(self, app: "App", stack: str, env: Mapping[str, str]) -> dict[str, Any]: ...
    def logs(self, app: "App", stack: str, env: Mapping[str, str], since_ms: int, until_ms: int | None,
             text: str | None) -> dict[str, Any]: ...
