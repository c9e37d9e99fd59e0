"""Width probes (issue 34): the families next to the allowed ones are searched on purpose."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from invtoolkit.core.descriptors import batch_descriptors, batch_width_shares, dominant_widths
from invtoolkit.fitting import MaterialObjective
from invtoolkit.fitting.probes import FIRST_SHARE, WIDTH_PENALTY, ProbePlan, WidthObjective, probe_widths, width_penalty
from invtoolkit.fitting.table import ScoreTable, y_grid

from test_fitting import SHAPE, synthetic, truth_grid


def slit(width: int, shape=SHAPE) -> np.ndarray:
    g = np.zeros(shape, np.uint8)
    g[:, 1:1 + width] = 1
    return g


def test_width_penalty_by_hand():
    g = slit(2)  # 20 cells of width 2
    g[5:9, 5:9] = 1  # and 16 of width 4
    assert width_penalty(g[None], 2)[0] == 0.0
    assert np.isclose(width_penalty(g[None], 4)[0], WIDTH_PENALTY + (20 - 16) / 36)
    assert np.isclose(width_penalty(g[None], 3)[0], WIDTH_PENALTY + 20 / 36)  # no cell at 3: further off


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**32 - 1), st.sampled_from([(7, 9), (10, 10), (4, 5, 6)]))
def test_dominant_widths_are_the_descriptors(seed, shape):
    rng = np.random.default_rng(seed)
    grids = (rng.random((6, *shape)) < rng.uniform(0.2, 0.9, (6,) + (1,) * len(shape))).astype(np.uint8)
    grids = grids[grids.reshape(6, -1).any(axis=1)]
    shares = batch_width_shares(grids)
    assert np.allclose(shares.sum(axis=1), 1.0)
    expected = [d["dominant_width"] for d in batch_descriptors(grids, len(shape))]
    assert dominant_widths(shares).tolist() == expected


def test_a_width_objective_adds_the_penalty_to_scores_and_to_every_point():
    m = synthetic("water", 298.0, 2.0, 5.0)
    base = MaterialObjective([m])
    grids = np.stack([truth_grid(), slit(2), slit(4)])
    curves = base.simulator([2.0]).simulate(grids)
    restricted = WidthObjective(base, 3)
    penalty = width_penalty(grids, 3)
    assert penalty[0] == 0 and penalty[1:].min() >= WIDTH_PENALTY
    assert np.allclose(restricted.scores(curves, grids), base.scores(curves) + penalty)
    assert np.allclose(restricted.point_errors(curves, grids).mean(axis=1), restricted.scores(curves, grids))


def test_the_plan_splits_the_budget_by_side_and_passes_on_what_a_closed_side_leaves():
    plan = ProbePlan(900, side=10)
    assert plan.next(np.array([3, 4])) == (-1, 2, int(450 * FIRST_SHARE))
    plan.finish(-1)  # width 2 not allowed: its 150 left go to the wider side
    assert plan.next(np.array([3, 4])) == (1, 5, int(600 * FIRST_SHARE))
    assert plan.next(np.array([3, 5])) == (1, 6, 200)  # the side's second and last probe
    assert plan.next(np.array([3, 6])) is None
    edge = ProbePlan(900, side=10)  # width 1 allowed: nothing is narrower, all to the wider side
    assert edge.next(np.array([1, 2])) == (1, 3, int(900 * FIRST_SHARE))


def test_a_table_grown_by_add_matches_a_table_built_at_once(rng=np.random.default_rng(2)):
    m = synthetic("water", 298.0, 2.0, 5.0)
    objective = MaterialObjective([m])
    a, b = (rng.random((2, 5, *SHAPE)) < 0.5).astype(np.uint8)
    grown = ScoreTable(objective, a, [[0]])
    grown.scores([1.5]), grown.scores([2.5])
    grown.add(b)
    whole = ScoreTable(objective, np.concatenate([a, b]), [[0]])
    for y in (1.5, 2.5):  # equal to the kernel's tolerance: a lane's last sweep depends on its lane-mates
        assert np.allclose(grown.curves([y]), whole.curves([y]), rtol=0, atol=1e-6)
    assert grown.evaluations == whole.evaluations == 20  # every grid simulated once per y


def test_probes_widen_outwards_while_families_are_allowed_and_stop_at_the_edges():
    m = synthetic("water", 298.0, 2.0, 5.0)
    table = ScoreTable(MaterialObjective([m]), truth_grid()[None], [[0]])  # all width 3
    calls = []

    def run(objective, point, budget, seeds, label):
        calls.append((objective.width, point, budget, len(seeds)))
        return slit(objective.width)[None]  # a family member of the probed width

    values = [y_grid(1.5, 2.5)]
    loose = probe_widths(run, table, [2.0], values, 0.0, 1.0, 3000)  # tolerance 1: every family allowed
    assert loose == [(2, True), (4, True), (1, True), (5, True)]
    assert sum(c[2] for c in calls) == 3000 and len(table.grids) == 5
    assert all(point == [1.5] if w < 3 else point == [2.5] for w, point, _, _ in calls)  # narrower: weaker wall
    calls.clear()
    strict = probe_widths(run, ScoreTable(table.objective, truth_grid()[None], [[0]]), [2.0], values, 0.0, 1e-9, 3000)
    assert strict == [(2, False), (4, False)] and len(calls) == 2
