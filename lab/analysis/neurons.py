"""Neuron activation maps over digit pairs, and neuron families.

The answer digit of column c depends on the digits ``(a_c, b_c)`` of its own column and
``(a_{c-1}, b_{c-1})`` of the column to the right (whose sum decides the carry). A
neuron's *map* is its mean activation, at the position predicting that answer digit,
for each of the 10 x 10 digit pairs of one of those columns, averaged over all else.

Families come from correlating a neuron's two maps with template maps: the column sum
mod 10 equal to k, sum >= 10 (makes a carry), sum = 9 (passes a carry on), and so on.
The best template by absolute correlation names the family; a negative correlation is
the complement (e.g. "no carry"). ``kmeans`` groups maps without templates, as a check
that the templates are not imposed on the data.

TransformerLens gives the activations (``run_with_cache``, ``blocks.L.mlp.hook_post``);
the lab adds the maps, the templates and the clustering (numpy only), and
``neuron_families``, the pipeline the experiments share: rank neurons by direct logit
attribution, map the top ones, name their families.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from transformer_lens.model_bridge import TransformerBridge

from lab.analysis.attribution import Attribution, attribute, top_neurons
from lab.task import Batch

COLUMNS = ("own", "right")


def column_digits(batch: Batch) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """For each answer digit, the two digits of its own column and of the column to its
    right, ``{"own": (a, b), "right": (a, b)}``, each ``[batch, answer_len]``; -1 where the
    column does not exist (the top answer digit has no own digits, the units digit
    nothing to its right)."""
    pad = ((0, 0), (0, 1))
    own = (
        np.pad(batch.a_digits, pad, constant_values=-1)[:, batch.task.answer_columns],
        np.pad(batch.b_digits, pad, constant_values=-1)[:, batch.task.answer_columns],
    )
    return {"own": own, "right": batch.right_digits()}


def neuron_activations(model: TransformerBridge, batch: Batch) -> np.ndarray:
    """Every neuron's activation at the positions predicting the answer digits,
    ``[batch, answer_len, layer, neuron]``."""
    names = [f"blocks.{layer}.mlp.hook_post" for layer in range(model.cfg.n_layers)]
    tokens = torch.as_tensor(batch.tokens, device=model.cfg.device)
    with torch.no_grad():
        _, cache = model.run_with_cache(tokens, names_filter=names)
    positions = batch.task.predict_positions
    return torch.stack([cache[name][:, positions] for name in names], 2).cpu().numpy()


def digit_maps(values: np.ndarray, d1: np.ndarray, d2: np.ndarray) -> np.ndarray:
    """Mean of ``values`` ``[batch, answer_len, ...]`` for each digit pair ``(d1, d2)``
    (each ``[batch, answer_len]``, -1 = none), ``[answer_len, ..., 10, 10]``; NaN where no
    example has that pair."""
    batch, answer_len = d1.shape
    flat = values.reshape(batch, answer_len, -1)
    maps = np.full((answer_len, flat.shape[-1], 100), np.nan)
    for pos in range(answer_len):
        cell = d1[:, pos] * 10 + d2[:, pos]
        ok = cell >= 0
        counts = np.bincount(cell[ok], minlength=100)
        sums = np.stack([np.bincount(cell[ok], weights=f, minlength=100) for f in flat[ok, pos].T])
        with np.errstate(invalid="ignore", divide="ignore"):
            maps[pos] = np.where(counts > 0, sums / counts, np.nan)
    return maps.reshape(answer_len, *values.shape[2:], 10, 10)


def _sum_grid() -> np.ndarray:
    return np.add.outer(np.arange(10), np.arange(10))


def templates() -> dict[str, tuple[str, np.ndarray]]:
    """Template maps: name -> (column, 10 x 10 map over that column's digit pairs)."""
    s = _sum_grid().astype(float)
    out = {f"sum mod 10 = {k}": ("own", (s % 10 == k).astype(float)) for k in range(10)}
    out.update(
        {
            "makes a carry (sum >= 10)": ("own", (s >= 10).astype(float)),
            "passes a carry on (sum = 9)": ("own", (s == 9).astype(float)),
            "own sum": ("own", s),
            "carry in (right sum >= 10)": ("right", (s >= 10).astype(float)),
            "cascade in (right sum = 9)": ("right", (s == 9).astype(float)),
            "carry possible (right sum >= 9)": ("right", (s >= 9).astype(float)),
            "right sum": ("right", s),
        }
    )
    return out


def family_of(template: str) -> str:
    """The family a template belongs to ("sum mod 10 = 3" -> "sum mod 10")."""
    return template.split(" = ")[0] if template.startswith("sum mod 10") else template


def family_names() -> list[str]:
    """Every family the templates define, in template order."""
    return list(dict.fromkeys(family_of(name) for name in templates()))


def family_slug(family: str) -> str:
    """A family's name as part of a metric name: "carry in (right sum >= 10)" -> "carry_in"."""
    return family.split(" (")[0].replace(" ", "_")


def family_counts(matches: Sequence[Match]) -> dict[str, int]:
    """How many of ``matches`` fall in each family of ``family_names`` (0 where none),
    either sign: a neuron firing on the complement ("not carry in") counts as its family.
    Families, not neuron indices, are what can be compared between seeds."""
    counts = dict.fromkeys(family_names(), 0)
    for match in matches:
        if match.family in counts:
            counts[match.family] += 1
    return counts


def _correlation(x: np.ndarray, t: np.ndarray) -> float:
    ok = ~np.isnan(x)
    if ok.sum() < 3 or np.std(x[ok]) == 0:
        return 0.0
    return float(np.corrcoef(x[ok], t[ok])[0, 1])


@dataclass(frozen=True)
class Match:
    """A neuron's best template: its name, family, signed correlation."""

    template: str
    family: str
    correlation: float

    @property
    def name(self) -> str:
        """The family, marked "not ..." when the neuron fires on the template's complement."""
        return self.family if self.correlation >= 0 else f"not {self.family}"


def classify(maps: dict[str, np.ndarray], threshold: float = 0.5) -> Match:
    """The template that correlates best (in absolute value) with a neuron's maps
    ``{"own": [10, 10], "right": [10, 10]}``; family "other" below ``threshold``."""
    scores = {name: _correlation(maps[column], grid) for name, (column, grid) in templates().items()}
    best = max(scores, key=lambda name: abs(scores[name]))
    if abs(scores[best]) < threshold:
        return Match(best, "other", scores[best])
    return Match(best, family_of(best), scores[best])


def kmeans(points: np.ndarray, k: int, seed: int = 0, iters: int = 100) -> np.ndarray:
    """Cluster labels ``[n]`` of ``points`` ``[n, features]`` (Lloyd's algorithm, k-means++ start)."""
    rng = np.random.default_rng(seed)
    centers = [points[rng.integers(len(points))]]
    for _ in range(1, k):
        d2 = np.min([((points - c) ** 2).sum(1) for c in centers], axis=0)
        centers.append(points[rng.choice(len(points), p=d2 / d2.sum())])
    centers = np.array(centers)
    labels = np.zeros(len(points), dtype=int)
    for _ in range(iters):
        labels = ((points[:, None] - centers[None]) ** 2).sum(-1).argmin(1)
        new = np.array([points[labels == j].mean(0) if (labels == j).any() else centers[j] for j in range(k)])
        if np.allclose(new, centers):
            break
        centers = new
    return labels


def standardize(maps: np.ndarray) -> np.ndarray:
    """Maps ``[n, ...]`` flattened, NaN -> 0 after z-scoring each row: the shape of a
    map, not its scale, is what clustering should compare. ``[n, features]``."""
    flat = maps.reshape(len(maps), -1)
    with warnings.catch_warnings():  # a map that does not exist (all NaN) becomes zeros
        warnings.simplefilter("ignore", RuntimeWarning)
        mean, std = np.nanmean(flat, 1, keepdims=True), np.nanstd(flat, 1, keepdims=True)
    return np.nan_to_num((flat - mean) / np.where(std > 0, std, 1))


def neuron_maps(model: TransformerBridge, batch: Batch) -> dict[str, np.ndarray]:
    """Every neuron's maps over the own and the right column's digit pairs at every answer
    position, ``{"own": ..., "right": ...}``, each ``[answer_len, layer, neuron, 10, 10]``."""
    acts = neuron_activations(model, batch)
    return {column: digit_maps(acts, *digits) for column, digits in column_digits(batch).items()}


def classify_neurons(
    maps: dict[str, np.ndarray], neurons: list[tuple[int, int, int]], threshold: float = 0.5
) -> list[Match]:
    """The family of each ``(position, layer, neuron)``, from its maps at that position."""
    return [
        classify({column: maps[column][pos, layer, n] for column in COLUMNS}, threshold) for pos, layer, n in neurons
    ]


@dataclass(frozen=True)
class NeuronFamilies:
    """The top neurons by direct logit attribution, with their maps and families.

    attribution  the ``Attribution`` they were ranked by
    neurons      ``(position, layer, neuron)``, best first, each at the answer position
                 where it matters most (``attribution.top_neurons``)
    maps         every neuron's maps (``neuron_maps``)
    matches      the family of each of ``neurons`` (``classify_neurons``)
    """

    attribution: Attribution
    neurons: list[tuple[int, int, int]]
    maps: dict[str, np.ndarray]
    matches: list[Match]

    def families(self) -> dict[str, list[tuple[tuple[int, int, int], Match]]]:
        """The ``(neuron, match)`` pairs of each family name, families sorted by name,
        members best first."""
        return {
            name: [(n, m) for n, m in zip(self.neurons, self.matches) if m.name == name]
            for name in sorted({m.name for m in self.matches})
        }


def neuron_families(
    model: TransformerBridge, ranked_on: Batch, mapped_on: Batch, k: int, threshold: float = 0.5
) -> NeuronFamilies:
    """Rank the neurons by direct logit attribution on ``ranked_on``, keep the top ``k``,
    map every neuron over the digit pairs of ``mapped_on`` and classify the top ones
    (family "other" below ``threshold``)."""
    attr = attribute(model, ranked_on)
    top = top_neurons(attr, k)
    maps = neuron_maps(model, mapped_on)
    return NeuronFamilies(attr, top, maps, classify_neurons(maps, top, threshold))
