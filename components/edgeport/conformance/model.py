"""The scenario file format as pydantic models: the one description of `conformance/scenarios/*.yaml`.

Shapes, types and per-value rules (placeholders known to the pattern type, regular expressions that compile,
close codes in range, known targets) are checked here; the rules that relate several keys (a client connected
before it is used, scenario names unique, a pattern type's own scenario keys) are in scenarios.py. Errors
become issues through the same converter as stack declarations (spec/pydantic_issues.py), so both read alike.
`make schema` writes the JSON Schema of ScenarioFileModel to conformance/scenario.schema.json for editors.

Validation context (model_validate(..., context=...)): `ptype`, the file's pattern type when it is a known one;
`for_each`, set per scenario while it validates (a `{each}` placeholder needs it).
"""

from __future__ import annotations

import difflib
import re
from typing import Annotated, Any, Literal, Union

from pydantic import (AfterValidator, BaseModel, BeforeValidator, ConfigDict, Discriminator, Field, Tag,
                      ValidationInfo, WithJsonSchema, model_validator)
from pydantic_core import PydanticCustomError

from .. import targets
from ..patterns import KINDS
from .context import FOR_EACH, REQUIRES, check_known
from .placeholders import PlaceholderError, names

HTTP_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
WS_ACTIONS = ("connect", "send", "receive", "silent", "closed", "disconnect")
STEP_ACTIONS = ("request", "origins") + WS_ACTIONS
CLIENT_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,31}$")
PLACEHOLDER_HINT = "see docs/conformance.md for the placeholders each pattern type offers; write '{{' for a literal brace"


def _err(message: str, hint: str = "", at: tuple = ()) -> PydanticCustomError:
    ctx: dict[str, Any] = {"hint": hint} if hint else {}
    if at:
        ctx["at"] = at
    # pydantic fills {name} from ctx only for the ctx keys (hint, at): a placeholder in the message stays as written.
    return PydanticCustomError("scenario", message, ctx)


# ---------------------------------------------------------------- values


def _placeholders(v: str, info: ValidationInfo) -> str:
    ctx = info.context or {}
    try:
        found = names(v)
    except PlaceholderError as e:
        raise _err(str(e)) from None
    for n in found:
        ptype = ctx.get("ptype")
        if ptype and not check_known(ptype, n) and n != "slot":
            raise _err(f"unknown placeholder {{{n}}} for {ptype} scenarios", PLACEHOLDER_HINT)
        if (n == "each" or n.startswith("each.")) and not ctx.get("for_each"):
            raise _err(f"{{{n}}} needs for_each on the scenario")
    return v


def _non_empty(v: str) -> str:
    if not v.strip():
        raise _err("expected a non-empty string, got an empty one")
    return v


def _regex(v: str) -> str:
    if "{" not in v.replace("{{", "").replace("}}", ""):
        try:
            re.compile(v)
        except re.error as e:
            raise _err(f"invalid regular expression {v!r}: {e}") from None
    return v


def _int_or_placeholder(lo: int, hi: int):
    def check(v: Any) -> Any:
        if isinstance(v, str) and v.startswith("{"):
            return v
        if not isinstance(v, int) or isinstance(v, bool) or not lo <= v <= hi:
            raise _err(f"expected an integer from {lo} to {hi} or a placeholder, got {v!r}")
        return v

    return Annotated[Any, BeforeValidator(check), AfterValidator(lambda v, info: _placeholders(v, info) if isinstance(v, str) else v),
                     WithJsonSchema({"anyOf": [{"type": "integer", "minimum": lo, "maximum": hi},
                                               {"type": "string", "pattern": "^\\{"}]})]


def _client(v: str) -> str:
    if not CLIENT_RE.match(v):
        raise _err(f"expected a WebSocket client name (e.g. 'alice'), got {v!r}")
    return v


def one_or_many(t: Any) -> Any:
    """A value or a non-empty list of them; errors come from the branch the input's shape picks (not both)."""
    return Annotated[Union[Annotated[t, Tag("<one>")], Annotated[Annotated[list[t], Field(min_length=1)], Tag("<many>")]],
                     Discriminator(lambda v: "<many>" if isinstance(v, list) else "<one>")]


Text = Annotated[str, AfterValidator(_placeholders)]
NonEmpty = Annotated[str, AfterValidator(_non_empty), AfterValidator(_placeholders)]
Regex = Annotated[str, AfterValidator(_non_empty), AfterValidator(_regex), AfterValidator(_placeholders)]
Texts = one_or_many(Text)
Status = Annotated[int, Field(ge=100, le=599)]
CloseCode = Annotated[int, Field(ge=1000, le=4999)]
WithinMs = Annotated[int, Field(ge=1, le=60000)]
Client = Annotated[str, AfterValidator(_client)]
TextMap = dict[Annotated[str, Field(min_length=1), AfterValidator(_placeholders)], Text]


def _path(v: str) -> str:
    if not (v.startswith("/") or v.startswith("{") or re.match(r"^[a-z]+://", v)):
        raise _err(f"request path {v!r} must start with '/', a placeholder such as '{{route}}', "
                   "or be an absolute URL (absolute-form request line)")
    return v


def _origin_path(v: str) -> str:
    if not (v.startswith("/") or v.startswith("{")):
        raise _err(f"origin path {v!r} must start with '/' (or be a placeholder)")
    return v


def _method(v: str) -> str:
    if v.upper() not in HTTP_METHODS:
        raise _err(f"unknown method {v!r}", f"one of {', '.join(sorted(HTTP_METHODS))}")
    return v


def _target(v: str) -> str:
    if v not in targets.NAMES:
        raise _err(f"unknown target {v!r}", f"one of {', '.join(targets.NAMES)}")
    return v


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


# ---------------------------------------------------------------- what origins do


class Script(_Model):
    """What a stand-in origin answers on one path."""

    status: Status | None = None
    body: Text | None = None
    headers: TextMap | None = None
    delay_ms: _int_or_placeholder(0, 60000) | None = None
    fail: bool | None = None


OriginScripts = Annotated[dict[NonEmpty, Annotated[dict[Annotated[str, AfterValidator(_origin_path),
                                                                        AfterValidator(_placeholders)], Script],
                                                       Field(min_length=1)]], Field(min_length=1)]

# The shapes a pattern type's own scenario keys may take (PatternKind.scenario_sugar names one per key).
SUGAR_SHAPES: dict[str, Any] = {
    "script": Script,
    "scripts": Annotated[dict[Annotated[str, AfterValidator(_placeholders)], Script], Field(min_length=1)],
}
SUGAR_KEYS = {k: v for kind in KINDS.values() for k, v in kind.scenario_sugar.items()}


# ---------------------------------------------------------------- requests and expectations


class Request(_Model):
    method: Annotated[str, AfterValidator(_method)] | None = None
    path: Annotated[str, AfterValidator(_non_empty), AfterValidator(_path), AfterValidator(_placeholders)]
    headers: TextMap | None = None
    cookies: TextMap | None = None
    country: Text | None = None
    body: Text | None = None


class HeaderSpec(_Model):
    present: Texts | None = None
    absent: Texts | None = None
    equal: dict[Annotated[str, AfterValidator(_placeholders)],
                Annotated[Union[Annotated[Text, Tag("<text>")], Annotated[int, Tag("<int>")]],
                          Discriminator(lambda v: "<int>" if isinstance(v, int) and not isinstance(v, bool) else "<text>")]] | None = None
    matches: dict[Annotated[str, AfterValidator(_placeholders)], Regex] | None = None
    base64url_json: dict[str, Any] | None = None


def _json_subset(v: Any, info: ValidationInfo) -> Any:
    if isinstance(v, str):
        _placeholders(v, info)
    elif isinstance(v, dict):
        for x in v.values():
            _json_subset(x, info)
    elif isinstance(v, list):
        for x in v:
            _json_subset(x, info)
    return v


class BodySpec(_Model):
    contains: Texts | None = None
    not_contains: Texts | None = None
    matches: Regex | None = None
    equals: Text | None = None
    json_: Annotated[Any, AfterValidator(_json_subset)] = Field(None, alias="json")


class Matcher(_Model):
    """A request an origin received."""

    name: NonEmpty | None = None
    path: NonEmpty | None = None
    query: Text | None = None
    method: NonEmpty | None = None
    headers: HeaderSpec | None = None
    body: BodySpec | None = None

    @model_validator(mode="after")
    def _something(self):
        if not self.model_fields_set:
            raise _err("an origin matcher needs at least one of name, path, query, method, headers, body")
        return self


def _variable(v: str) -> str:
    if not CLIENT_RE.match(v):
        raise _err(f"capture names a variable: letters, digits, '-', '_' (got {v!r})")
    return v


class CookieSpec(_Model):
    values: Texts | None = None
    attributes: Texts | None = None
    capture: Annotated[str, AfterValidator(_variable)] | None = None


def _tag_absent(v: Any) -> str:
    return "<absent>" if isinstance(v, str) else "<cookie>"


def _tag_none(v: Any) -> str:
    return "<none>" if isinstance(v, str) else "<matcher>"


CookieExpect = Annotated[Union[Annotated[Literal["absent"], Tag("<absent>")], Annotated[CookieSpec, Tag("<cookie>")]],
                         Discriminator(_tag_absent)]
OriginExpect = Annotated[Union[Annotated[Literal["none"], Tag("<none>")], Annotated[Matcher, Tag("<matcher>")]],
                         Discriminator(_tag_none)]


class FirstChunk(_Model):
    contains: Texts | None = None
    not_contains: Texts | None = None


class Expect(_Model):
    """What the client must get (and, through the stand-ins, what the origins must have received)."""

    status: one_or_many(Status) | None = None
    headers: HeaderSpec | None = None
    body: BodySpec | None = None
    cookies: Annotated[dict[Annotated[str, AfterValidator(_placeholders)], CookieExpect], Field(min_length=1)] | None = None
    first_chunk: FirstChunk | None = None
    origin: OriginExpect | None = None
    origin_requests: Annotated[list[Matcher], Field(min_length=1)] | None = None
    origin_not_requested: Annotated[list[Matcher], Field(min_length=1)] | None = None

    @model_validator(mode="after")
    def _checks_something(self):
        if not self.model_fields_set:
            raise _err("an empty expect checks nothing", "expect at least a status")
        return self


class PartialExpect(Expect):
    """A declared difference's expectations: they replace the common ones; null drops a common one."""

    @model_validator(mode="after")
    def _checks_something(self):
        return self


def _reason(v: str) -> str:
    if len(v.strip()) < 10:
        raise _err("a declared difference needs its reason (a sentence saying why the platform differs)")
    return v


class Difference(_Model):
    """An intended per-target difference: on `targets`, these expectations replace the common ones."""

    targets: Annotated[list[Annotated[str, AfterValidator(_target)]], Field(min_length=1)]
    reason: Annotated[str, AfterValidator(_reason)]
    expect: PartialExpect


Differences = Annotated[list[Difference], Field(min_length=1)]


# ---------------------------------------------------------------- steps


class RequestStep(_Model):
    request: Request
    expect: Expect
    differences: Differences | None = None


class OriginsStep(_Model):
    origins: OriginScripts


class ConnectExpect(_Model):
    status: Status | None = None
    body: BodySpec | None = None


class ConnectStep(_Model):
    connect: Client
    path: NonEmpty
    headers: TextMap | None = None
    expect: ConnectExpect | None = None
    differences: Differences | None = None


class SendStep(_Model):
    send: Client
    text: Text | None = None
    bytes_: _int_or_placeholder(0, 16 * 1024 * 1024) | None = Field(None, alias="bytes")
    repeat: _int_or_placeholder(1, 10000) | None = None

    @model_validator(mode="after")
    def _one_payload(self):
        if (self.text is None) == (self.bytes_ is None):
            raise _err("send needs exactly one of text (a message) or bytes (a message of that many bytes)")
        return self


Message = Annotated[dict[str, Any], AfterValidator(_json_subset)]
Clients = one_or_many(Client)


class ReceiveStep(_Model):
    receive: Clients
    message: Message
    within_ms: WithinMs | None = None


class SilentStep(_Model):
    silent: Clients
    message: Message
    within_ms: WithinMs


class ClosedStep(_Model):
    closed: Client
    code: one_or_many(CloseCode)
    within_ms: WithinMs | None = None


class DisconnectStep(_Model):
    disconnect: Client


STEP_MODELS: dict[str, type[_Model]] = {
    "request": RequestStep, "origins": OriginsStep, "connect": ConnectStep, "send": SendStep,
    "receive": ReceiveStep, "silent": SilentStep, "closed": ClosedStep, "disconnect": DisconnectStep,
}
# The tags the discriminated unions put into error locations (dropped from the paths people see).
TAGS: dict[str, Any] = {f"<{a}>": m for a, m in STEP_MODELS.items()} | {
    "<absent>": None, "<cookie>": None, "<none>": None, "<matcher>": None, "<one>": None, "<many>": None,
    "<text>": None, "<int>": None}


def step_action(v: Any) -> str | None:
    """The action of a step as written: the one key of STEP_ACTIONS it has."""
    if not isinstance(v, dict):
        return None
    found = [a for a in STEP_ACTIONS if a in v]
    return found[0] if len(found) == 1 else None


def _exactly_one_action(v: Any) -> Any:
    if not isinstance(v, dict):
        raise _err(f"a step is a mapping with one of {', '.join(STEP_ACTIONS)}, got {type(v).__name__}")
    found = [a for a in STEP_ACTIONS if a in v]
    if len(found) != 1:
        raise _err(f"a step has exactly one action ({', '.join(STEP_ACTIONS)}); found {', '.join(found) or 'none'}")
    return v


StepModel = Annotated[
    Union[tuple(Annotated[m, Tag(f"<{a}>")] for a, m in STEP_MODELS.items())],  # type: ignore[misc]
    Discriminator(lambda v: f"<{step_action(v)}>"),
    BeforeValidator(_exactly_one_action),
]


# ---------------------------------------------------------------- scenarios and files


def _sugar_fields() -> dict[str, Any]:
    return {key: (SUGAR_SHAPES[shape] | None, None) for key, shape in SUGAR_KEYS.items()}


class _ScenarioBase(_Model):
    name: NonEmpty
    description: str | None = None
    for_each: str | None = None
    applies_to: Literal["hosting", "non-hosting"] = "hosting"
    requires: one_or_many(str) | None = None
    fresh: bool = False
    pattern: NonEmpty | None = None
    origins: OriginScripts | None = None
    request: Request | None = None
    expect: Expect | None = None
    differences: Differences | None = None
    steps: Annotated[list[StepModel], Field(min_length=1)] | None = None

    @model_validator(mode="before")
    @classmethod
    def _scope(cls, v: Any, info: ValidationInfo) -> Any:
        """`{each}` is known only in a scenario that iterates; set the scope before the fields validate."""
        if info.context is not None:
            fe = v.get("for_each") if isinstance(v, dict) else None
            info.context["for_each"] = fe if fe in FOR_EACH.get(info.context.get("ptype") or "", ()) else None
        return v

    @model_validator(mode="after")
    def _shape(self, info: ValidationInfo):
        ptype = (info.context or {}).get("ptype") or ""
        if self.for_each is not None and self.for_each not in FOR_EACH.get(ptype, ()):
            raise _err(f"cannot iterate over {self.for_each!r} in {ptype} scenarios",
                       f"one of {', '.join(sorted(FOR_EACH.get(ptype, ())))}", at=("for_each",))
        req = [self.requires] if isinstance(self.requires, str) else self.requires or []
        allowed = REQUIRES.get(ptype, set())
        if any(r not in allowed for r in req):
            raise _err(f"unknown requirement in {self.requires!r}",
                       f"{ptype} scenarios may require: {', '.join(sorted(allowed)) or 'nothing'}", at=("requires",))
        single = [k for k in ("request", "expect", "differences") if getattr(self, k) is not None]
        if self.steps is not None and single:
            raise _err(f"write either request/expect or steps, not both (found steps and {', '.join(single)})")
        if self.steps is None:
            if not single:
                raise _err("a scenario needs request and expect, or steps")
            if self.request is None:
                raise _err("a request step needs request")
            if self.expect is None:
                raise _err("a request step needs expect")
        return self


def _ptype(v: str) -> str:
    if v not in KINDS:
        close = difflib.get_close_matches(v, list(KINDS), n=1)
        raise _err(f"unknown pattern type {v!r}", f"did you mean {close[0]!r}?" if close else f"one of {', '.join(KINDS)}")
    return v


class _FileBase(_Model):
    type: Annotated[str, AfterValidator(_ptype)]
    pattern: NonEmpty | None = None
    description: str | None = None
    origins: OriginScripts | None = None
    scenarios: Annotated[list[Any], Field(min_length=1)]  # replaced below by the concrete scenario model

    @model_validator(mode="before")
    @classmethod
    def _scope(cls, v: Any, info: ValidationInfo) -> Any:
        if info.context is not None and isinstance(v, dict):
            info.context["ptype"] = v.get("type") if v.get("type") in KINDS else None
        return v


def _build() -> tuple[type[BaseModel], type[BaseModel]]:
    from pydantic import create_model

    scenario = create_model("ScenarioModel", __base__=_ScenarioBase, **_sugar_fields())
    file = create_model("ScenarioFileModel", __base__=_FileBase, **_sugar_fields(),
                        scenarios=(Annotated[list[scenario], Field(min_length=1)], ...))
    return scenario, file


ScenarioModel, ScenarioFileModel = _build()


def json_schema() -> str:
    """The JSON Schema of a scenario file (conformance/scenario.schema.json; `make schema` writes it). Editors with
    a YAML language server pick it up from the `# yaml-language-server: $schema=...` line at the top of each file."""
    import json

    schema = ScenarioFileModel.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "edgeport conformance scenario file"
    return json.dumps(schema, indent=1, sort_keys=True) + "\n"

