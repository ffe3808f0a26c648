"""The edgeport command line: a thin shell over spec -> build -> plan / local runs."""

from __future__ import annotations

import atexit
import gc
import json
import os
import signal
import sys
import threading
from pathlib import Path
from typing import Any

import click

from . import __version__, targets
from .errors import EdgeportError, LocalSecretError, SpecError

# What the help texts say about each target: (DEFAULT_PORT, LOCAL_RUNTIME) of its package, in registry order. Written
# out rather than read from targets.profile(), whose packages import pydantic for their settings models (most of the
# ~0.25 s `edgeport --help` took); tests/test_cli_startup.py requires them equal to the packages' values, which stay
# the source: the commands themselves read those.
HELP_FACTS = {
    "cloudflare": (8787, "workerd (Miniflare)"),
    "lambda-edge": (8789, "a CloudFront emulation in Node"),
    "vercel": (8788, "Vercel's edge-runtime"),
}


class EdgeportGroup(click.Group):
    """Prints edgeport errors without a traceback and exits with their code (2 = invalid stack). The commands defined
    in other modules (conformance, the day-2 commands, ci) are registered when a name is not found among the others
    or the commands are listed (`--help`), so `edgeport validate` does not import those modules."""

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        found = super().get_command(ctx, cmd_name)
        if found is None and _register_elsewhere():
            found = super().get_command(ctx, cmd_name)
        return found

    def list_commands(self, ctx: click.Context) -> list[str]:
        _register_elsewhere()
        return super().list_commands(ctx)

    def invoke(self, ctx: click.Context) -> Any:
        # A command runs once per process: at exit, whatever it made is about to go anyway, and the collections the
        # interpreter runs while shutting down walk every object (0.02 s after `validate`, 0.3 s after a plan).
        atexit.unregister(gc.freeze)
        atexit.register(gc.freeze)
        try:
            return super().invoke(ctx)
        except EdgeportError as e:
            as_json = _wants_json(ctx)
            if as_json:
                payload = {"ok": False, "error": str(e)}
                if isinstance(e, (SpecError, LocalSecretError)):
                    payload["issues"] = [i.to_json() for i in e.issues]
                click.echo(json.dumps(payload, indent=2))
            click.secho(f"error: {e}", fg="red", err=True)
            ctx.exit(e.exit_code)
        except (click.exceptions.Exit, click.exceptions.Abort, click.ClickException):
            raise
        except KeyboardInterrupt:
            ctx.exit(130)
        except BrokenPipeError:  # the reader went away (`edgeport ... | head`): nothing left to say
            os.dup2(os.open(os.devnull, os.O_WRONLY), 1)
            ctx.exit(0)
        except Exception as e:  # a bug in edgeport: say so, without a traceback unless asked
            if os.environ.get("EDGEPORT_DEBUG"):
                raise
            click.secho(f"internal error: {type(e).__name__}: {e}\n(set EDGEPORT_DEBUG=1 for a traceback, and please "
                        f"report it)", fg="red", err=True)
            ctx.exit(1)


def _wants_json(ctx: click.Context) -> bool:
    return bool(ctx.meta.get("edgeport.json"))


def _remember_json(ctx: click.Context, _param: click.Parameter, value: bool) -> bool:
    ctx.meta["edgeport.json"] = value  # meta is shared by the whole context chain
    return value


def _progress(msg: str) -> None:
    click.secho(msg, fg="bright_black", err=True)


stack_option = click.option("--stack", "-s", "stack_name", required=True, metavar="NAME",
                            help="Stack to use: reads Pulumi.NAME.yaml in the stackConfigDir of Pulumi.yaml.")
json_option = click.option("--json", "as_json", is_flag=True, callback=_remember_json,
                           help="Machine-readable JSON on stdout.")
project_option = click.option("--project-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
                              help="Directory holding Pulumi.yaml (default: this directory or a parent).")


def _load(stack_name: str, project_dir: Path | None):
    from .spec.loader import find_project_dir, load_stack

    return load_stack(stack_name, project_dir or find_project_dir())


def _fmt_bytes(n: int) -> str:
    return f"{n:,}"


@click.group(cls=EdgeportGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="edgeport")
def main() -> None:
    """Declare edge patterns once; build, plan and run them for Cloudflare Workers,
    Lambda@Edge and Vercel Routing Middleware.

    A stack is declared under `edgeport:app` in Pulumi.<stack>.yaml (in the stackConfigDir Pulumi.yaml names).
    Deploy with `pulumi up -s <stack>`. validate, build, plan, dev, token and conformance work offline;
    experiment, logs, status and teardown-check talk to the deployed stack's platforms.
    """


# ---------------------------------------------------------------- validate


@main.command()
@stack_option
@json_option
@project_option
def validate(stack_name: str, as_json: bool, project_dir: Path | None) -> None:
    """Check the stack declaration. Exit 0 when valid; exit 2 listing every problem."""
    st = _load(stack_name, project_dir)
    app = st.app
    warnings = st.secret_warnings() + st.advisories()
    summary = {"ok": True, "stack": stack_name, "file": str(st.file), "app": app.name, "targets": app.targets.names(),
               "patterns": [{"name": p.name, "type": p.type, "routes": list(p.routes), "exclude": list(p.exclude),
                             "targets": app.pattern_targets(p)} for p in app.patterns], "warnings": warnings}
    for w in warnings:
        click.secho(f"warning: {w}", fg="yellow", err=True)
    if as_json:
        click.echo(json.dumps(summary, indent=2))
        return
    click.echo(f"ok: {st.file.relative_to(st.project_dir)}: app {app.name}, {len(app.patterns)} pattern(s) on "
               f"{', '.join(app.targets.names())}")
    for p in app.patterns:
        click.echo(f"  {p.name:<20} {p.type:<14} {' '.join(p.routes):<30} -> {', '.join(app.pattern_targets(p))}")
        if p.exclude:
            click.echo(f"  {'':<20} {'':<14} except {' '.join(p.exclude)}")


# ---------------------------------------------------------------- build


def _build(st, out: Path | None):
    from .build import build_app, default_out_dir

    out_dir = out or default_out_dir(st.project_dir, st.name)
    _progress(f"building {st.name} into {out_dir} ...")
    return build_app(st.app, st.name, out_dir, st.locate, units=st.units)


def size_table(result) -> str:
    rows = [("target", "trigger", "bytes", "gzip", "zip", "budget", "used")]
    for a in result.artifacts:
        rows.append((a.target, a.event or "-", _fmt_bytes(a.size), _fmt_bytes(a.gzip_size), _fmt_bytes(a.zip_size),
                     f"{a.budget.limit / 1048576:g} MB {a.budget.measure}", f"{100 * a.measured / a.budget.limit:.2f}%"))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(c.rjust(w) if i >= 2 else c.ljust(w) for i, (c, w) in enumerate(zip(r, widths))).rstrip()
                     for r in rows)


@main.command()
@stack_option
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Output directory (default: .edgeport/build/<stack>).")
@json_option
@project_option
def build(stack_name: str, out: Path | None, as_json: bool, project_dir: Path | None) -> None:
    """Bundle the edge code for every target, with the stack's config injected,
    and check each bundle against its platform's size budget (over budget = error)."""
    st = _load(stack_name, project_dir)
    result = _build(st, out)
    if as_json:
        click.echo(json.dumps({"ok": True, **result.to_json()}, indent=2))
        return
    click.echo(size_table(result))
    for a in result.artifacts:
        click.echo(f"  {a.label}: {a.path}  ({a.budget.label})")


# ---------------------------------------------------------------- plan


@main.command()
@stack_option
@json_option
@click.option("--markdown", "as_markdown", is_flag=True, help="A summary for a pull-request comment.")
@click.option("--offline", is_flag=True, help="Skip the prerequisite checks (the only part that uses the network).")
@click.option("--against", "against", type=click.Path(dir_okay=False, path_type=Path), default=None, metavar="STATE.json",
              help="Compare with this stack's `pulumi stack export`: what is created, changed, replaced, deleted, renamed.")
@project_option
@click.pass_context
def plan(ctx: click.Context, stack_name: str, as_json: bool, as_markdown: bool, offline: bool, against: Path | None,
         project_dir: Path | None) -> None:
    """Offline plan: run the Pulumi program under Pulumi's mocks and print the
    resources per target (type, name, key inputs; secrets shown as [secret]).
    Needs no credentials, state or Pulumi CLI - fit for a pull request.

    With credentials (CLOUDFLARE_API_TOKEN, AWS) it also checks what the stack
    relies on but does not create: a proxied DNS record for the Cloudflare
    hostname, an issued ACM certificate covering the CloudFront aliases.
    A missing prerequisite exits 1; without credentials the check is skipped.

    --against STATE.json (from `pulumi stack export`) shows the change set
    instead: created, changed (inputs old -> new), replaced, deleted, renamed."""
    from .plan import run_plan
    from .plan_render import render_markdown, render_text
    from .prereq import check_prerequisites, errors

    if as_json and as_markdown:
        raise click.UsageError("choose one of --json and --markdown")
    state = None
    if against is not None:
        from .plan_diff import expect_stack, load_state

        state = load_state(against)  # a bad file fails before the plan runs
        expect_stack(state, stack_name)
    st = _load(stack_name, project_dir)
    _progress(f"planning {stack_name} offline (Pulumi program under mocks) ...")
    # What exists now (modules, the loaded stack) outlives the plan: frozen, it stays out of the full collections
    # the plan's allocations set off (they scanned it 4 times at 300 patterns, ~0.3 s).
    gc.freeze()
    try:
        p = run_plan(st)
    finally:
        gc.unfreeze()
    p.prerequisites = check_prerequisites(st.app, st.locate, offline=offline)
    failed = errors(p.prerequisites)
    if state is not None:
        from . import plan_diff

        cs = plan_diff.compare(p.to_json(), state)
        out = (json.dumps({"ok": not failed, **cs.to_json(), "prerequisites": [f.to_json() for f in p.prerequisites]},
                          indent=2) if as_json else plan_diff.render_markdown(cs, p.warnings) if as_markdown else plan_diff.render_text(cs))
        click.echo(out)
    elif as_json:
        click.echo(json.dumps({"ok": not failed, **p.to_json()}, indent=2, default=str))
    elif as_markdown:
        click.echo(render_markdown(p))
    else:
        click.echo(render_text(p))
    for w in [*p.warnings, *st.advisories()]:
        click.secho(f"warning: {w}", fg="yellow", err=True)
    if failed:
        n = len(failed)
        click.secho(f"error: {n} missing prerequisite{'s' if n > 1 else ''}: `pulumi up` would fail or leave the edge "
                    "code bypassed\n" + "\n".join(f.format() for f in failed), fg="red", err=True)
        ctx.exit(1)


# ---------------------------------------------------------------- dev


_DEV_HELP = f"""Serve the stack's edge code on 127.0.0.1 in each target's local runtime:
    {", ".join(f"{runtime} for {t}" for t, (_port, runtime) in HELP_FACTS.items())}. Rebuilds and restarts when
    functions/ or the stack file change. Ctrl-C stops everything.

    Send `x-edgeport-country: DE` to pretend a request comes from a country
    (local hosts only; each turns it into what its platform would set)."""


@main.command(help=_DEV_HELP)
@stack_option
@click.option("--target", "-t", type=click.Choice(targets.NAMES), default=None,
              help="Serve one target (default: every target the stack declares).")
@click.option("--port", "-p", type=click.IntRange(0, 65535), default=None,
              help="Port of the (first) target; default " + ", ".join(f"{p} {t}" for t, (p, _runtime) in HELP_FACTS.items()) + ".")
@click.option("--origin", "origin_overrides", multiple=True, metavar="[NAME=]URL",
              help="Local server standing in for a declared origin (repeatable; a bare URL is the default origin). "
                   "Origins without one get a built-in echo origin that answers with what it received.")
@click.option("--quiet", "-q", is_flag=True, help="No request lines; edge code's console output and errors still show.")
@click.option("--json", "as_json", is_flag=True,
              help="Machine-readable stdout: a ready line ({\"event\": \"ready\", \"urls\", \"origins\"}), then one JSON "
                   "object per request and per console line, each with its target.")
@project_option
def dev(stack_name: str, target: str | None, port: int | None, origin_overrides: tuple[str, ...], quiet: bool,
        as_json: bool, project_dir: Path | None) -> None:
    from .local.dev import DevServer
    from .patterns import kind_of
    from .spec.secret_refs import resolve_local

    st = _load(stack_name, project_dir)
    origins = {name: url for name, url in (_origin_override(o, st.app.origins) for o in origin_overrides)}
    serving = [target] if target else st.app.targets.names()
    ports = {t: (port + i if port is not None else targets.profile(t).DEFAULT_PORT) for i, t in enumerate(serving)}
    if port == 0:
        ports = {t: 0 for t in serving}
    _check_ports(ports)
    colour = sys.stdout.isatty() and not os.environ.get("NO_COLOR")
    server = DevServer(stack_name, st.project_dir, targets=serving, ports=ports, origins=origins,
                       say=lambda m: click.secho(m, fg="cyan", err=True), log=lambda line: click.echo(line),
                       log_format="json" if as_json else "quiet" if quiet else "pretty", colour=colour)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        _progress(f"building {stack_name} and starting {', '.join(serving)} ...")
        server.start()
        # Serving from here on: Ctrl-C is a normal stop (exit 0), like SIGTERM, also when it comes while the
        # addresses are being printed (a KeyboardInterrupt there used to end with 130).
        signal.signal(signal.SIGINT, lambda *_: stop.set())
        urls = server.urls()
        local_origins = {n: origins.get(n) or server.echoes[n].url for n in st.app.origins}
        live = server.live.keys() if server.live else {}
        if as_json:
            click.echo(json.dumps({"event": "ready", "stack": stack_name, "urls": urls, "origins": local_origins,
                                   "live": {"url": server.live.url, "patterns": sorted(live)} if live else None,
                                   "notes": server.key_notes}))
        else:
            click.echo(f"\nedgeport dev: stack {stack_name}")
            for t, url in urls.items():
                click.echo(f"  {t:<12} {url}")
            click.echo("origins:")
            for n in st.app.origins:
                click.echo(f"  {n:<12} {st.app.origins[n]} -> {local_origins[n]}" + ("" if n in origins else " (echo)"))
            _print_try(st, resolve_local(st.app, st.project_dir, stack=st.name), next(iter(urls.values()), None))
            for note in server.key_notes:
                click.echo(f"\n{note}")
            for name in live:
                p = next(p for p in st.app.patterns if p.name == name)
                example = json.dumps(kind_of(p).live_default(p))
                click.echo(f"\nLive settings of {name} (every target; DELETE restores the declared ones):\n"
                           f"  curl -X PUT {server.live.url}/live/{name} -d '{example}'")
            click.echo("\nWatching functions/ and the stack file; Ctrl-C to stop. Requests are logged below.")
        try:
            server.watch(stop)
        except KeyboardInterrupt:
            pass
    finally:
        _progress("stopping ...")
        server.stop()


def _origin_override(value: str, declared: dict[str, str]) -> tuple[str, str]:
    """`--origin [NAME=]URL`: a declared origin's local stand-in, an http(s) URL with a host (and a valid port)."""
    from urllib.parse import urlsplit

    name, url = value.split("=", 1) if "=" in value and not value.startswith(("http:", "https:")) else ("default", value)
    if name not in declared:
        raise EdgeportError(f"--origin {value}: {name!r} is not a declared origin (declared: {', '.join(declared)})")
    try:
        u = urlsplit(url)
        ok = u.scheme in ("http", "https") and bool(u.hostname) and (u.port is None or 0 < u.port)
    except ValueError:  # e.g. a port that is not a number, or out of range
        ok = False
    if not ok:
        raise EdgeportError(f"--origin {value}: {url!r} is not an http(s) URL with a host, e.g. http://127.0.0.1:3000")
    return name, url.rstrip("/")


def _check_ports(ports: dict[str, int]) -> None:
    """A busy port is a one-line error that offers ports that are free (not a traceback from the host)."""
    from .local.procs import next_free_ports, port_free

    busy = [f"{p} ({t})" for t, p in ports.items() if p and not port_free(p)]
    if not busy:
        return
    start = next_free_ports(max(ports.values()) + 1, len(ports))
    offer = f"; try --port {start}" + (f" (ports {start}-{start + len(ports) - 1} are free)" if len(ports) > 1 else " (free)") if start else ""
    raise EdgeportError(f"port{'s' if len(busy) > 1 else ''} {', '.join(busy)} already in use (another edgeport dev or "
                        f"wrangler dev?){offer}, or --port 0 for any free ports")


def _print_try(st, secrets: dict[str, str], url: str | None) -> None:
    from .patterns import kind_of

    jwt = next((p for p in st.app.patterns if kind_of(p).mints(p)), None)
    if not jwt or not url:
        return
    token = kind_of(jwt).dev_token(jwt, secrets[kind_of(jwt).secrets(jwt)[0]], sub="dev-user")
    route = jwt.routes[0].rstrip("*") or "/"
    click.echo(f"\nTry ({jwt.name}):\n  curl -i {url}{route} -H 'Authorization: Bearer {token}'\n"
               f"  curl -i {url}{route}   # no token -> 401\n"
               f"  (more tokens: edgeport token --stack {st.name} --pattern {jwt.name})")


# ---------------------------------------------------------------- token


@main.command()
@stack_option
@click.option("--pattern", default=None, help="jwt-auth pattern to mint for (default: the first that a local key can sign for).")
@click.option("--alg", type=click.Choice(["HS", "RS256", "ES256"]), default=None,
              help="HS: the stack's local HMAC secret (default when the pattern has one); RS256/ES256: the stack's local "
                   "key pair in .edgeport/dev-keys/, which `edgeport dev` trusts for patterns accepting that algorithm "
                   "(local runs only).")
@click.option("--sub", default="dev-user", show_default=True, help="Subject claim.")
@click.option("--ttl", type=click.IntRange(-86400 * 365, 86400 * 365), default=3600, show_default=True,
              help="Seconds until exp (negative: already expired).")
@click.option("--claim", "claims", multiple=True, metavar="KEY=VALUE", help="Extra claim (repeatable; VALUE parsed as JSON if it can be).")
@project_option
def token(stack_name: str, pattern: str | None, alg: str | None, sub: str, ttl: int, claims: tuple[str, ...],
          project_dir: Path | None) -> None:
    """Mint a development JWT for `edgeport dev`: HMAC-signed with the stack's local secret, or RS256/ES256-signed
    with the stack's local key pair."""
    from .patterns import kind_of
    from .spec.secret_refs import resolve_local

    st = _load(stack_name, project_dir)

    def signable(p) -> list[str]:
        return (["HS"] if kind_of(p).mints(p) else []) + kind_of(p).local_signing_algs(p)

    # The patterns that take tokens a local secret or key can sign.
    jwts = [p for p in st.app.patterns if signable(p) and (alg is None or alg in signable(p))]
    chosen = next((p for p in jwts if p.name == pattern), None) if pattern else (jwts[0] if jwts else None)
    if chosen is None:
        names = ", ".join(p.name for p in jwts) or "none"
        what = f"accepting {alg}" if alg and alg != "HS" else "with an HMAC secret or an RS256/ES256 key" if not alg else "with an HMAC secret"
        raise EdgeportError(f"no jwt-auth pattern {what} named {pattern!r} (candidates: {names})" if pattern else
                            f"no jwt-auth pattern {what} in stack {stack_name}")
    extra: dict[str, Any] = {}
    for c in claims:
        if "=" not in c:
            raise click.BadParameter(f"{c!r} is not KEY=VALUE", param_hint="--claim")
        k, v = c.split("=", 1)
        try:
            extra[k] = json.loads(v)
        except ValueError:
            extra[k] = v
    use = alg or signable(chosen)[0]
    if use == "HS":
        name = kind_of(chosen).secrets(chosen)[0]
        secret = resolve_local(st.app, st.project_dir, [name], stack=st.name)[name]
        click.echo(kind_of(chosen).dev_token(chosen, secret, sub=sub, ttl=ttl, extra=extra))
        return
    from .local.dev_keys import private_key
    from .patterns.jwt_auth import mint_asymmetric

    key = private_key(st.project_dir, st.name, use)
    click.echo(mint_asymmetric(chosen, key, use, sub=sub, ttl=ttl, extra=extra))


# ---------------------------------------------------------------- secrets


@main.group()
def secrets() -> None:
    """Local secret values for development."""


@secrets.command("init-local")
@stack_option
@project_option
def secrets_init_local(stack_name: str, project_dir: Path | None) -> None:
    """Write random values for the stack's secrets that have none yet to .dev.vars (git-ignored)."""
    from .spec.secret_refs import DEV_VARS, env_name, init_local

    st = _load(stack_name, project_dir)
    names = [n for n in st.app.secret_names() if not os.environ.get(env_name(n))]
    added = init_local(names, st.project_dir)
    if added:
        click.echo(f"wrote {', '.join(added)} to {st.project_dir / DEV_VARS}")
    else:
        click.echo(f"every secret of stack {stack_name} already has a local value")


# ---------------------------------------------------------------- capabilities


def _in_trigger_order(target: str, events) -> list[str]:
    order = getattr(targets.profile(target), "TRIGGERS", ())
    return sorted(events, key=lambda e: order.index(e) if e in order else len(order))


@main.command()
@click.option("--stack", "-s", "stack_name", default=None, metavar="NAME",
              help="Only this stack's patterns and targets, with the triggers each pattern needs there.")
@json_option
@project_option
def capabilities(stack_name: str | None, as_json: bool, project_dir: Path | None) -> None:
    """Which pattern runs on which target, how, or why not (every pattern type, or one stack's patterns)."""
    from .patterns import kind_of
    from .spec.capabilities import as_table

    if stack_name is None:
        rows = as_table()
    else:
        app = _load(stack_name, project_dir).app
        rows = [{"name": p.name, "pattern": p.type, "target": t, "supported": c.supported,
                 "declared": t in app.pattern_targets(p), "how": c.how,
                 "events": _in_trigger_order(t, kind_of(p).events(p, app, t)) if c.supported else []}
                for p in app.patterns for t in app.targets.names() for c in (kind_of(p).capability(t),)]
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    for r in rows:
        mark = ("yes" if r.get("declared", True) else "off") if r["supported"] else "no"
        name = f"{r['name']} ({r['pattern']})" if "name" in r else r["pattern"]
        events = f" [{', '.join(r['events'])}]" if r.get("events") and "name" in r else ""
        click.echo(f"{name:<28} {r['target']:<12} {mark:<4} {r['how']}{events}")


def _register_conformance() -> None:
    from .conformance.cli import conformance_command

    main.add_command(conformance_command)


def _register_ops() -> None:
    from .ops.cli import add_commands

    add_commands(main, stack_option, json_option, project_option, _load)


@main.command("init")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.option("--name", default=None, help="Project and app name (default: the directory's name).")
@click.option("--targets", "chosen_targets", default=None, metavar="T,...",
              help="Targets to declare (default: every one: " + ", ".join(targets.NAMES) + ").")
@click.option("--patterns", "chosen_patterns", default=None, metavar="TYPE,...",
              help="Pattern types to start with, one example each (default: every type).")
@json_option
def init_command(directory: Path, name: str | None, chosen_targets: str | None, chosen_patterns: str | None, as_json: bool) -> None:
    """Scaffold an edgeport project in DIRECTORY: Pulumi.yaml, __main__.py, stacks/Pulumi.dev.yaml, .gitignore,
    requirements.txt, the GitOps workflows and a README. Never overwrites a file."""
    from .init import init

    split = lambda v: [x.strip() for x in v.split(",") if x.strip()] if v else None  # noqa: E731
    written = init(directory, name, split(chosen_targets), split(chosen_patterns))
    if as_json:
        click.echo(json.dumps({"ok": True, "directory": str(directory), "files": [str(p.relative_to(directory)) for p in written]}))
        return
    click.echo(f"wrote {len(written)} files to {directory}:")
    for p in written:
        click.echo(f"  {p.relative_to(directory)}")
    click.echo(f"\nnext:\n  cd {directory}\n  edgeport validate --stack dev\n  edgeport dev --stack dev\n  edgeport plan --stack dev")


@main.command("setup-runtimes")
@json_option
def setup_runtimes(as_json: bool) -> None:
    """Install the local runtimes of `dev` and `conformance` now (an installed edgeport does it on first use; CI can
    run this once and cache ~/.cache/edgeport and ~/.npm). In a checkout they are functions/node_modules (make setup)."""
    import time

    from .local.runtime import cache_root, checkout_functions, packaged, runtime_dir

    t0 = time.monotonic()
    where = runtime_dir(_progress)
    info = {"ok": True, "dir": str(where), "checkout": checkout_functions() is not None or not packaged(),
            "cache": str(cache_root()), "seconds": round(time.monotonic() - t0, 1)}
    if as_json:
        click.echo(json.dumps(info))
    else:
        click.echo(f"local runtimes ready: {where}" + (" (this checkout's functions/)" if info["checkout"] else ""))


def _register_ci() -> None:
    from .ci import ci_command

    main.add_command(ci_command)


# Registered on first need (EdgeportGroup.get_command, list_commands).
_ELSEWHERE = [_register_conformance, _register_ops, _register_ci]


def _register_elsewhere() -> bool:
    """Registers the commands defined in other modules; whether there were any left to register."""
    todo = list(_ELSEWHERE)
    _ELSEWHERE.clear()
    for register in todo:
        register()
    return bool(todo)

if __name__ == "__main__":
    main()
