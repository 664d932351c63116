"""The answer-only forward (``lab.inference``) scores as the TransformerBridge does:
the same logits at the answer positions up to rounding, and the same right and wrong
answers, problem by problem, on a model that still errs."""

import numpy as np
import pytest
import torch

from lab import accuracy, inference, models, task
from lab.data import AdditionData
from lab.train import EVAL_NINE_SHARE, position_scores


@pytest.fixture(scope="module")
def erring(tmp_path_factory):
    """The tiny preset half way through training: right on most problems, not all."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(models.CACHE_ENV, str(tmp_path_factory.mktemp("cache")))
        return models.load_or_train("tiny", log=None).at_step(300)


@pytest.fixture(autouse=True)
def problem_cache(tmp_path, monkeypatch):
    """Held-out sets (``accuracy.held_out``) drawn into a cache of the test's own, not the
    user's ``.cache/``."""
    monkeypatch.setenv(models.CACHE_ENV, str(tmp_path))
    accuracy.held_out.cache_clear()


def _bridge_right(model, batch: task.Batch) -> np.ndarray:
    """``[batch]`` bool: every answer position's arg-max is the next token, through the bridge."""
    _, correct = position_scores(model, torch.as_tensor(batch.tokens), batch.task.predict_positions)
    return correct.all(1).numpy()


def test_right_answers_are_the_bridges_problem_by_problem(erring):
    data = AdditionData(2)
    rng = np.random.default_rng(11)
    for share in (0.0, EVAL_NINE_SHARE):
        batch = task.sample(data.task, rng, 3000, share, split="heldout")
        fast = inference.answers_right(erring, batch.tokens, data.task.predict_positions, chunk=512)
        bridge = _bridge_right(erring, batch)
        assert 0 < (~bridge).sum() < len(bridge)  # some wrong answers, so agreement means something
        np.testing.assert_array_equal(fast, bridge)


def test_counts_are_the_bridges(erring):
    data = AdditionData(2)
    counts = accuracy.count_errors(erring, data, n_uniform=2000, n_enriched=2000, seed=3, chunk=700)
    rng = np.random.default_rng(3)
    uniform = [task.sample(data.task, rng, m, 0.0, split="heldout") for m in (700, 700, 600)]
    enriched = [task.sample(data.task, rng, m, EVAL_NINE_SHARE, split="heldout") for m in (700, 700, 600)]
    assert counts.uniform_errors == sum(int((~_bridge_right(erring, b)).sum()) for b in uniform)
    classes = np.concatenate([b.cascade_class for b in enriched])
    wrong = np.concatenate([~_bridge_right(erring, b) for b in enriched])
    assert list(counts.class_errors) == [int(wrong[classes == c].sum()) for c in range(3)]
    assert counts.uniform_errors > 0


@pytest.mark.parametrize("shared", [0, 6])
@pytest.mark.parametrize("preset", ["add2-fast", "add1", "attn2"])
def test_logits_at_the_answer_positions_are_the_bridges(preset, shared):
    """Untrained models of the lab's shapes on 5-digit addition: two layers, one layer
    (the last block is the first), attention only (no MLP); the first operand and its
    "+" computed per problem, and once per operand (5 operands among 256 problems)."""
    torch.manual_seed(0)
    data = AdditionData(5)
    bridge = models.build_model(models.resolve(preset, {}).model, data)
    data_task = data.task
    batch = task.sample(data_task, np.random.default_rng(0), 256, 0.0, split="heldout")
    tokens = torch.as_tensor(batch.tokens)
    tokens[:, :6] = tokens[torch.arange(256) % 5, :6]
    positions = torch.as_tensor(data_task.predict_positions)
    with torch.no_grad():
        expected = bridge(tokens)[:, positions]
        got = inference.AnswerForward(bridge)(tokens, positions, shared)
    assert got.shape == expected.shape
    torch.testing.assert_close(got, expected, rtol=0, atol=1e-5)


def test_scoring_chunks_side_by_side_changes_nothing_and_restores_the_thread_count(erring):
    """The pool scores each chunk with single-threaded ops: the same answers as one
    chunk on the caller's threads, and the caller's thread count back afterwards."""
    data = AdditionData(2)
    tokens = task.sample(data.task, np.random.default_rng(4), 3000, 0.0, split="heldout").tokens
    positions = data.task.predict_positions
    whole = inference.answers_right(erring, tokens, positions, chunk=len(tokens))
    threads = torch.get_num_threads()
    try:
        torch.set_num_threads(2)
        chunked = inference.answers_right(erring, tokens, positions, chunk=256)
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(threads)
    assert (~whole).sum() > 0
    np.testing.assert_array_equal(chunked, whole)
    np.testing.assert_array_equal(inference.answers_right(erring, tokens.astype(np.uint8), positions), whole)


def test_sharing_the_first_operand_changes_no_answer(erring, monkeypatch):
    """The first operand's positions computed once per operand give every problem the
    answer that computing them per problem gives, returned in the order given."""
    data = AdditionData(2)
    tokens = task.sample(data.task, np.random.default_rng(6), 3000, 0.0, split="heldout").tokens
    positions = data.task.predict_positions
    forward, shared_by_call = inference.AnswerForward.forward, []

    def spied(self, tokens, positions, shared=0):
        shared_by_call.append(shared)
        return forward(self, tokens, positions, shared)

    monkeypatch.setattr(inference.AnswerForward, "forward", spied)
    each = inference.answers_right(erring, tokens, positions)
    assert set(shared_by_call) == {0}
    shared = inference.answers_right(erring, tokens, positions, shared=3)  # 100 operands, 30 problems each
    assert set(shared_by_call) == {0, 3}
    assert 0 < (~each).sum() < len(each)
    np.testing.assert_array_equal(shared, each)


def test_positions_read_inside_the_shared_ones_are_refused(erring):
    tokens = torch.zeros((4, 7), dtype=torch.long)
    with pytest.raises(ValueError, match="read inside"):
        inference.AnswerForward(erring)(tokens, torch.tensor([4, 5]), shared=5)
