"""The per-checkpoint score cache: a hit gives the numbers a fresh scoring gives, a
change in the scoring code or the problems misses, a corrupt entry is scored again."""

import numpy as np
import pytest

from lab import carry, dynamics, fingerprint, models, scores
from lab.analysis import problems


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(models.CACHE_ENV, str(tmp_path_factory.mktemp("cache")))
        return models.load_or_train("tiny", log=None)


@pytest.fixture
def counted(monkeypatch):
    """The number of checkpoints each test actually scored (not read from the cache)."""
    calls = []
    real = carry.carry_log_probs

    def counting(model, batch, *args, **kwargs):
        calls.append(1)
        return real(model, batch, *args, **kwargs)

    monkeypatch.setattr(carry, "carry_log_probs", counting)
    return calls


def _fresh(trained, batch) -> list[carry.CarryLogProbs]:
    return [carry.carry_log_probs(model, batch) for _, model in dynamics.checkpoint_models(trained)]


def test_a_hit_gives_the_fresh_numbers_and_scores_nothing(trained, counted, tmp_path):
    trained = _with_path(trained, tmp_path)
    batch = problems.heldout(trained.task, 1, 300)
    first = carry.checkpoint_log_probs(trained, batch)
    assert len(counted) == len(trained.steps)
    second = carry.checkpoint_log_probs(trained, batch)
    assert len(counted) == len(trained.steps)  # nothing scored again
    fresh = _fresh(trained, batch)
    for a, b, c in zip(first, second, fresh):
        np.testing.assert_array_equal(a.logp0, c.logp0)
        np.testing.assert_array_equal(b.logp0, c.logp0)
        np.testing.assert_array_equal(b.logp1, c.logp1)
        assert b.logp0.dtype == c.logp0.dtype


def test_other_problems_miss(trained, counted, tmp_path):
    trained = _with_path(trained, tmp_path)
    carry.checkpoint_log_probs(trained, problems.heldout(trained.task, 1, 300))
    carry.checkpoint_log_probs(trained, problems.heldout(trained.task, 2, 300))
    assert len(counted) == 2 * len(trained.steps)


@pytest.mark.parametrize(
    ("edited", "scored"),
    [
        ("lab/carry.py:carry_log_probs", 2),  # the code that computes the scores: a miss
        ("lab/carry.py:decompose_loss", 1),  # an analysis that only reads them: still a hit
    ],
)
def test_an_edit_misses_only_in_the_scoring_code(trained, counted, tmp_path, monkeypatch, edited, scored):
    trained = _with_path(trained, tmp_path)
    batch = problems.heldout(trained.task, 1, 300)
    carry.checkpoint_log_probs(trained, batch)
    real = fingerprint.current

    def current(refs, *args, **kwargs):  # as if ``edited``'s source had changed
        return {ref: ("edited" if ref == edited else value) for ref, value in real(refs, *args, **kwargs).items()}

    monkeypatch.setattr(fingerprint, "current", current)
    carry.checkpoint_log_probs(trained, batch)
    assert len(counted) == scored * len(trained.steps)


@pytest.mark.parametrize("damage", ["truncate", "flip", "garbage"])
def test_a_corrupt_entry_is_scored_again(trained, counted, tmp_path, damage):
    trained = _with_path(trained, tmp_path)
    batch = problems.heldout(trained.task, 1, 300)
    carry.checkpoint_log_probs(trained, batch)
    entry = next(trained.path.with_suffix(".scores").rglob(f"{trained.steps[-1]}.npz"))
    blob = entry.read_bytes()
    entry.write_bytes(
        {"truncate": blob[: len(blob) // 2], "flip": blob[:-9] + bytes([blob[-9] ^ 1]) + blob[-8:], "garbage": b"x"}[
            damage
        ]
    )
    again = carry.checkpoint_log_probs(trained, batch)
    assert len(counted) == len(trained.steps) + 1  # only the damaged one
    np.testing.assert_array_equal(again[-1].logp0, _fresh(trained, batch)[-1].logp0)
    assert scores.read(entry) is not None  # replaced by a good entry


def test_case_curves_are_the_same_from_the_cache(trained, tmp_path):
    trained = _with_path(trained, tmp_path)
    batch = problems.heldout(trained.task, 1, 300)
    first, second = dynamics.case_curves(trained, batch), dynamics.case_curves(trained, batch)
    np.testing.assert_array_equal(first.loss, second.loss)
    np.testing.assert_array_equal(first.acc, second.acc)
    assert list(trained.path.with_suffix(".scores").glob("position-scores-*"))


def test_a_model_outside_the_cache_is_scored_every_time(trained, counted):
    outside = models.TrainedModel(trained.model, trained.preset, trained.history, trained.checkpoints, None)
    batch = problems.heldout(outside.task, 1, 300)
    carry.checkpoint_log_probs(outside, batch)
    carry.checkpoint_log_probs(outside, batch)
    assert len(counted) == 2 * len(outside.steps)


def test_scoring_code_that_does_not_exist_is_an_error(trained, tmp_path):
    trained = _with_path(trained, tmp_path)
    with pytest.raises(LookupError, match="lab/carry.py:no_such_function"):
        scores.over_checkpoints(trained, "x", ["lab/carry.py:no_such_function"], np.zeros((2, 3)), lambda m: {})


def _with_path(trained: models.TrainedModel, folder) -> models.TrainedModel:
    """``trained`` as if cached in ``folder`` (each test its own score cache)."""
    return models.TrainedModel(
        trained.model, trained.preset, trained.history, trained.checkpoints, folder / "tiny-0.pt"
    )
