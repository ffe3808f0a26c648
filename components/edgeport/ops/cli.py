"""The day-2 commands: `experiment get|set`, `logs`, `status`, `teardown-check` (registered by edgeport.cli).

Thin: each command loads the stack, asks edgeport.ops / the target packages' ops modules, and prints per target.
Exit codes: 0 done; 1 a target failed (credentials, API, a partial write), 2 bad input (stack, ratios, options),
3 `status` found the deployment differs from the declaration.
"""

from __future__ import annotations

import json
import re
import time
from datetime import datetime, timezone
from typing import Any, Callable

import click

from .. import targets as registry
from ..errors import EdgeportError


def add_commands(main: click.Group, stack_option, json_option, project_option, load: Callable) -> None:
    target_option = click.option("--target", "-t", "only", multiple=True, type=click.Choice(registry.NAMES),
                                 help="Only this target (repeatable; default: every target the pattern runs on).")

    @main.group()
    def experiment() -> None:
        """Read or move an A/B experiment's live ratios without a deploy."""

    @experiment.command("get")
    @click.argument("name")
    @stack_option
    @click.option("--local", is_flag=True, help="Only the running `edgeport dev` of the stack, no deployed store.")
    @target_option
    @json_option
    @project_option
    @click.pass_context
    def experiment_get(ctx, name, stack_name, local, only, as_json, project_dir) -> None:
        """Show the live ratios of pattern NAME on every target it runs on (and on a running `edgeport dev`)."""
        from ..local import live_admin
        from . import experiment as ex

        st = load(stack_name, project_dir)
        p = ex.live_pattern(st.app, name)
        dev_url = live_admin.running(st.project_dir, st.name)
        if local and not dev_url:
            raise EdgeportError(f"--local: no running `edgeport dev --stack {st.name}` found in {st.project_dir}")
        outcomes = [] if local else ex.get(st.app, st.name, p, only)
        dev = _dev_get(dev_url, name) if dev_url else None
        failed = [o for o in outcomes if not o.ok]
        if as_json:
            click.echo(json.dumps({"ok": not failed, "stack": st.name, "pattern": name, "declared": _declared(p),
                                   "targets": [o.to_json() for o in outcomes], "dev": dev}, indent=2))
        else:
            click.echo(f"{name} ({p.type}) live ratios, stack {st.name}; declared {_ratios(_declared(p))}")
            for o in outcomes:
                if not o.ok:
                    click.echo(f"  {o.target:<12} error: {o.error}" + (f"\n  {'':<12} fix: {o.hint}" if o.hint else ""))
                    continue
                stored = "nothing stored" if o.data.get("missing") else _ratios(o.data.get("value"))
                click.echo(f"  {o.target:<12} {o.data['store']} {o.data['key']}: {stored}")
                if o.data.get("note"):
                    click.echo(f"  {'':<12} {o.data['note']}")
            if dev:
                click.echo(f"  {'dev':<12} edgeport dev ({dev_url}): {_ratios(dev.get('value'))}"
                           + (" (declared)" if dev.get("declared") else ""))
        if failed:
            ctx.exit(1)

    @experiment.command("set")
    @click.argument("name")
    @stack_option
    @click.option("--ratios", required=True, metavar="VARIANT=WEIGHT,...",
                  help="Every declared variant with its weight, e.g. control=70,redesign=30 (0 switches one off).")
    @click.option("--dry-run", is_flag=True, help="Check credentials and stores and show what would change; write nothing.")
    @click.option("--local", is_flag=True, help="Only the running `edgeport dev` of the stack, no deployed store.")
    @target_option
    @json_option
    @project_option
    @click.pass_context
    def experiment_set(ctx, name, stack_name, ratios, dry_run, local, only, as_json, project_dir) -> None:
        """Write pattern NAME's live ratios to the store its edge code reads, on every target it runs on:
        Workers KV (CLOUDFLARE_API_TOKEN), Edge Config (VERCEL_API_TOKEN), the SSM parameter in us-east-1 (the
        AWS credential chain); and to a running `edgeport dev` of the stack.

        Every target is checked first (credentials, store, current value): if one fails, nothing is written.
        Prints what changed and when it is in effect everywhere (store propagation + the pattern's liveTtl)."""
        from ..local import live_admin
        from . import experiment as ex

        st = load(stack_name, project_dir)
        p = ex.live_pattern(st.app, name)
        value = ex.parse_ratios(p, ratios)
        dev_url = live_admin.running(st.project_dir, st.name)
        if local and not dev_url:
            raise EdgeportError(f"--local: no running `edgeport dev --stack {st.name}` found in {st.project_dir}")
        outcomes, refused = ([], False) if local else ex.set_(st.app, st.name, p, value, only, dry_run)
        dev = None
        if dev_url and not dry_run and not refused:
            status, answer = live_admin.put(dev_url, name, value)
            dev = {"url": dev_url, "ok": status == 200, **({"targets": answer.get("targets")} if status == 200 else
                                                           {"error": answer.get("error", f"HTTP {status}")})}
            refused = refused or status != 200
        written = [o.target for o in outcomes if o.ok and o.data.get("written")]
        restore = ex.restore_command(st.name, p, outcomes) if refused and written else None
        if as_json:
            click.echo(json.dumps({"ok": not refused, "stack": st.name, "pattern": name, "ratios": value,
                                   "dry_run": dry_run, "targets": [o.to_json() for o in outcomes], "dev": dev,
                                   "written": written, "restore": restore}, indent=2))
        else:
            click.echo(f"{name}: {_ratios(value)}" + (" (dry run: nothing written)" if dry_run else ""))
            for o in outcomes:
                _print_set(o, dry_run)
            if dev:
                click.echo(f"  {'dev':<12} " + ("written to the local stores of " + ", ".join(dev["targets"]) if dev["ok"]
                                                 else f"error: {dev['error']}"))
        if refused:
            if written:
                click.secho(f"error: written on {', '.join(written)} only; the other targets still serve their old "
                            "ratios" + (f"\n    to put the written ones back: {restore}" if restore else ""), fg="red", err=True)
            elif outcomes and not all(o.ok for o in outcomes):
                click.secho("error: nothing was written: fix the targets above and run it again", fg="red", err=True)
            ctx.exit(1)

    @main.command()
    @stack_option
    @click.option("--since", default="10m", show_default=True, metavar="DURATION|TIME",
                  help="Start: a duration back from now (30s, 10m, 2h, 1d) or an ISO 8601 time.")
    @click.option("--until", "until", default=None, metavar="DURATION|TIME", help="End (default: now).")
    @click.option("--follow", "-f", is_flag=True, help="Keep polling for new events (every --interval seconds) until Ctrl-C.")
    @click.option("--interval", type=click.FloatRange(1, 300), default=5.0, show_default=True, help="Seconds between polls with --follow.")
    @click.option("--filter", "text", default=None, metavar="TEXT", help="Only events whose message contains TEXT.")
    @target_option
    @json_option
    @project_option
    @click.pass_context
    def logs(ctx, stack_name, since, until, follow, interval, text, only, as_json, project_dir) -> None:
        """The stack's edge logs, merged by time. Lambda@Edge: every Region's
        /aws/lambda/us-east-1.<function> log groups (CloudWatch Logs). Vercel: the production deployment's runtime
        logs. Cloudflare: prints how to tail (the API keeps no history to page through).
        With --json, one JSON object per event (one per line), then a summary object."""
        from . import attempt, environ

        st = load(stack_name, project_dir)
        start = _when(since, "--since")
        end = _when(until, "--until") if until else None
        chosen = [t for t in st.app.targets.names() if not only or t in only]
        env = environ(None)
        seen: set[tuple] = set()
        failed = False
        while True:
            events = []
            for t in chosen:
                o = attempt(t, registry.ops(t).logs, st.app, st.name, env, start, end, text)
                if not o.ok:
                    failed = True
                    click.secho(f"error: {t}: {o.error}" + (f"\n    fix: {o.hint}" if o.hint else ""), fg="red", err=True)
                    continue
                if not o.data.get("supported", True):
                    if t not in seen:
                        click.secho(f"{t}: no log history through the API; use: {o.data['how']}", fg="yellow", err=True)
                        seen.add(t)
                    continue
                events += [{"target": t, **e} for e in o.data.get("events", [])]
            events.sort(key=lambda e: e["timestamp"])
            for e in events:
                ident = (e["target"], e["timestamp"], e.get("stream") or e.get("deployment"), e["message"])
                if ident in seen:
                    continue
                seen.add(ident)
                click.echo(json.dumps(e) if as_json else _log_line(e))
                start = max(start, e["timestamp"])
            if not follow or end is not None:
                break
            try:
                time.sleep(interval)
            except KeyboardInterrupt:
                break
        if failed:
            ctx.exit(1)

    @main.command()
    @stack_option
    @target_option
    @json_option
    @project_option
    @click.pass_context
    def status(ctx, stack_name, only, as_json, project_dir) -> None:
        """What is live on each target, compared with the stack's declaration: the Worker script, its routes and
        migration tag; the Vercel production deployment and which env vars exist (never their values); the CloudFront
        distributions and the Lambda@Edge versions they run. Exit 3 when the deployment differs from the declaration."""
        from . import attempt, environ

        st = load(stack_name, project_dir)
        chosen = [t for t in st.app.targets.names() if not only or t in only]
        outcomes = [attempt(t, registry.ops(t).status, st.app, st.name, environ(None)) for t in chosen]
        drift = [f"{o.target}: {d}" for o in outcomes if o.ok for d in o.data.get("drift", [])]
        failed = [o for o in outcomes if not o.ok]
        if as_json:
            click.echo(json.dumps({"ok": not failed, "in_sync": not drift and not failed, "stack": st.name,
                                   "targets": [o.to_json() for o in outcomes]}, indent=2, default=str))
        else:
            for o in outcomes:
                _print_status(o)
            click.echo(("in sync with the declaration" if not drift else f"{len(drift)} difference(s) from the declaration")
                       if not failed else f"{len(failed)} target(s) could not be read")
        ctx.exit(1 if failed else 3 if drift else 0)

    @main.command("teardown-check")
    @stack_option
    @click.option("--wait", is_flag=True, help="Poll (every --interval seconds, up to --timeout) until nothing blocks.")
    @click.option("--delete", is_flag=True, help="Delete the stack's Lambda@Edge functions that nothing associates; "
                  "a function whose replicas remain is reported and kept.")
    @click.option("--interval", type=click.FloatRange(1, 3600), default=60.0, show_default=True)
    @click.option("--timeout", type=click.FloatRange(1, 86400), default=6 * 3600.0, show_default=True,
                  help="Seconds --wait keeps polling.")
    @json_option
    @project_option
    @click.pass_context
    def teardown_check(ctx, stack_name, wait, delete, interval, timeout, as_json, project_dir) -> None:
        """What blocks deleting the stack's Lambda@Edge functions (CloudFront associations, replicas that remain for
        hours after an association goes), and what to do. `pulumi destroy` leaves these functions (skip_destroy):
        run this with --delete afterwards, or on a schedule. Exit 1 when --wait times out with something blocking."""
        from . import attempt, environ

        st = load(stack_name, project_dir)
        chosen = [t for t in st.app.targets.names() if hasattr(registry.ops(t), "teardown")]
        if not chosen:
            raise EdgeportError(f"stack {st.name} has no target with functions that outlive their deployment "
                                "(only Lambda@Edge has)")
        deadline = time.monotonic() + timeout
        while True:
            outcomes = [attempt(t, registry.ops(t).teardown, st.app, st.name, environ(None), delete) for t in chosen]
            blocking = sum(o.data.get("blocking", 0) for o in outcomes if o.ok)
            failed = [o for o in outcomes if not o.ok]
            if failed or not wait or not blocking or time.monotonic() + interval > deadline:
                break
            click.secho(f"{blocking} function(s) still blocked; checking again in {interval:g} s "
                        f"({max(0, deadline - time.monotonic()) / 60:.0f} min left) ...", fg="bright_black", err=True)
            time.sleep(interval)
        if as_json:
            click.echo(json.dumps({"ok": not failed, "blocking": blocking, "targets": [o.to_json() for o in outcomes]}, indent=2))
        else:
            for o in outcomes:
                _print_teardown(o)
        ctx.exit(1 if failed or (wait and blocking) else 0)


# ---------------------------------------------------------------- helpers


def _declared(p) -> dict[str, Any]:
    from ..spec import runtime

    return runtime.live_default(p)


def _ratios(value: Any) -> str:
    from .experiment import shares

    if not isinstance(value, dict):
        return json.dumps(value)
    pct = shares(value)
    return " ".join(f"{k}={v}" for k, v in value.items()) + (f" ({' / '.join(f'{v:g}%' for v in pct.values())})" if pct else "")


def _print_set(o, dry_run: bool) -> None:
    if not o.ok:
        click.echo(f"  {o.target:<12} error: {o.error}" + (f"\n  {'':<12} fix: {o.hint}" if o.hint else ""))
        return
    d = o.data
    what = "would write" if dry_run else "written" if d.get("written") else "not written"
    before = "nothing" if d.get("before") is None else _ratios(d.get("before"))
    e = d["effect"]
    click.echo(f"  {o.target:<12} {what}: {d['store']} {d['key']} (was {before})")
    if d.get("skipped"):
        click.echo(f"  {'':<12} {d['skipped']}")
    elif not dry_run:
        click.echo(f"  {'':<12} in effect everywhere within {e['within_s']:g} s (store propagation up to "
                   f"{e['propagation_s']:g} s + edge cache liveTtl {e['edge_cache_s']} s)")


def _print_status(o) -> None:
    if not o.ok:
        click.echo(f"{o.target}: error: {o.error}" + (f"\n    fix: {o.hint}" if o.hint else ""))
        return
    click.echo(f"{o.target}:")
    for k, v in o.data.items():
        if k in ("drift", "declared"):
            continue
        click.echo(f"  {k}: {json.dumps(v, default=str)}")
    for d in o.data.get("drift", []):
        click.echo(f"  differs: {d}")


def _print_teardown(o) -> None:
    if not o.ok:
        click.echo(f"{o.target}: error: {o.error}" + (f"\n    fix: {o.hint}" if o.hint else ""))
        return
    fns = o.data.get("functions", [])
    click.echo(f"{o.target}: {len(fns)} function(s), {o.data.get('blocking', 0)} blocked")
    for f in fns:
        where = f" by {', '.join(map(str, f['associated_with']))}" if f.get("associated_with") else ""
        click.echo(f"  {f.get('name')}: {f.get('state')}{where}")
    for a in o.data.get("advice", []):
        click.echo(f"  - {a}")


def _log_line(e: dict[str, Any]) -> str:
    ts = datetime.fromtimestamp(e["timestamp"] / 1000, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    where = e.get("region") or e.get("deployment") or ""
    return f"{ts} {e['target']} {where} {e['message'].rstrip()}"


_DURATION = re.compile(r"^(\d+(?:\.\d+)?)([smhd])$")


def _when(text: str, flag: str) -> int:
    """A duration back from now or an ISO 8601 time -> epoch milliseconds."""
    m = _DURATION.match(text.strip())
    if m:
        seconds = float(m.group(1)) * {"s": 1, "m": 60, "h": 3600, "d": 86400}[m.group(2)]
        return int((time.time() - seconds) * 1000)
    try:
        t = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise click.BadParameter(f"{text!r} is neither a duration (30s, 10m, 2h, 1d) nor an ISO 8601 time", param_hint=flag) from None
    if t.tzinfo is None:
        t = t.replace(tzinfo=timezone.utc)
    return int(t.timestamp() * 1000)


def _dev_get(url: str, name: str) -> dict[str, Any] | None:
    import urllib.request

    try:
        with urllib.request.urlopen(f"{url}/live/{name}", timeout=5) as res:
            return {"url": url, **json.loads(res.read())}
    except (OSError, ValueError):
        return None

