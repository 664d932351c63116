"""Exact-match error counts on large held-out sets: is a model at six nines?

Six nines, as the lab measures it: 0 wrong answers on at least 1,000,000 uniform
held-out problems, and an error rate of at most 1e-4 in every cascade class S0..Sn on
an enriched held-out set (where long carry chains are common enough to count).

    counts = count_errors(model, AdditionData(5), n_uniform=1_000_000)
    counts.uniform_errors, counts.class_errors, counts.six_nines()

    reached = six_nines_from(trained)        # over a models.TrainedModel's checkpoints
    reached.step                             # first step from which it holds to the end

An answer is right when the arg-max at every answer position, given the true digits
before it, is the true digit: the same as greedy decoding getting the whole answer
right. The problems are drawn with their own seed, apart from the ones training
evaluates on, and kept as bytes (22 MB for a full count), in memory for all the
checkpoints of a walk and in the cache for later processes: drawing a full count's
problems takes about 9 s (``held_out``).

When a training run reaches six nines is read from its saved checkpoints afterwards,
never during training (it would slow the training it times): ``six_nines_from``
screens checkpoints back from the last one on a small set and counts the ends of the
final clean run in full.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
from dataclasses import dataclass

import numpy as np
from transformer_lens.model_bridge import TransformerBridge

from lab import executed, fingerprint, inference, models, phases, scores
from lab import task as addition
from lab.data import AdditionData
from lab.dynamics import checkpoint_models
from lab.models import TrainedModel
from lab.train import EVAL_NINE_SHARE

SEED = 987_654  # not train.EVAL_SEED: these problems are not the ones training watched
MAX_CLASS_RATE = 1e-4
SCREEN_N = 20_000  # uniform and enriched problems of the cheap screen before a full count
# Problems scored between looks at a count that may stop at its first failure: about 3 s
# on 2 cores, against 36 s for a whole count of add2-fast. 200 CPU chunks of 512
# (``inference.CHUNK``), so a block is scored in exactly the chunks of a whole count.
STOP_BLOCK = 102_400


@dataclass(frozen=True)
class ErrorCounts:
    """Wrong answers among ``uniform_n`` uniform problems, and per cascade class
    (``[n_digits + 1]``: S0..Sn) among the enriched ones. ``stopped``: counting stopped
    once the count had failed (``count_errors(stop_at_failure=True)``), so these are
    the counts of the problems scored until then, fewer than were drawn."""

    uniform_n: int
    uniform_errors: int
    class_n: tuple[int, ...]
    class_errors: tuple[int, ...]
    stopped: bool = False  # a count stopped at its first failing block: the counts are of the problems before

    @property
    def class_rates(self) -> tuple[float, ...]:
        return tuple(e / n if n else float("nan") for e, n in zip(self.class_errors, self.class_n))

    @property
    def worst_class_rate(self) -> float:
        """The highest error rate of a cascade class that occurred (0 if none did)."""
        return max((e / n for e, n in zip(self.class_errors, self.class_n) if n), default=0.0)

    def six_nines(self, min_uniform: int = 1_000_000, max_class_rate: float = MAX_CLASS_RATE) -> bool:
        """0 errors on at least ``min_uniform`` uniform problems, and every cascade class
        (that occurred) at most ``max_class_rate`` wrong."""
        classes_ok = all(e <= max_class_rate * n for e, n in zip(self.class_errors, self.class_n))
        return self.uniform_n >= min_uniform and self.uniform_errors == 0 and classes_ok


@dataclass(frozen=True)
class HeldOut:
    """The problems a count scores: ``uniform`` token rows ``[n_uniform, pos]``,
    ``enriched`` ones ``[n_enriched, pos]`` and each enriched problem's cascade class
    ``enriched_class`` ``[n_enriched]`` (0 = S0 .. n_digits). Tokens as bytes: 18 per
    add2 problem, 22 MB for a full count."""

    uniform: np.ndarray
    enriched: np.ndarray
    enriched_class: np.ndarray


# The code that draws a held-out set, and so what a set read back from the cache stands for.
DRAWING_CODE = (
    "lab/task.py",
    "lab/accuracy.py:draw",
    "lab/accuracy.py:_grouped",
    "lab/accuracy.py:shared_positions",
    "lab/train.py:<module>:EVAL_NINE_SHARE",
)


@functools.lru_cache(maxsize=2)  # a walk's screen set and its full set, read once for all its checkpoints
def held_out(task: addition.AdditionTask, n_uniform: int, n_enriched: int, seed: int, chunk: int) -> HeldOut:
    """``draw``'s problems, drawn once per machine: kept in the cache beside the models
    (``problems/``), keyed by the drawing code's fingerprint (``DRAWING_CODE``), numpy's
    version and these arguments. Drawing a full count's 1.2M problems takes about 9 s on
    this machine, most of it hashing ten times as many candidates into their split, in
    every process that counts; reading them back takes a few hundredths. An entry that
    does not verify (``lab.scores.read``) is drawn again and replaced. Read-only: one
    copy serves every count."""
    refs = fingerprint.expand(DRAWING_CODE)
    executed.note(refs)  # a set read back ran this code, in an earlier process
    key = {
        "code": fingerprint.combined(fingerprint.current(refs)),
        "numpy": np.__version__,
        "arguments": [task.n_digits, task.reverse, n_uniform, n_enriched, seed, chunk],
    }
    digest = hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:16]
    path = models.cache_dir().parent / "problems" / f"heldout-{digest}.npz"
    arrays = scores.read(path) if path.exists() else None
    problems = HeldOut(**arrays) if arrays is not None else draw(task, n_uniform, n_enriched, seed, chunk)
    if arrays is None:
        scores.write(path, dataclasses.asdict(problems))
    for array in (problems.uniform, problems.enriched, problems.enriched_class):
        array.setflags(write=False)
    return problems


def draw(task: addition.AdditionTask, n_uniform: int, n_enriched: int, seed: int, chunk: int) -> HeldOut:
    """``n_uniform`` uniform and ``n_enriched`` enriched held-out problems of ``task``,
    drawn ``chunk`` at a time from one generator seeded ``seed`` (the same seed and
    sizes, the same problems)."""
    rng = np.random.default_rng(seed)
    drawn = []
    for share, total in ((0.0, n_uniform), (EVAL_NINE_SHARE, n_enriched)):
        batches = [
            addition.sample(task, rng, min(chunk, total - start), share, split="heldout")
            for start in range(0, total, chunk)
        ]
        tokens = np.concatenate([b.tokens for b in batches] or [np.zeros((0, task.seq_len), np.int64)])
        classes = np.concatenate([b.cascade_class for b in batches] or [np.zeros(0, np.int64)])
        drawn.append((tokens.astype(np.uint8), classes.astype(np.int8)))
    (uniform, _), (enriched, enriched_class) = (_grouped(*pair, shared_positions(task), rng) for pair in drawn)
    return HeldOut(uniform=uniform, enriched=enriched, enriched_class=enriched_class)


def shared_positions(task: addition.AdditionTask) -> int:
    """The leading positions a count computes once per distinct prefix
    (``inference.answers_right``'s ``shared``): the first operand and its "+". A million
    uniform 5-digit problems begin with 100,000 first operands, about 10 problems each."""
    return task.n_digits + 1


def _grouped(tokens: np.ndarray, classes: np.ndarray, shared: int, rng: np.random.Generator):
    """``tokens`` ``[n, pos]`` and their ``classes`` ``[n]`` reordered so that problems
    that begin with the same ``shared`` tokens are adjacent, the groups in random order.

    Adjacent, so that a counting chunk holds few prefixes to compute; in random order, so
    that the first problems of a set, where a count that may stop looks first
    (``count_errors``), are still a sample of all first operands, not the smallest."""
    if len(tokens) == 0:
        return tokens, classes
    _, group = np.unique(tokens[:, :shared], axis=0, return_inverse=True)  # [n]: each problem's prefix
    order = np.argsort(rng.permutation(group.max() + 1)[group], kind="stable")
    return tokens[order], classes[order]


def count_errors(
    model: TransformerBridge,
    data: AdditionData,
    n_uniform: int = 1_000_000,
    n_enriched: int = 200_000,
    seed: int = SEED,
    chunk: int = 100_000,
    stop_at_failure: bool = False,
) -> ErrorCounts:
    """Score ``model`` on ``n_uniform`` uniform and ``n_enriched`` enriched held-out
    problems of ``data``'s task (``held_out``: drawn ``chunk`` at a time, and once for
    all the checkpoints of a walk), through the lean answer-only forward
    (``lab.inference``).

    ``stop_at_failure``: score ``STOP_BLOCK`` problems at a time, uniform ones first,
    and stop after the first block that fails the count: a wrong uniform answer, or a
    class with more wrong answers than ``MAX_CLASS_RATE`` allows of all its drawn
    problems. Errors only add up, so a count that stops would fail whole; the result is
    ``stopped``, with the counts of the problems scored."""
    with phases.timed("evaluation"):
        problems = held_out(data.task, n_uniform, n_enriched, seed, chunk)
        positions = data.task.predict_positions
        shared = shared_positions(data.task)
        n_classes = data.n_digits + 1
        allowed = MAX_CLASS_RATE * np.bincount(problems.enriched_class, minlength=n_classes)
        size = STOP_BLOCK if stop_at_failure else max(n_uniform, n_enriched, 1)
        blocks = [  # (tokens, cascade classes or None for uniform problems), uniform first
            (tokens[start : start + size], None if classes is None else classes[start : start + size])
            for tokens, classes in ((problems.uniform, None), (problems.enriched, problems.enriched_class))
            for start in range(0, len(tokens), size)
        ]
        uniform_n = uniform_errors = scored = 0
        class_n, class_errors = np.zeros(n_classes, np.int64), np.zeros(n_classes, np.int64)
        for tokens, classes in blocks:
            wrong = ~inference.answers_right(model, tokens, positions, shared=shared)
            if classes is None:
                uniform_n, uniform_errors = uniform_n + len(tokens), uniform_errors + int(wrong.sum())
            else:
                class_n += np.bincount(classes, minlength=n_classes)
                class_errors += np.bincount(classes, weights=wrong, minlength=n_classes).astype(np.int64)
            scored += 1
            if stop_at_failure and (uniform_errors > 0 or (class_errors > allowed).any()):
                break
        stopped = scored < len(blocks)
        return ErrorCounts(uniform_n, uniform_errors, tuple(class_n.tolist()), tuple(class_errors.tolist()), stopped)


# --------------------------------------------------------------------------- over a checkpoint series


@dataclass(frozen=True)
class CheckpointCount:
    """One checkpoint's counts: the screen's, and the full count's where one was made
    (``full`` None otherwise; the last checkpoint always has one, never ``stopped``).
    ``passed``: six nines holds from here to the end."""

    step: int
    screen: ErrorCounts
    full: ErrorCounts | None
    passed: bool


@dataclass(frozen=True)
class SixNinesRun:
    """Where six nines starts and holds to the end of training.

    ``step``: where six nines starts and holds to the end (``six_nines_from``), None if
    it never does. ``checks``: the checkpoints counted, ascending by step: the final
    clean run and the failing checkpoint just before it (earlier ones are never
    counted).
    """

    step: int | None
    checks: tuple[CheckpointCount, ...]
    n_uniform: int
    n_enriched: int

    @property
    def final(self) -> ErrorCounts:
        """The last checkpoint's full count."""
        return self.checks[-1].full


def six_nines_from(
    trained: TrainedModel,
    n_uniform: int = 1_000_000,
    n_enriched: int = 200_000,
    n_screen: int = SCREEN_N,
    seed: int = SEED,
) -> SixNinesRun:
    """The first checkpoint step of ``trained`` from which six nines holds to the end.

    1. Walk back from the last checkpoint, screening each with ``count_errors`` on
       ``n_screen`` uniform and ``n_screen`` enriched problems, until a screen fails
       (a wrong uniform answer, or a class over ``MAX_CLASS_RATE``): the checkpoints
       after it are the final clean run.
    2. Count the last checkpoint in full (``n_uniform`` and ``n_enriched``), whatever
       its screen says, so that ``final`` always covers them.
    3. If it passes, count the run's checkpoints in full from its earliest on, until one
       passes: six nines starts there. These counts stop at their first failing block
       (``count_errors(stop_at_failure=True)``): a count that fails is no start, however
       many errors it would have found in the rest.

    So holding to the end means a clean full count where six nines starts and at the
    last checkpoint, and a clean screen at every checkpoint between: two full counts
    when the run starts clean, whatever its length. A full count of add2-fast takes
    about 36 s on 2 cores, against about 100 s of its training (55 s of it the steps
    alone; quiet, a two-count walk took 79 s and training 98 s), which is why the
    checkpoints between get only the screen; a relapse rarer than the screen can see (a few
    errors per million) between two clean full counts would go unnoticed.

    A checkpoint passes when its counts satisfy ``ErrorCounts.six_nines`` with
    ``min_uniform`` their own size: with ``n_uniform`` below 1,000,000 that is the
    same rule on fewer problems (tests, smoke runs), not six nines.
    """
    data = trained.data
    n_screen = min(n_screen, n_uniform)  # a screen larger than the full count saves nothing
    screens: dict[int, ErrorCounts] = {}
    for step, model in checkpoint_models(trained, trained.steps[::-1]):
        screens[step] = count_errors(model, data, n_screen, n_screen, seed + 1)  # problems apart from the full count's
        if not _clean(screens[step]):
            break
    fulls: dict[int, ErrorCounts] = {}

    def counted(step: int, stop_at_failure: bool) -> ErrorCounts:
        if step not in fulls:
            _, model = next(checkpoint_models(trained, [step]))
            fulls[step] = count_errors(model, data, n_uniform, n_enriched, seed, stop_at_failure=stop_at_failure)
        return fulls[step]

    last = trained.steps[-1]
    clean_run = sorted(step for step, counts in screens.items() if _clean(counts))  # ends at ``last`` if not empty
    start = None
    if _clean(counted(last, stop_at_failure=False)) and clean_run:  # ``final``: the last checkpoint counted whole
        start = next(step for step in clean_run if _clean(counted(step, stop_at_failure=True)))  # ``last``, at worst
    checks = tuple(
        CheckpointCount(
            step, screens[step], fulls.get(step), _clean(screens[step]) and start is not None and step >= start
        )
        for step in sorted(screens)
    )
    return SixNinesRun(start, checks, n_uniform, n_enriched)


def _clean(counts: ErrorCounts) -> bool:
    """No uniform error and no class over the rate, whatever the number of problems."""
    return counts.six_nines(min_uniform=counts.uniform_n)
