"""The carry story: how much of an answer digit's loss is the carry, and what the
model bets on when it does not know the carry yet.

Every answer digit whose column sum ``s`` (without carry) is known has two
candidates: token ``s mod 10`` ("+0", no incoming carry) and ``(s+1) mod 10``
("+1"). The carry into column c is decided by the digits (d1, d2) of column c-1,
the column to the right: a carry when d1 + d2 >= 10, none when d1 + d2 <= 8, and
when d1 + d2 = 9 whatever carry column c-1 itself received (a cascade).

This module reads the model's probabilities of "+0" and "+1" and compares them with
simple predictors of the carry, as 10x10 maps over (d1, d2):

* base rate   P(carry) = the carry frequency of that answer digit, whatever the digits
* one digit   P(carry | d) = d / 10, i.e. odds +0:+1 = (10-d):d (d = d1 or d2)
* product     odds (10-d1)(10-d2) : d1*d2, the two one-digit odds multiplied
* exact       1 if d1+d2 >= 10, 0 if <= 8, the cascade rate if = 9

It also splits the loss at the shelf exactly into three parts (``decompose_loss``)
and fits the best additive log-odds f(d1) + g(d2) by maximum likelihood
(``fit_additive``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from lab import scores
from lab.models import TrainedModel
from lab.task import Batch

# Probabilities are clipped to [EPS, 1-EPS] before taking log-odds, so that exact
# predictors (P = 0 or 1) have finite maps; 1e-3 is about +-6.9 nats.
EPS = 1e-3


# --------------------------------------------------------------------------- model side


@dataclass(frozen=True)
class CarryLogProbs:
    """The model's log P(+0) and log P(+1) at every answer digit, with the truth.

    All arrays ``[batch, answer_len]`` in emission order; ``has_right`` is False for
    the units digit, which has no column to its right (its carry is always 0).
    """

    logp0: np.ndarray
    logp1: np.ndarray
    carry: np.ndarray
    d1: np.ndarray
    d2: np.ndarray

    @property
    def has_right(self) -> np.ndarray:
        return self.d1 >= 0

    @property
    def log_odds(self) -> np.ndarray:
        """log P(+1) - log P(+0), ``[batch, answer_len]``."""
        return self.logp1 - self.logp0


def plus_tokens(batch: Batch) -> tuple[np.ndarray, np.ndarray]:
    """The "+0" and "+1" candidate tokens of every answer digit, each ``[batch, answer_len]``."""
    sums = np.pad(batch.column_sums, ((0, 0), (0, 1)))[:, batch.task.answer_columns]  # top column sums to 0
    return sums % 10, (sums + 1) % 10


def carry_log_probs(model: torch.nn.Module, batch: Batch, chunk_size: int = 1024) -> CarryLogProbs:
    """Run ``model`` on ``batch`` and read log P(+0), log P(+1) at each answer digit."""
    device = next(model.parameters()).device
    positions = torch.as_tensor(batch.task.predict_positions, device=device)
    logprobs = []
    with torch.no_grad():
        for chunk in torch.as_tensor(batch.tokens, device=device).split(chunk_size):
            logprobs.append(model(chunk)[:, positions].double().log_softmax(-1).cpu())
    logprobs = torch.cat(logprobs).numpy()  # [batch, answer_len, vocab]
    plus0, plus1 = plus_tokens(batch)
    d1, d2 = batch.right_digits()
    return CarryLogProbs(_pick(logprobs, plus0), _pick(logprobs, plus1), batch.carry_in, d1, d2)


# The code that computes a checkpoint's log P(+0), log P(+1) from its model (``lab.scores``).
SCORING_CODE = (
    "lab/carry.py:checkpoint_log_probs",
    "lab/carry.py:carry_log_probs",
    "lab/carry.py:plus_tokens",
    "lab/carry.py:_pick",
)


def checkpoint_log_probs(trained: TrainedModel, batch: Batch) -> list[CarryLogProbs]:
    """``carry_log_probs`` at every checkpoint of ``trained``, ascending by step; each
    checkpoint scored once and kept beside the model (``lab.scores``)."""

    def score(model: torch.nn.Module) -> dict[str, np.ndarray]:
        lp = carry_log_probs(model, batch)
        return {"logp0": lp.logp0, "logp1": lp.logp1}

    d1, d2 = batch.right_digits()
    per_step = scores.over_checkpoints(trained, "carry-log-probs", SCORING_CODE, batch.tokens, score)
    return [CarryLogProbs(s["logp0"], s["logp1"], batch.carry_in, d1, d2) for s in per_step]


def _pick(logprobs: np.ndarray, tokens: np.ndarray) -> np.ndarray:
    """``logprobs[b, p, tokens[b, p]]``, ``[batch, answer_len]``."""
    return np.take_along_axis(logprobs, tokens[..., None], -1)[..., 0]


# --------------------------------------------------------------------------- the loss shelf


@dataclass(frozen=True)
class LossParts:
    """Mean loss on a set of answer digits, and its exact split into three parts.

    With p0, p1 the model's probabilities of "+0" and "+1", m = p0 + p1 the mass on
    the two candidates and q = p_true / m the split between them, per example
    ``-ln p_true = -ln m - ln q``. Averaging, and writing mean(-ln q) as
    ``-ln mean(q)`` plus its Jensen gap:

        loss = fixed_split + spread + neither

    * fixed_split  -ln mean(q): the loss if every example had the same split
    * spread       mean(-ln q) - (-ln mean q) >= 0: the cost of the split varying
                   across examples (Jensen's inequality)
    * neither      mean(-ln m) >= 0: probability on neither "+0" nor "+1"
    """

    n: int
    loss: float
    p_plus0: float
    p_plus1: float
    fixed_split: float
    spread: float
    neither: float


def decompose_loss(logp0: np.ndarray, logp1: np.ndarray, carry: np.ndarray) -> LossParts:
    """Split the mean loss of a set of answer digits (flat arrays ``[n]``) into parts."""
    logp0, logp1 = np.asarray(logp0, np.float64), np.asarray(logp1, np.float64)
    log_true = np.where(carry == 1, logp1, logp0)
    log_mass = np.logaddexp(logp0, logp1)
    log_split = log_true - log_mass
    fixed = -np.log(np.mean(np.exp(log_split)))
    return LossParts(
        n=len(log_true),
        loss=float(-log_true.mean()),
        p_plus0=float(np.exp(logp0).mean()),
        p_plus1=float(np.exp(logp1).mean()),
        fixed_split=float(fixed),
        spread=float(-log_split.mean() - fixed),
        neither=float(-log_mass.mean()),
    )


def shelf_parts(lp: CarryLogProbs, digit: int) -> dict[str, LossParts]:
    """``decompose_loss`` of one answer digit (emission index) on its "only-+0" and
    "only-+1" positions: ``{"plus0": ..., "plus1": ...}``."""
    parts = {}
    for c in (0, 1):
        mask = lp.carry[:, digit] == c
        parts[f"plus{c}"] = decompose_loss(lp.logp0[mask, digit], lp.logp1[mask, digit], lp.carry[mask, digit])
    return parts


def candidate_mass(lp: CarryLogProbs, digit: int) -> float:
    """Mean P(+0) + P(+1) at ``digit``: how much the model knows the column sum."""
    return float(np.exp(np.logaddexp(lp.logp0[:, digit], lp.logp1[:, digit])).mean())


def true_loss(lp: CarryLogProbs, digit: int) -> float:
    """Mean loss -ln P(true answer) at ``digit`` (one with a column to its right): the
    true answer is "+1" where a carry comes in, "+0" elsewhere."""
    return float(-np.where(lp.carry[:, digit] == 1, lp.logp1[:, digit], lp.logp0[:, digit]).mean())


def carry_ce_gain(lp: CarryLogProbs, digit: int) -> float:
    """How much better than the base rate the model's split between "+0" and "+1" bets
    on the carry at ``digit``: 1 - mean(-ln q_true) / H(carry), with q_true = p_true /
    (P(+0) + P(+1)) and H the entropy of the batch's carry rate; 0 for a fixed split at
    the base rate, 1 for a model sure of every carry, negative for one that bets worse
    than the base rate.

    Not the information the split carries about the carry: it is that information
    minus the split's calibration cost, each a share of H(carry)
    (``lab.information.split_information`` gives both). A split that sorts the carries
    but leans to "+0" throughout can score 0 here.

    NaN where the carry never varies over the batch (the units digit A0 never receives
    one): with no entropy there is nothing to explain, and no share of it."""
    carry = lp.carry[:, digit]
    rate = carry.mean()
    if rate in (0, 1):
        return float("nan")
    entropy = -(rate * np.log(rate) + (1 - rate) * np.log(1 - rate))
    log_split = np.where(carry == 1, lp.logp1[:, digit], lp.logp0[:, digit]) - np.logaddexp(
        lp.logp0[:, digit], lp.logp1[:, digit]
    )
    return float(1 + log_split.mean() / entropy)


# --------------------------------------------------------------------------- predictors

DIGITS = np.arange(10)


def cell_counts(carry: np.ndarray, d1: np.ndarray, d2: np.ndarray) -> np.ndarray:
    """How often each digit pair (d1, d2) occurs without and with a carry, ``[10, 10, 2]``
    (inputs flat ``[n]``, digits 0-9)."""
    counts = np.zeros((10, 10, 2))
    np.add.at(counts, (d1, d2, carry), 1)
    return counts


def cell_mean(values: np.ndarray, d1: np.ndarray, d2: np.ndarray) -> np.ndarray:
    """Mean of ``values`` ``[n]`` in each digit-pair cell, ``[10, 10]`` (NaN where empty)."""
    total, count = np.zeros((10, 10)), np.zeros((10, 10))
    np.add.at(total, (d1, d2), values)
    np.add.at(count, (d1, d2), 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return total / count


def base_rate(rate: float) -> np.ndarray:
    """P(carry) = ``rate`` for every digit pair, ``[10, 10]``."""
    return np.full((10, 10), float(rate))


def one_digit(which: int = 1) -> np.ndarray:
    """P(carry | d) = d/10 from digit d1 (``which=1``) or d2 (``which=2``) alone, ``[10, 10]``:
    of the ten equally likely partners of d, exactly d make the sum reach 10."""
    p = np.broadcast_to(DIGITS / 10, (10, 10))
    return (p.T if which == 1 else p).copy()


def product() -> np.ndarray:
    """P(carry) with odds d1*d2 : (10-d1)(10-d2), the one-digit odds multiplied, ``[10, 10]``."""
    plus1 = np.outer(DIGITS, DIGITS).astype(float)
    plus0 = np.outer(10 - DIGITS, 10 - DIGITS).astype(float)
    return plus1 / (plus1 + plus0)


def exact(cascade_rate: float) -> np.ndarray:
    """P(carry | d1, d2): 1 if d1+d2 >= 10, ``cascade_rate`` if = 9, 0 below, ``[10, 10]``."""
    sums = DIGITS[:, None] + DIGITS[None, :]
    return np.where(sums >= 10, 1.0, np.where(sums == 9, float(cascade_rate), 0.0))


def predictors(counts: np.ndarray) -> dict[str, np.ndarray]:
    """The predictors' P(carry) maps ``[10, 10]`` for the carry statistics ``counts``
    ``[10, 10, 2]`` of one answer digit (``cell_counts``)."""
    nines = DIGITS[:, None] + DIGITS[None, :] == 9
    cascade = counts[nines, 1].sum() / max(1.0, counts[nines].sum())
    return {
        "base rate": base_rate(counts[..., 1].sum() / counts.sum()),
        "digit d1": one_digit(1),
        "digit d2": one_digit(2),
        "product": product(),
        "exact": exact(cascade),
    }


def uniform_cascade_rate(column: int) -> float:
    """P(carry into column ``column`` - 1) with uniform digits: the chance that a sum-9
    column to the right of answer column ``column`` passes a carry on. Carries into
    column k happen with probability 0.45 + 0.1 * (that of column k-1), none into 0."""
    rate = 0.0
    for _ in range(max(0, column - 1)):
        rate = 0.45 + 0.1 * rate
    return rate


def expected_counts(p: np.ndarray) -> np.ndarray:
    """Carry statistics ``[10, 10, 2]`` of one example per digit pair carrying with
    probability ``p`` ``[10, 10]``: uniform digits, the exact expectation."""
    return np.stack([1 - p, p], axis=-1)


def log_odds(p: np.ndarray, eps: float = EPS) -> np.ndarray:
    """ln(p / (1-p)) with p clipped to [eps, 1-eps]."""
    p = np.clip(p, eps, 1 - eps)
    return np.log(p) - np.log1p(-p)


def sigmoid(z: np.ndarray) -> np.ndarray:
    return 0.5 * (1 + np.tanh(0.5 * np.asarray(z, dtype=float)))


def distance(p_model: np.ndarray, p_predictor: np.ndarray) -> float:
    """Mean absolute difference of P(carry) over the digit pairs (total variation
    distance per pair, averaged): 0 = identical, 1 = opposite certainties.
    Bounded, unlike log-odds differences, which are infinite for exact predictors."""
    return float(np.nanmean(np.abs(p_model - p_predictor)))


def nll(p: np.ndarray, counts: np.ndarray, eps: float = EPS) -> float:
    """Mean negative log-likelihood (nats per example) of the carries ``counts`` ``[10, 10, 2]``
    under the predictor ``p`` ``[10, 10]`` (clipped to [eps, 1-eps])."""
    p = np.clip(p, eps, 1 - eps)
    return float(-(counts[..., 1] * np.log(p) + counts[..., 0] * np.log1p(-p)).sum() / counts.sum())


# --------------------------------------------------------------------------- additive fit


@dataclass(frozen=True)
class AdditiveFit:
    """Log-odds of the carry = ``bias + f[d1] + g[d2]``."""

    bias: float
    f: np.ndarray
    g: np.ndarray
    nll: float

    @property
    def log_odds(self) -> np.ndarray:
        return self.bias + self.f[:, None] + self.g[None, :]


def _design() -> np.ndarray:
    """One-hot features of the 100 digit pairs: [bias, d1 = 0..9, d2 = 0..9], ``[100, 21]``."""
    d1, d2 = np.meshgrid(DIGITS, DIGITS, indexing="ij")
    x = np.zeros((100, 21))
    x[:, 0] = 1
    x[np.arange(100), 1 + d1.ravel()] = 1
    x[np.arange(100), 11 + d2.ravel()] = 1
    return x


def fit_additive(counts: np.ndarray, ridge: float = 1e-3, iterations: int = 100) -> AdditiveFit:
    """Maximum-likelihood logistic fit of log-odds ``f(d1) + g(d2)`` (plus a bias) to
    the carries ``counts`` ``[10, 10, 2]``, by Newton's method.

    Objective: mean NLL per example + ``ridge``/2 * (|f|^2 + |g|^2). The small ridge
    is needed: when the carry is a deterministic function of d1 + d2 (no cascades)
    the data are separable and the unpenalized likelihood has no maximum, its
    supremum being the exact rule at infinite scale.
    """
    x = _design()
    ones, total = counts[..., 1].ravel(), counts.sum(-1).ravel()
    weight, frac = total / total.sum(), np.divide(ones, total, out=np.zeros(100), where=total > 0)
    penalty = np.full(21, ridge)
    penalty[0] = 0.0

    def objective(theta):
        z = x @ theta
        return float(np.sum(weight * (np.logaddexp(0, z) - frac * z)) + 0.5 * np.sum(penalty * theta**2))

    theta = np.zeros(21)
    for _ in range(iterations):
        p = sigmoid(x @ theta)
        grad = x.T @ (weight * (p - frac)) + penalty * theta
        hess = x.T @ (x * (weight * p * (1 - p))[:, None]) + np.diag(penalty + 1e-12)
        step = np.linalg.solve(hess, grad)
        scale, current = 1.0, objective(theta)
        while objective(theta - scale * step) > current and scale > 1e-6:  # backtrack
            scale /= 2
        theta = theta - scale * step
        if np.abs(scale * step).max() < 1e-10:
            break
    fit_p = sigmoid((x @ theta).reshape(10, 10))
    return AdditiveFit(float(theta[0]), theta[1:11], theta[11:], nll(fit_p, counts, eps=1e-12))
