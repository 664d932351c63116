"""How much the model's split between "+0" and "+1" says about the carry, as information.

At an answer digit with a column to its right the model puts P(+0) and P(+1) on the
two candidates; its *split* is q0 = P(+0) / (P(+0) + P(+1)), per position. Two
different questions can be asked of the split:

* **Does it carry information about the carry?** The mutual information I(C; S)
  between the carry C and the split S, binned (``mutual_information``): 0 when the
  split is independent of the carry, H(C) when it determines it. It does not care
  what the split's values are, only how they sort the carries.
* **Does it bet well?** Its cross-entropy CE = mean(-ln q_true). Against the carry's
  entropy H(C), CE exceeds H(C|S) by the **calibration cost**: what betting q instead
  of the carry's actual rate among positions with that split costs.

The two are tied, with the plug-in estimates over the same positions and bins, by

    H(C) - CE = I_plugin(C; S) - calibration,

so ``carry.carry_ce_gain`` = 1 - CE / H(C) = (I - calibration) / H(C) is information
minus miscalibration, and is 0 for a split that knows something about the carry but
leans the wrong way by as much. A split that leans to "+0" on every position can
have a gain of 0 or below while I(C; S) > 0.

The plug-in I(C; S) from n positions is biased upwards, by about (K - 1) / (2n) nats
for K occupied bins and a binary carry (Miller and Madow); ``mutual_information``
subtracts that first-order bias (``corrected``) and says how large it was (``bias``).
The split is binned at its quantiles (``bins`` of them, equal counts, ties kept in one
bin), so that a split confined to 0.55-0.75 is resolved as finely as one over 0-1.

    info = split_information(lp, digit)    # lp: carry.CarryLogProbs
    info.mi, info.bias, info.calibration, info.entropy
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lab.carry import CarryLogProbs

BINS = 10  # quantile bins of the split: n = 2,000 positions leave 200 per bin


def entropy(counts: np.ndarray) -> float:
    """Plug-in entropy (nats) of the distribution with ``counts`` (any shape, summed
    over all cells); empty cells count 0."""
    p = np.asarray(counts, dtype=float).ravel()
    p = p[p > 0] / p.sum()
    return float(-(p * np.log(p)).sum())


def quantile_bins(values: np.ndarray, bins: int = BINS) -> np.ndarray:
    """The bin of each value ``[n]`` among ``bins`` bins cut at its quantiles, ``[n]``
    (ints from 0). Equal values always share a bin, so a constant has one bin."""
    values = np.asarray(values, dtype=float)
    edges = np.unique(np.quantile(values, np.linspace(0, 1, bins + 1)[1:-1]))
    return np.searchsorted(edges, values, side="left")


@dataclass(frozen=True)
class MutualInformation:
    """I(C; B) of a binary label C and a bin B over ``n`` examples, in nats.

    plugin: the plug-in estimate from the joint counts; bias: its first-order bias,
    (occupied cells - occupied C - occupied B + 1) / (2n) (Miller-Madow applied to the
    three entropies; (K - 1) / (2n) for two classes in K bins); corrected = plugin - bias.
    """

    n: int
    plugin: float
    bias: float

    @property
    def corrected(self) -> float:
        return self.plugin - self.bias


def mutual_information(labels: np.ndarray, bins: np.ndarray) -> MutualInformation:
    """I(labels; bins) of two integer arrays ``[n]`` (labels 0/1, bins from 0)."""
    labels, bins = np.asarray(labels, dtype=int), np.asarray(bins, dtype=int)
    joint = np.zeros((2, int(bins.max()) + 1))
    np.add.at(joint, (labels, bins), 1)
    n = int(joint.sum())
    plugin = entropy(joint.sum(1)) + entropy(joint.sum(0)) - entropy(joint)
    occupied = (joint > 0).sum() - (joint.sum(1) > 0).sum() - (joint.sum(0) > 0).sum() + 1
    return MutualInformation(n, plugin, occupied / (2 * n))


@dataclass(frozen=True)
class SplitInformation:
    """What the split says about the carry at one answer digit, in nats.

    entropy: H(C), the carry's plug-in entropy; mi: I(C; S) Miller-Madow corrected,
    mi_plugin and bias its plug-in value and the bias taken off; cross_entropy: mean
    -ln q_true of the split; calibration: cross_entropy - H_plugin(C | S), what the
    split's values cost beyond what its bins know. Exactly (plug-in, same bins):
    entropy - cross_entropy = mi_plugin - calibration.
    """

    n: int
    entropy: float
    mi: float
    mi_plugin: float
    bias: float
    cross_entropy: float
    calibration: float

    @property
    def mi_share(self) -> float:
        """I(C; S) / H(C): the share of the carry's entropy the split tells."""
        return self.mi / self.entropy

    @property
    def ce_gain(self) -> float:
        """1 - CE / H(C), as ``carry.carry_ce_gain``: (mi_plugin - calibration) / H(C)."""
        return 1 - self.cross_entropy / self.entropy


def split_plus0(lp: CarryLogProbs, digit: int) -> np.ndarray:
    """The split q0 = P(+0) / (P(+0) + P(+1)) at every position of ``digit``, ``[batch]``."""
    return np.exp(lp.logp0[:, digit] - np.logaddexp(lp.logp0[:, digit], lp.logp1[:, digit]))


def split_information(lp: CarryLogProbs, digit: int, bins: int = BINS) -> SplitInformation | None:
    """``SplitInformation`` of answer digit ``digit`` (emission index) over the batch,
    the split binned at ``bins`` quantiles; None where the carry never varies (the
    units digit A0): with no entropy there is nothing to know."""
    carry = lp.carry[:, digit].astype(int)
    if carry.min() == carry.max():
        return None
    log_true = np.where(carry == 1, lp.logp1[:, digit], lp.logp0[:, digit])
    cross_entropy = float(-(log_true - np.logaddexp(lp.logp0[:, digit], lp.logp1[:, digit])).mean())
    binned = quantile_bins(split_plus0(lp, digit), bins)
    mi = mutual_information(carry, binned)
    h = entropy(np.bincount(carry, minlength=2))
    return SplitInformation(
        n=mi.n,
        entropy=h,
        mi=mi.corrected,
        mi_plugin=mi.plugin,
        bias=mi.bias,
        cross_entropy=cross_entropy,
        calibration=cross_entropy - (h - mi.plugin),
    )
