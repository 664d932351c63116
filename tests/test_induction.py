"""Induction and previous-token scores against hand-built patterns and a hand computation
on a model's patterns; the change-point detector against a planted step."""

import numpy as np
import pytest
import torch

from lab.analysis import attention, induction
from lab.data import RepeatData
from lab.dynamics import find_step
from lab.models import ModelConfig, build_model
from lab.train import checkpoint_steps

SPAN = 6
DATA = RepeatData(span=SPAN, vocab=20)


@pytest.fixture(scope="module")
def tokens() -> torch.Tensor:
    """Rows [0, x_1..x_6, x_1..x_6] whose span has no repeated token, so every query of
    the second copy has exactly one induction target."""
    rng = np.random.default_rng(0)
    spans = np.stack([rng.permutation(np.arange(1, DATA.vocab))[:SPAN] for _ in range(5)])
    return torch.as_tensor(np.concatenate([np.zeros((5, 1), dtype=np.int64), spans, spans], 1))


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    cfg = ModelConfig(n_layers=2, d_model=32, n_heads=2, d_mlp=0, attn_only=True)
    return build_model(cfg, DATA, device="cpu").eval()


def mixed_pattern(seq: int, target: dict[int, int], weight: float) -> torch.Tensor:
    """A causal pattern ``[seq, seq]``: query q puts ``weight`` on key ``target[q]`` and the
    rest on BOS (position 0); queries without a target attend to BOS only."""
    pattern = torch.zeros(seq, seq)
    pattern[:, 0] = 1.0
    for q, k in target.items():
        pattern[q, 0] -= weight
        pattern[q, k] += weight
    return pattern


def test_induction_score_of_a_hand_built_pattern(tokens):
    seq = tokens.shape[1]
    # by hand: the token at q (second copy, q = SPAN+1+i) is x_{i+1}, first seen at
    # position i+1, so an induction head attends to the token after it, i+2 = q - SPAN + 1
    induction_keys = {q: q - SPAN + 1 for q in range(SPAN + 1, seq)}
    head = mixed_pattern(seq, induction_keys, 0.7)
    other = mixed_pattern(seq, {}, 0.0)
    pattern = torch.stack([head, other])[None, None].expand(len(tokens), 1, 2, seq, seq)
    detection = induction.detection_patterns(tokens, "induction")

    scores = induction.head_scores(pattern, detection)
    assert scores[0, 0] == pytest.approx(0.7, abs=1e-6)
    assert scores[0, 1] == pytest.approx(0.0, abs=1e-6)
    # over all rows, only the SPAN queries of the second copy out of seq rows score
    diluted = induction.head_scores(pattern, detection, targets_only=False)
    assert diluted[0, 0] == pytest.approx(0.7 * SPAN / seq, abs=1e-6)


def test_restricted_queries_leave_the_others_out(tokens):
    seq = tokens.shape[1]
    # a head that attends to its induction target only at the first half of the
    # second copy's queries, and to BOS at the rest
    first_half = list(range(SPAN + 1, SPAN + 1 + SPAN // 2))
    head = mixed_pattern(seq, {q: q - SPAN + 1 for q in first_half}, 0.7)
    pattern = head[None, None, None].expand(len(tokens), 1, 1, seq, seq)
    detection = induction.detection_patterns(tokens, "induction")
    assert induction.head_scores(pattern, detection)[0, 0] == pytest.approx(0.35, abs=1e-6)
    restricted = induction.restrict_queries(detection, np.array(first_half))
    assert induction.head_scores(pattern, restricted)[0, 0] == pytest.approx(0.7, abs=1e-6)
    assert restricted[:, first_half].equal(detection[:, first_half])
    assert restricted.sum() == detection[:, first_half].sum()
    assert induction.restrict_queries(detection, None) is detection


def test_previous_token_score_of_a_hand_built_pattern(tokens):
    seq = tokens.shape[1]
    head = mixed_pattern(seq, {q: q - 1 for q in range(2, seq)}, 0.4)  # query 1's previous is BOS
    pattern = head[None, None, None].expand(len(tokens), 1, 1, seq, seq)
    detection = induction.detection_patterns(tokens, "previous_token")
    # targets_only drops query 0 (no previous token); query 1 scores 1, queries 2.. score 0.4
    expected = (1.0 + 0.4 * (seq - 2)) / (seq - 1)
    assert induction.head_scores(pattern, detection)[0, 0] == pytest.approx(expected, abs=1e-6)


def targets_by_hand(detector: str, seq: int) -> dict[int, int]:
    """Query -> key of a perfect ``detector`` head on the fixture's rows, read off their layout."""
    if detector == "induction":  # as in test_induction_score_of_a_hand_built_pattern
        return {q: q - SPAN + 1 for q in range(SPAN + 1, seq)}
    return {q: q - 1 for q in range(1, seq)}


@pytest.mark.parametrize("targets_only,exclude_bos", [(True, False), (False, True)])
def test_scores_of_a_model_match_a_hand_computation(model, tokens, targets_only, exclude_bos):
    """Each head's score on each row, written out: its attention on the targets over its
    attention from the scored queries (all, or only those with a target), BOS left out
    or not; then the mean over rows. No TransformerLens scoring involved."""
    pattern = attention.patterns(model, tokens)  # [batch, layer, head, q, k]
    seq = tokens.shape[1]
    for detector in ("induction", "previous_token"):
        targets = targets_by_hand(detector, seq)
        queries = list(targets) if targets_only else list(range(seq))
        expected = torch.zeros(2, 2)
        for layer in range(2):
            for head in range(2):
                per_row = []
                for row in range(len(tokens)):
                    attn = pattern[row, layer, head].clone()
                    if exclude_bos:
                        attn[:, 0] = 0
                    on_targets = sum(attn[q, k] for q, k in targets.items())
                    per_row.append(on_targets / attn[queries].sum())
                expected[layer, head] = torch.stack(per_row).mean()
        ours = induction.head_scores(
            pattern, induction.detection_patterns(tokens, detector), targets_only=targets_only, exclude_bos=exclude_bos
        )
        assert expected.min() > 0.01  # a real quantity on every head
        torch.testing.assert_close(ours, expected)
    assert pattern.sum(-1).allclose(torch.ones(())), "scoring must not modify the patterns"


def test_loss_and_accuracy_score_the_next_token(model, tokens):
    logits = model(tokens).log_softmax(-1)[:, :-1]
    expected_loss = -logits.gather(-1, tokens[:, 1:, None])[..., 0].mean(0)
    expected_acc = (logits.argmax(-1) == tokens[:, 1:]).float().mean(0)
    loss, acc = induction.loss_and_accuracy(model, tokens)
    torch.testing.assert_close(loss, expected_loss.detach(), atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(acc, expected_acc)


@pytest.mark.parametrize("k", [1, 3, 7])
def test_repeat_rows_end_with_a_span_of_exactly_k_tokens_shown_twice(k):
    rows = induction.repeat_rows(np.random.default_rng(0), 500, 15, k, vocab=5)
    assert rows.shape == (500, 15) and (rows[:, 0] == 0).all() and (rows[:, 1:] > 0).all()
    np.testing.assert_array_equal(rows[:, -k:], rows[:, -2 * k : -k])
    # the filler and the span are drawn independently: a longer repeat is only chance
    # (vocab 4: 1/4 per extra token), not the rule
    if 2 * k + 1 < 15:
        longer = (rows[:, -k - 1] == rows[:, -2 * k - 1]).mean()
        assert longer == pytest.approx(1 / 4, abs=0.07)


def test_copy_positions_predict_the_two_copies():
    k, seq_len = 4, 15
    rows = induction.repeat_rows(np.random.default_rng(0), 3, seq_len, k, vocab=50)
    positions = induction.copy_positions(seq_len, k)
    # position p predicts token p+1: the first copy x_1..x_4 sits at 7..10, the repeat at 11..14
    np.testing.assert_array_equal(positions["first"] + 1, np.arange(7, 11))
    np.testing.assert_array_equal(positions["repeat"] + 1, np.arange(12, 15))  # x_2'..x_4'
    np.testing.assert_array_equal(rows[:, positions["repeat"] + 1], rows[:, positions["first"][1:] + 1])


def test_repeat_rows_reject_a_span_that_does_not_fit():
    with pytest.raises(ValueError, match="does not fit"):
        induction.repeat_rows(np.random.default_rng(0), 2, 15, 8, vocab=5)


@pytest.mark.parametrize("direction", [1.0, -1.0])
def test_phase_change_is_found_at_a_planted_step(direction):
    """The experiment locates the phase change with lab.dynamics.find_step on series
    sampled like a checkpoint series (dense early, then even): a planted rise (score) or
    drop (loss) at step 137 is found at the first checkpoint from 137 on."""
    rng = np.random.default_rng(1)
    steps = checkpoint_steps(600, 60)
    values = direction * (np.array(steps) >= 137) + rng.normal(scale=0.05, size=len(steps))
    assert find_step(steps, values).at == min(s for s in steps if s >= 137)


def test_unknown_detector_is_named(tokens):
    with pytest.raises(ValueError, match="duplicate"):
        induction.detection_patterns(tokens, "duplicate")
