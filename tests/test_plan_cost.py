"""What keeps `edgeport plan` linear in the size of a stack (#14): the chain order without pairwise model
comparisons, the overlap check without trying every pair of patterns, and the bundles and platform limits worked out
once per command. Each shortcut is checked against the plain computation it replaces."""

from __future__ import annotations

import json
import random
import subprocess
import sys

import pytest

from conftest import ROOT, credential_free_env, write_project
from edgeport.patterns import kind_of
from edgeport.spec import parse_app, routes
from edgeport.spec.loader import load_stack
from edgeport.spec.models import App
from edgeport.spec.runtime import chain_order
from edgeport.errors import Problems
from edgeport.spec.types import ROOT as ROOT_KEY
from edgeport.spec.validate import _nesting_pairs, _overlaps, _shared
from test_scale import big_app


def _shuffled(n: int, seed: int) -> dict:
    raw = big_app(n)
    random.Random(seed).shuffle(raw["patterns"])
    return raw


@pytest.mark.parametrize("seed", range(3))
def test_chain_order_is_by_kind_then_as_declared(seed):
    app = parse_app(_shuffled(40, seed))
    declared = {id(p): i for i, p in enumerate(app.patterns)}
    expected = sorted(app.patterns, key=lambda p: (kind_of(p).order, declared[id(p)]))
    assert [id(p) for p in chain_order(app)] == [id(p) for p in expected]


def test_chain_order_of_the_example_stacks():
    for stack in ("dev", "prod"):
        app = load_stack(stack, ROOT).app
        got = chain_order(app)
        assert [app.patterns.index(p) for p in got] == sorted(range(len(app.patterns)),
                                                              key=lambda i: (kind_of(app.patterns[i]).order, i))


def _pairs_by_trying_all(app) -> list[tuple[int, int]]:
    pats = app.patterns
    return [(i, j) for i in range(len(pats)) for j in range(i + 1, len(pats)) if pats[i].type == pats[j].type
            and any(routes.contains(a, b) or routes.contains(b, a) for a in pats[i].routes for b in pats[j].routes)]


@pytest.mark.parametrize("seed", range(5))
def test_nesting_pairs_are_the_pairs_whose_routes_nest(seed):
    """Random routes drawn from a small tree of segments, prefix and exact, so that many nest, some are equal and
    some share a leading substring without nesting (/a/b vs /a/bc/*)."""
    rnd = random.Random(seed)
    segs = ["a", "b", "bc", "c"]

    def route() -> str:
        path = "/" + "/".join(rnd.choice(segs) for _ in range(rnd.randint(0, 3)))
        r = rnd.random()
        if r < 0.4:
            return path.rstrip("/") + "/*"
        if r < 0.5:
            return path + "*"  # "/a/b*" covers /a/b, /a/bc, /a/b/...
        return path

    pats = []
    for i in range(40):
        rs = list(dict.fromkeys(route() for _ in range(rnd.randint(1, 3))))
        pats.append({"name": f"a{i}", "type": "ab-test", "routes": rs,
                     "variants": [{"name": "a", "weight": 50}, {"name": "b", "weight": 50}]}
                    if i % 2 else {"name": f"e{i}", "type": "esi-compose", "routes": rs, "shell": "/s.html",
                                   "fragments": [{"slot": "x", "path": "/f"}]})
    # the model alone: validate_app would refuse the overlaps that conflict
    app = App.model_validate({"name": "nest", "origins": {"default": "https://o.example.com"}, "targets": {"vercel": {}},
                              "patterns": pats})
    expected = _pairs_by_trying_all(app)
    assert expected, "the draw should nest some routes"
    assert _nesting_pairs(app) == expected
    # and the overlap check reports what trying every pair reported, in the same order
    tried = Problems()
    for i, a in enumerate(app.patterns):
        for b in app.patterns[i + 1:]:
            shared = [(ra, rb) for ra in a.routes for rb in b.routes if a.type == b.type and _shared(a, b, ra, rb)]
            if shared and kind_of(a).overlap_conflict(a, b):
                tried.add(f"patterns[{app.patterns.index(b)}].routes", shared[0][1])
    got = Problems()
    _overlaps(app, got)
    assert tried.items, "the draw should hold conflicting overlaps"
    assert [(i.path.removeprefix(ROOT_KEY + "."), i.message.split(" ")[0]) for i in got.items] == [
        (i.path, i.message) for i in tried.items]


def test_nesting_pairs_of_the_scale_stack():
    app = parse_app(big_app(60))
    assert _nesting_pairs(app) == _pairs_by_trying_all(app) == []


# Runs `edgeport plan` (or build) in a fresh interpreter, counting how often every target's bundle units and platform
# limits are worked out.
_COUNT = r"""
import json, sys
from edgeport import targets
calls = []
real = targets.bundles_and_limits
def counting(*a, **kw):
    calls.append(1)
    return real(*a, **kw)
targets.bundles_and_limits = counting
from edgeport.cli import main
try:
    main(sys.argv[1:], standalone_mode=False)
finally:
    print(json.dumps({"calls": len(calls)}), file=sys.stderr)
"""


@pytest.mark.parametrize("command", [["plan", "--offline"], ["build"]])
def test_bundles_and_limits_are_worked_out_once_per_command(tmp_path, command):
    write_project(tmp_path, {"dev": (ROOT / "stacks" / "Pulumi.dev.yaml").read_text()})
    out = subprocess.run([sys.executable, "-c", _COUNT, *command, "--stack", "dev", "--json"], cwd=tmp_path,
                         capture_output=True, text=True, timeout=300, env=credential_free_env())
    assert out.returncode == 0, out.stderr[-3000:]
    assert json.loads(out.stderr.strip().splitlines()[-1]) == {"calls": 1}
    assert json.loads(out.stdout)["ok"] is True

