"""Training data: what the model reads and which of its predictions are scored.

Each data source turns a random generator into a batch of token rows plus a fixed
mask of the positions whose next-token prediction counts in the loss. The training
loop only needs that, so addition and the induction task share one loop. Each source
has a name (``source``), under which ``SOURCES`` finds it again when a saved model is
read back, and under which ``lab.train`` finds its evaluation.

* ``AdditionData``  n-digit addition; only the answer digits are scored.
* ``RepeatData``    random token spans shown twice; the second copy is scored. The
                    standard task on which induction heads form (Olsson et al., 2022).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import ClassVar

import numpy as np

from lab import LabError
from lab import task as addition


@dataclass(frozen=True)
class AdditionData:
    """n-digit addition, with each column forced to sum to 9 with prob. ``nine_share``,
    and to 8 or 10 with prob. ``contrast_share`` (``lab.task.sample``)."""

    source: ClassVar[str] = "addition"

    n_digits: int
    nine_share: float = 0.0
    reverse: bool = False
    contrast_share: float = 0.0

    def __post_init__(self) -> None:
        shares = {"nine_share": self.nine_share, "contrast_share": self.contrast_share}
        for name, share in shares.items():
            if not 0 <= share <= 1:
                raise LabError(f"setting {name}={share!r} must be a share between 0 and 1")
        if sum(shares.values()) > 1:
            raise LabError(f"settings nine_share + contrast_share = {sum(shares.values())!r} must be at most 1")

    @property
    def task(self) -> addition.AdditionTask:
        return addition.AdditionTask(self.n_digits, self.reverse)

    @property
    def seq_len(self) -> int:
        return self.task.seq_len

    @property
    def d_vocab(self) -> int:
        return addition.D_VOCAB

    @property
    def loss_positions(self) -> np.ndarray:
        """Positions whose logits are scored: those predicting the answer, ``[answer_len]``."""
        return self.task.predict_positions

    def loss_labels(self) -> list[str]:
        """Names of the scored positions: the answer digits, ``A5 … A0``."""
        return self.task.answer_labels()

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        """Token rows from the training split, ``[size, seq_len]``."""
        return addition.sample(
            self.task, rng, size, self.nine_share, split="train", contrast_share=self.contrast_share
        ).tokens


@dataclass(frozen=True)
class RepeatData:
    """Random tokens whose last ``2k`` positions are a span of ``k`` tokens shown twice.

    Rows are ``[0, filler.., x_1..x_k, x_1..x_k]``, ``seq_len = 2 * span + 1``, with ``k``
    drawn per row from ``min_span..span`` (``min_span=None``: always ``span``). Tokens
    1..vocab-1 are uniform. The predictions of the last ``span`` tokens are scored: the
    repeated ones are learnable, the filler among them is not. Varying ``k`` matters:
    with a fixed offset a head can find the repeat by position alone, and no induction
    head is needed.
    """

    source: ClassVar[str] = "repeat"

    span: int = 16
    vocab: int = 64
    min_span: int | None = None

    @property
    def seq_len(self) -> int:
        return 2 * self.span + 1

    @property
    def d_vocab(self) -> int:
        return self.vocab

    @property
    def loss_positions(self) -> np.ndarray:
        return np.arange(self.span, 2 * self.span)

    def loss_labels(self) -> list[str]:
        """Names of the scored positions: ``R0 …``, the last ``span`` tokens."""
        return [f"R{i}" for i in range(self.span)]

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        k = rng.integers(self.min_span or self.span, self.span + 1, size)[:, None]  # [size, 1]
        rows = rng.integers(1, self.vocab, (size, self.seq_len))
        rows[:, 0] = 0
        pos = np.arange(self.seq_len)
        # the second copy (the last k positions) repeats the k tokens before it
        source = np.where(pos >= self.seq_len - k, pos - k, pos)
        return np.take_along_axis(rows, source, axis=1)


DataSource = AdditionData | RepeatData
SOURCES: dict[str, type[DataSource]] = {cls.source: cls for cls in (AdditionData, RepeatData)}


def to_record(data: DataSource) -> dict:
    """``data`` as JSON-ready settings, with its source's name under ``"source"``."""
    return {"source": data.source, **asdict(data)}


def from_record(record: dict) -> DataSource:
    """Inverse of ``to_record``."""
    settings = dict(record)
    name = settings.pop("source")
    if name not in SOURCES:
        raise ValueError(f"unknown data source {name!r}; known: {sorted(SOURCES)}")
    return SOURCES[name](**settings)
