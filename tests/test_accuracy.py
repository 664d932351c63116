"""The six-nines count on a tiny model: the same errors as a direct count; the walk over
a checkpoint series agrees with counting each checkpoint, and follows planted counts."""

from dataclasses import replace

import numpy as np
import pytest
import torch

from lab import accuracy, inference, models, scores, task
from lab.data import AdditionData
from lab.train import EVAL_NINE_SHARE


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """The tiny preset trained to the end, with its checkpoint series."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(models.CACHE_ENV, str(tmp_path_factory.mktemp("cache")))
        return models.load_or_train("tiny", log=None)


@pytest.fixture(autouse=True)
def problem_cache(tmp_path, monkeypatch):
    """Each test's held-out sets drawn into a cache of its own (``accuracy.held_out``)."""
    monkeypatch.setenv(models.CACHE_ENV, str(tmp_path))
    accuracy.held_out.cache_clear()


@pytest.fixture(scope="module")
def half_trained(trained):
    """The tiny model half way through training, so that it still makes mistakes."""
    return trained.at_step(300)


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
    counts = accuracy.count_errors(half_trained, data, n_uniform=300, n_enriched=300, seed=5, chunk=128)
    rng = np.random.default_rng(5)
    uniform_wrong, _ = (
        np.concatenate([_direct_count(half_trained, data, m, 0.0, rng)[0] for m in (128, 128, 44)]),
        None,
    )
    enriched = [_direct_count(half_trained, data, m, EVAL_NINE_SHARE, rng) for m in (128, 128, 44)]
    enriched_wrong = np.concatenate([w for w, _ in enriched])
    classes = np.concatenate([c for _, c in enriched])
    assert 0 < counts.uniform_errors < 300  # a model that errs, so the count means something
    assert counts.uniform_errors == int(uniform_wrong.sum())
    assert list(counts.class_n) == np.bincount(classes, minlength=3).tolist()
    assert list(counts.class_errors) == [int(enriched_wrong[classes == c].sum()) for c in range(3)]
    assert not counts.six_nines(min_uniform=300)


def test_a_count_that_may_stop_stops_after_its_first_failing_block(half_trained, monkeypatch):
    data, n, block = AdditionData(2), 600, 64
    monkeypatch.setattr(accuracy, "STOP_BLOCK", block)
    problems = accuracy.held_out(data.task, n, n, 5, 100_000)
    wrong = ~inference.answers_right(half_trained, problems.uniform, data.task.predict_positions)
    end = (int(np.argmax(wrong)) // block + 1) * block  # the end of the first block with a wrong answer
    assert wrong.any() and end < n  # the model errs early enough for a stop to leave problems out

    stopped = accuracy.count_errors(half_trained, data, n, n, seed=5, stop_at_failure=True)
    assert stopped == accuracy.ErrorCounts(end, int(wrong[:end].sum()), (0, 0, 0), (0, 0, 0), stopped=True)
    whole = accuracy.count_errors(half_trained, data, n, n, seed=5)
    assert not whole.stopped and (whole.uniform_n, whole.uniform_errors) == (n, int(wrong.sum()))
    assert sum(whole.class_n) == n


def test_a_count_that_may_stop_stops_at_a_class_over_its_allowance(half_trained, monkeypatch):
    """Uniform answers all right, the enriched ones wrong in their last class: the count
    stops after the first enriched block, with that block's class counts."""
    data, n, block = AdditionData(2), 600, 200
    monkeypatch.setattr(accuracy, "STOP_BLOCK", block)
    problems = accuracy.held_out(data.task, n, n, 5, 100_000)
    enriched = problems.enriched

    def answers_right(model, tokens, positions, shared=0):
        if not np.shares_memory(tokens, enriched):
            return np.ones(len(tokens), bool)
        first = (tokens.ctypes.data - enriched.ctypes.data) // enriched.strides[0]
        return problems.enriched_class[first : first + len(tokens)] != 2

    monkeypatch.setattr(accuracy.inference, "answers_right", answers_right)
    counts = accuracy.count_errors(half_trained, data, n, n, seed=5, stop_at_failure=True)
    in_block = np.bincount(problems.enriched_class[:block], minlength=3)
    assert in_block[2] > 0  # the first block fails
    assert counts == accuracy.ErrorCounts(n, 0, tuple(in_block.tolist()), (0, 0, int(in_block[2])), stopped=True)
    whole = accuracy.count_errors(half_trained, data, n, n, seed=5)
    assert not whole.stopped and whole.class_n == tuple(np.bincount(problems.enriched_class, minlength=3).tolist())


def test_six_nines_rule():
    perfect = accuracy.ErrorCounts(1_000_000, 0, (500_000, 400_000, 10_000), (0, 40, 1))
    assert perfect.six_nines()
    assert not accuracy.ErrorCounts(1_000_000, 1, (10,), (0,)).six_nines()
    assert not accuracy.ErrorCounts(999_999, 0, (10,), (0,)).six_nines()
    assert not accuracy.ErrorCounts(1_000_000, 0, (500_000, 9_999), (0, 1)).six_nines()  # 1.0001e-4
    assert perfect.worst_class_rate == 1e-4
    assert accuracy.ErrorCounts(10, 0, (0, 0), (0, 0)).worst_class_rate == 0.0  # no enriched problems


# --------------------------------------------------------------------------- over a checkpoint series


def test_the_walk_agrees_with_counting_every_checkpoint(trained):
    n, screen = 300, 100
    found = accuracy.six_nines_from(trained, n_uniform=n, n_enriched=n, n_screen=screen)
    direct = {}
    for step in trained.steps:
        model = trained.at_step(step)
        direct[step] = (
            accuracy.count_errors(model, trained.data, screen, screen, accuracy.SEED + 1),
            accuracy.count_errors(model, trained.data, n, n),
        )
    clean = {step: [c.six_nines(min_uniform=c.uniform_n) for c in direct[step]] for step in trained.steps}
    # read forwards: the final run of clean screens, then the first of it with a clean full count
    screened = [clean[step][0] for step in trained.steps]
    run = next(i for i in range(len(screened)) if all(screened[i:]))
    expected = next((step for step in trained.steps[run:] if clean[step][1]), None)
    assert expected not in (None, trained.steps[0])  # the model learns during the series
    assert clean[trained.steps[-1]][1] and found.step == expected
    assert [c.step for c in found.checks] == trained.steps[max(0, run - 1) :]
    for check in found.checks:
        assert check.screen == direct[check.step][0]
        if check.full is not None and check.full.stopped:  # a failing candidate start, counted to its failure
            assert check.step < expected and check.full.uniform_errors > 0
            assert check.full.uniform_errors <= direct[check.step][1].uniform_errors
        else:
            assert check.full in (None, direct[check.step][1])
        assert (check.full is not None) == (
            check.step in (trained.steps[-1], *trained.steps[run : trained.steps.index(expected) + 1])
        )
        assert check.passed == (check.step >= expected)
    assert found.final == direct[trained.steps[-1]][1]
    assert found.final.worst_class_rate == max(
        e / n for e, n in zip(found.final.class_errors, found.final.class_n) if n
    )


def planted(monkeypatch, uniform_errors: dict[int, int], class_errors: dict[int, int] | None = None):
    """A checkpoint series whose counts are planted: at each step, ``uniform_errors`` wrong
    uniform answers and ``class_errors`` wrong in the last class (of 10,000), in the
    screen and in the full count alike. Returns the steps each count was asked for."""
    calls = []

    def count_errors(model, data, n_uniform, n_enriched, seed, stop_at_failure=False):
        step = model  # the planted loader hands over the step for the model
        calls.append((step, n_uniform))
        wrong = (class_errors or {}).get(step, 0)
        return accuracy.ErrorCounts(n_uniform, uniform_errors[step], (n_enriched - 10_000, 10_000), (0, wrong))

    steps = sorted(uniform_errors)
    monkeypatch.setattr(accuracy, "count_errors", count_errors)
    monkeypatch.setattr(accuracy, "checkpoint_models", lambda trained, order: ((s, s) for s in order))
    trained = models.TrainedModel(None, models.resolve("tiny"), {}, dict.fromkeys(steps))
    return trained, calls


def test_the_answer_is_the_earliest_step_of_the_final_passing_run(monkeypatch):
    trained, calls = planted(monkeypatch, {0: 50, 100: 3, 200: 0, 300: 0, 400: 0})
    found = accuracy.six_nines_from(trained)
    assert found.step == 200
    assert [c.step for c in found.checks] == [100, 200, 300, 400]
    assert [c.passed for c in found.checks] == [False, True, True, True]
    # screened backwards to the failure at 100 (step 0 never counted); then full counts
    # at the end of the clean run and at its start, not in between
    assert calls == [(400, 20_000), (300, 20_000), (200, 20_000), (100, 20_000), (400, 1_000_000), (200, 1_000_000)]
    assert [c.full is not None for c in found.checks] == [False, True, False, True]
    assert found.final.uniform_errors == 0


def test_a_full_count_failing_at_the_start_of_the_clean_run_moves_the_answer_on(monkeypatch):
    trained, calls = planted(monkeypatch, {0: 50, 100: 0, 200: 0, 300: 0})
    screened = accuracy.count_errors

    def count_errors(model, data, n_uniform, n_enriched, seed, stop_at_failure=False):
        counts = screened(model, data, n_uniform, n_enriched, seed, stop_at_failure)  # step 100: 2 errors per million
        return replace(counts, uniform_errors=2) if (model, n_uniform) == (100, 1_000_000) else counts

    monkeypatch.setattr(accuracy, "count_errors", count_errors)
    found = accuracy.six_nines_from(trained)
    assert found.step == 200
    assert calls[-3:] == [(300, 1_000_000), (100, 1_000_000), (200, 1_000_000)]
    assert [c.passed for c in found.checks] == [False, False, True, True]


def test_a_class_over_the_rate_fails_a_checkpoint(monkeypatch):
    # 2 wrong of 10,000 in the last class is 2e-4 > 1e-4; 1 of 10,000 is allowed
    trained, _ = planted(monkeypatch, {0: 0, 100: 0, 200: 0}, class_errors={100: 2, 200: 1})
    assert accuracy.six_nines_from(trained).step == 200


def test_no_answer_when_the_last_checkpoint_fails(monkeypatch):
    trained, calls = planted(monkeypatch, {0: 9, 100: 0, 200: 0, 300: 1})
    found = accuracy.six_nines_from(trained)
    assert found.step is None
    assert calls == [(300, 20_000), (300, 1_000_000)]  # counted in full all the same, for the final counts
    assert found.final.uniform_errors == 1 and found.final.uniform_n == 1_000_000


def test_a_clean_full_count_does_not_excuse_a_failed_screen(monkeypatch):
    trained, _ = planted(monkeypatch, {0: 0, 100: 0})
    screened = accuracy.count_errors

    def count_errors(model, data, n_uniform, n_enriched, seed, stop_at_failure=False):
        counts = screened(model, data, n_uniform, n_enriched, seed, stop_at_failure)
        return replace(counts, uniform_errors=1) if n_uniform == accuracy.SCREEN_N else counts

    monkeypatch.setattr(accuracy, "count_errors", count_errors)
    found = accuracy.six_nines_from(trained)
    assert found.step is None and [c.passed for c in found.checks] == [False]
    assert found.final.uniform_errors == 0  # the last checkpoint's full count is still there


def test_a_late_relapse_moves_the_answer_after_it(monkeypatch):
    trained, _ = planted(monkeypatch, {0: 9, 100: 0, 200: 0, 300: 2, 400: 0, 500: 0})
    found = accuracy.six_nines_from(trained)
    assert found.step == 400
    assert [c.step for c in found.checks] == [300, 400, 500]


def test_a_clean_screen_at_the_last_checkpoint_does_not_excuse_its_failed_full_count(monkeypatch):
    """Held to the end means the last checkpoint's full count is clean too: a screen of
    20,000 problems cannot see 2 errors per million."""
    trained, calls = planted(monkeypatch, {0: 50, 100: 0, 200: 0, 300: 0})
    screened = accuracy.count_errors

    def count_errors(model, data, n_uniform, n_enriched, seed, stop_at_failure=False):
        counts = screened(model, data, n_uniform, n_enriched, seed, stop_at_failure)
        return replace(counts, uniform_errors=2) if (model, n_uniform) == (300, 1_000_000) else counts

    monkeypatch.setattr(accuracy, "count_errors", count_errors)
    found = accuracy.six_nines_from(trained)
    assert found.step is None
    assert not any(c.passed for c in found.checks)
    assert (300, 1_000_000) in calls and found.final.uniform_errors == 2


def test_only_a_candidate_start_stops_at_its_first_failure(monkeypatch):
    """The last checkpoint is counted whole (it gives ``final``); the candidate starts
    stop at their first failure, and a stopped one is no start."""
    trained, _ = planted(monkeypatch, {0: 50, 100: 0, 200: 0, 300: 0})
    planted_count, asked = accuracy.count_errors, []

    def count_errors(model, data, n_uniform, n_enriched, seed, stop_at_failure=False):
        asked.append((model, n_uniform, stop_at_failure))
        counts = planted_count(model, data, n_uniform, n_enriched, seed, stop_at_failure)
        failing = (model, n_uniform, stop_at_failure) == (100, 1_000_000, True)
        return replace(counts, uniform_n=102_400, uniform_errors=1, stopped=True) if failing else counts

    monkeypatch.setattr(accuracy, "count_errors", count_errors)
    found = accuracy.six_nines_from(trained)
    assert found.step == 200
    fulls = [ask for ask in asked if ask[1] == 1_000_000]
    assert fulls == [(300, 1_000_000, False), (100, 1_000_000, True), (200, 1_000_000, True)]
    candidate = next(check for check in found.checks if check.step == 100)
    assert not found.final.stopped and candidate.full.stopped and not candidate.passed


def test_a_walk_draws_its_problems_once(trained, monkeypatch):
    """Every checkpoint of a walk is scored on the same problems: drawn once for the
    screens and once for the full counts, not again at each checkpoint."""
    accuracy.held_out.cache_clear()
    draws = []
    sample = task.sample
    monkeypatch.setattr(task, "sample", lambda *args, **kwargs: draws.append(args[2]) or sample(*args, **kwargs))
    found = accuracy.six_nines_from(trained, n_uniform=400, n_enriched=300, n_screen=100)
    assert len(found.checks) > 1 and sum(c.full is not None for c in found.checks) >= 1
    assert sorted(draws) == [100, 100, 300, 400]


def test_a_set_is_drawn_once_and_read_back(monkeypatch, tmp_path):
    """The next process (here: the in-memory cache cleared) reads the set back from the
    cache: the same problems, nothing drawn."""
    data = AdditionData(2)
    drawn = accuracy.held_out(data.task, 300, 200, 5, 100_000)
    accuracy.held_out.cache_clear()
    monkeypatch.setattr(accuracy, "draw", lambda *args: pytest.fail("drawn again"))
    read = accuracy.held_out(data.task, 300, 200, 5, 100_000)
    for name in ("uniform", "enriched", "enriched_class"):
        np.testing.assert_array_equal(getattr(read, name), getattr(drawn, name))
        assert not getattr(read, name).flags.writeable
    assert len(list((tmp_path / "problems").iterdir())) == 1


@pytest.mark.parametrize("edited", ["lab/task.py:sample", "lab/accuracy.py:_grouped"])
def test_a_corrupt_set_or_edited_drawing_code_draws_again(monkeypatch, tmp_path, edited):
    data = AdditionData(2)
    drawn = accuracy.held_out(data.task, 300, 200, 5, 100_000)
    (entry,) = (tmp_path / "problems").iterdir()
    blob = bytearray(entry.read_bytes())
    blob[-100] ^= 1
    entry.write_bytes(bytes(blob))
    draws = []
    draw = accuracy.draw
    monkeypatch.setattr(accuracy, "draw", lambda *args: draws.append(args) or draw(*args))
    accuracy.held_out.cache_clear()
    again = accuracy.held_out(data.task, 300, 200, 5, 100_000)
    assert len(draws) == 1 and scores.read(entry) is not None  # drawn, and the entry replaced
    np.testing.assert_array_equal(again.uniform, drawn.uniform)

    current = accuracy.fingerprint.current

    def current_edited(refs):  # the code as if ``edited`` had changed, where the key reads it
        return {ref: "edited" if ref == edited else digest for ref, digest in current(refs).items()}

    monkeypatch.setattr(accuracy.fingerprint, "current", current_edited)
    accuracy.held_out.cache_clear()
    accuracy.held_out(data.task, 300, 200, 5, 100_000)
    assert len(draws) == 2 and len(list((tmp_path / "problems").iterdir())) == 2


def test_a_set_keeps_each_first_operand_together_in_random_order():
    """Problems that begin alike are adjacent (so that counting computes their first
    positions once), their groups in random order; the problems are the ones drawn."""
    data = AdditionData(2)
    problems = accuracy.held_out(data.task, 2000, 500, 5, 100_000)
    shared = accuracy.shared_positions(data.task)
    for tokens in (problems.uniform, problems.enriched):
        prefixes = [bytes(row) for row in tokens[:, :shared]]
        runs = [p for i, p in enumerate(prefixes) if i == 0 or p != prefixes[i - 1]]
        assert len(runs) == len(set(runs)) < len(prefixes) / 2  # each prefix in one run, and runs to share
        assert runs != sorted(runs)
    rng = np.random.default_rng(5)
    for tokens, n, share in ((problems.uniform, 2000, 0.0), (problems.enriched, 500, EVAL_NINE_SHARE)):
        sampled = task.sample(data.task, rng, n, share, split="heldout").tokens.astype(np.uint8)
        np.testing.assert_array_equal(*(rows[np.lexsort(rows.T[::-1])] for rows in (tokens, sampled)))
        assert len(tokens) == n
