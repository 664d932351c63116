"""The six-nines count on a tiny model: the same errors as a direct count."""

import numpy as np
import pytest
import torch

from lab import accuracy, models, task
from lab.data import AdditionData
from lab.train import EVAL_NINE_SHARE


@pytest.fixture(scope="module")
def half_trained(tmp_path_factory):
    """A tiny 2-digit model stopped early, so that it still makes mistakes."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(models.CACHE_ENV, str(tmp_path_factory.mktemp("cache")))
        return models.load_or_train("tiny", {"steps": 150, "n_checkpoints": 2, "eval_every": 150}, log=None)


def _direct_count(model, data, n, share, rng):
    """Wrong answers counted by greedy decoding from the prompt, digit by digit (not the
    teacher-forced scoring that ``count_errors`` uses), and each problem's class."""
    batch = task.sample(data.task, rng, n, share, split="heldout")
    prompt_len = data.task.answer_positions[0]
    tokens = torch.as_tensor(batch.tokens[:, :prompt_len])
    with torch.no_grad():
        for _ in range(data.task.answer_len):
            tokens = torch.cat([tokens, model(tokens)[:, -1].argmax(-1, keepdim=True)], dim=1)
    decoded = tokens[:, prompt_len:].numpy()
    return (decoded != batch.answers).any(1), batch.cascade_class


def test_error_counts_match_a_direct_count(half_trained):
    data = AdditionData(2)
    counts = accuracy.count_errors(half_trained.model, data, n_uniform=300, n_enriched=300, seed=5, chunk=128)
    rng = np.random.default_rng(5)
    uniform_wrong, _ = (
        np.concatenate([_direct_count(half_trained.model, data, m, 0.0, rng)[0] for m in (128, 128, 44)]),
        None,
    )
    enriched = [_direct_count(half_trained.model, data, m, EVAL_NINE_SHARE, rng) for m in (128, 128, 44)]
    enriched_wrong = np.concatenate([w for w, _ in enriched])
    classes = np.concatenate([c for _, c in enriched])
    assert 0 < counts.uniform_errors < 300  # a model that errs, so the count means something
    assert counts.uniform_errors == int(uniform_wrong.sum())
    assert list(counts.class_n) == np.bincount(classes, minlength=3).tolist()
    assert list(counts.class_errors) == [int(enriched_wrong[classes == c].sum()) for c in range(3)]
    assert not counts.six_nines(min_uniform=300)


def test_six_nines_rule():
    perfect = accuracy.ErrorCounts(1_000_000, 0, (500_000, 400_000, 10_000), (0, 40, 1))
    assert perfect.six_nines()
    assert not accuracy.ErrorCounts(1_000_000, 1, (10,), (0,)).six_nines()
    assert not accuracy.ErrorCounts(999_999, 0, (10,), (0,)).six_nines()
    assert not accuracy.ErrorCounts(1_000_000, 0, (500_000, 9_999), (0, 1)).six_nines()  # 1.0001e-4
