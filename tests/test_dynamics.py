"""lab.dynamics: step detection finds planted steps; curves per digit and carry case."""

import numpy as np
import pytest
import torch

from lab import dynamics
from lab.data import AdditionData
from lab.models import PRESETS, TrainedModel, build_model
from lab.task import AdditionTask, enumerate_all


def test_find_step_finds_a_planted_step_in_noise():
    rng = np.random.default_rng(0)
    x = np.arange(0, 2000, 10)
    y = np.where(x < 730, 2.3, 0.69) + rng.normal(0, 0.1, len(x))
    step = dynamics.find_step(x, y)
    assert step.at == 730
    assert step.before == pytest.approx(2.3, abs=0.05) and step.after == pytest.approx(0.69, abs=0.05)
    assert step.size < 0


def test_find_step_locates_a_smooth_drop_at_its_middle():
    x = np.arange(0, 3000, 20)
    y = 1.0 / (1 + np.exp((x - 1500) / 40))
    assert abs(dynamics.find_step(x, y).at - 1500) <= 20


def test_find_step_ignores_nans_and_needs_two_points():
    assert dynamics.find_step([0, 1, 2, 3], [1.0, np.nan, 0.0, 0.0]).at == 2
    with pytest.raises(ValueError):
        dynamics.find_step([0], [1.0])


def test_crossing_interpolates_and_reports_never():
    x = np.array([0, 100, 200])
    assert dynamics.crossing(x, np.array([0.0, 0.5, 1.0]), 0.75) == pytest.approx(150)
    assert dynamics.crossing(x, np.array([2.0, 1.0, 0.0]), 0.5) == pytest.approx(150)
    assert np.isnan(dynamics.crossing(x, np.array([0.0, 0.1, 0.2]), 0.9))


def test_case_curves_score_each_checkpoint_per_digit_and_case():
    preset = PRESETS["tiny"]
    data = AdditionData(2)
    model = build_model(preset.model, data, device="cpu")
    first = {k: v.clone() for k, v in model.original_model.state_dict().items()}
    with torch.no_grad():
        for p in model.original_model.parameters():
            p.mul_(0.5)
    second = {k: v.clone() for k, v in model.original_model.state_dict().items()}
    trained = TrainedModel(model, preset, {}, {0: first, 7: second})
    every_37th = np.arange(10_000) % 37 == 0
    everything = enumerate_all(AdditionTask(2))
    batch = everything.task.batch(everything.a_digits[every_37th], everything.b_digits[every_37th])
    curves = dynamics.case_curves(trained, batch)
    assert curves.loss.shape == (2, 3, 3) and curves.labels == ["A2", "A1", "A0"]
    assert not np.allclose(curves.loss[0], curves.loss[1])  # each checkpoint's own weights
    units = curves.labels.index("A0")
    assert np.isnan(curves.loss[:, units, 1:]).all()  # the units digit never has a carry
    cases = batch.cases
    pos = batch.task.predict_positions
    with torch.no_grad():
        logits = trained.at_step(7)(torch.as_tensor(batch.tokens))[:, pos]
    loss = torch.nn.functional.cross_entropy(
        logits.transpose(1, 2), torch.as_tensor(batch.tokens[:, pos + 1]), reduction="none"
    ).numpy()
    tens = curves.labels.index("A1")
    assert curves.loss[1, tens, 1] == pytest.approx(loss[cases[:, tens] == 1, tens].mean(), rel=1e-5)


# --------------------------------------------------------------------------- the shelf


def planted_shelf(x: np.ndarray, learn_sum: float, learn_carry: float) -> tuple[np.ndarray, ...]:
    """Curves of a digit that learns its column sum at ``learn_sum`` and its carry at
    ``learn_carry``: mass rising to 1, information rising from 0 to 1, and the loss."""
    mass = 1 / (1 + np.exp(-(x - learn_sum) / 8))
    info = 1 / (1 + np.exp(-(x - learn_carry) / 8)) - 1 / (1 + np.exp(learn_carry / 8))
    loss = -np.log(0.1 + 0.9 * mass) + 0.688 * (1 - info)
    return mass, info, loss


def test_find_shelf_brackets_a_planted_shelf_and_measures_it():
    x = np.arange(0, 601, 10)
    mass, info, loss = planted_shelf(x, learn_sum=100, learn_carry=300)
    shelf = dynamics.find_shelf(x, mass, info, loss, min_mass=0.8, max_info=0.05)
    # mass >= 0.8 from x = 100 + 8 ln 4 = 111.1; info <= 0.05 until x = 300 - 8 ln 19 = 276.4
    assert (shelf.start, shelf.end, shelf.length) == (120, 270, 150)
    assert shelf.checkpoints == 16 and shelf.middle == 190
    on = (x >= 120) & (x <= 270)
    assert shelf.depth == pytest.approx(loss[on].mean())


def test_find_shelf_takes_the_longest_run_and_ignores_nans_and_leaning_splits():
    x = np.arange(0, 200, 10.0)
    mass = np.full(len(x), 0.9)
    info = np.zeros(len(x))
    info[[3, 12]] = 0.2  # two breaks: runs 0-2, 4-11, 13-19
    info[15] = np.nan  # splits the last run further
    shelf = dynamics.find_shelf(x, mass, info, np.ones(len(x)))
    assert (shelf.start, shelf.end) == (40, 110)
    info[5] = -0.3  # a split leaning against the carry is information too
    assert (dynamics.find_shelf(x, mass, info, np.ones(len(x))).start) == 60
    assert dynamics.find_shelf(x, mass * 0.5, info, np.ones(len(x))) is None


def test_find_shelf_single_checkpoint_has_length_zero():
    shelf = dynamics.find_shelf([0, 10, 20], [0.1, 0.9, 0.9], [0.0, 0.0, 0.5], [2.0, 0.7, 0.1])
    assert (shelf.start, shelf.length, shelf.middle, shelf.depth) == (10, 0, 10, 0.7)


def test_find_shelf_thresholds_are_inclusive():
    # 0.75 and 0.0625 are exact in binary: a checkpoint exactly at either threshold is on.
    x = np.array([0, 10, 20, 30, 40])
    shelf = dynamics.find_shelf(x, [0.5, 0.75, 0.9, 0.9, 0.9], [0, 0, 0, 0.5, 0.5], np.ones(5), 0.75, 0.0625)
    assert (shelf.start, shelf.end) == (10, 20)
    shelf = dynamics.find_shelf(x, [0.5, 0.9, 0.9, 0.9, 0.9], [0, 0, -0.0625, 0.0625, 0.5], np.ones(5), 0.75, 0.0625)
    assert (shelf.start, shelf.end) == (10, 30)


def test_find_shelf_takes_the_first_of_two_equally_long_runs():
    x = np.arange(0, 100, 10)
    info = np.array([0, 0, 0, 1, 1, 1, 0, 0, 0, 1.0])
    assert dynamics.find_shelf(x, np.ones(10), info, np.ones(10)).start == 0
    info = np.array([1, 0, 0, 0, 1, 1, 0, 0, 0, 1.0])
    assert dynamics.find_shelf(x, np.ones(10), info, np.ones(10)).start == 10


def test_find_shelf_measures_runs_in_steps_on_uneven_checkpoints():
    # Dense checkpoints early, sparse late: the second run has fewer checkpoints
    # (3 against 6) but lasts longer in steps (400 against 50), so it is the shelf.
    x = np.array([0, 10, 20, 30, 40, 50, 60, 100, 300, 500, 900])
    info = np.array([0, 0, 0, 0, 0, 0, 1, 1, 0, 0, 0.0])
    shelf = dynamics.find_shelf(x, np.ones(11), info, np.arange(11.0))
    assert (shelf.start, shelf.end, shelf.length, shelf.checkpoints) == (300, 900, 600, 3)
    assert shelf.middle == 500 and shelf.depth == pytest.approx(9.0)
    # Its middle is the checkpoint nearest the midpoint in steps (500), not the middle one (20).
    shelf = dynamics.find_shelf([0, 10, 20, 30, 1000], np.ones(5), np.zeros(5), np.ones(5))
    assert shelf.middle == 30 and shelf.length == 1000


def test_transition_locates_a_drop_between_sparse_checkpoints():
    # A loss dropping from 2 to 0.5 at step 237, seen at checkpoints 93, 211, 263, 400:
    # the step fit can only say 263 (or 211); the transition passes 1.25 between them.
    fine = np.arange(0, 601)
    loss = 0.5 + 1.5 / (1 + np.exp((fine - 237) / 10))
    x = np.array([0, 30, 61, 93, 211, 263, 400, 600])
    at = dynamics.transition(x, loss[x])
    assert dynamics.find_step(x, loss[x]).at in (211, 263)
    assert 211 < at < 263 and at == pytest.approx(237, abs=8)
    assert dynamics.transition(fine, loss) == pytest.approx(237, abs=0.5)
