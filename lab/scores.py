"""Per-checkpoint scores computed once, kept next to the model they score.

loss-shelf, carry-odds and training-dynamics read the same checkpoints of the same
models in every run and every sweep point: a loss-shelf point scores about 200. A
score that has been computed is kept in the model cache, beside the weights, and read
back instead of recomputed:

    per_step = over_checkpoints(trained, "carry", CODE, batch.tokens, score)
    per_step[i]["logp0"]     # score(model at trained.steps[i]), arrays as computed

An entry is keyed by

- the model's cache key (its file name: config, training settings, training code and
  numerics environment, ``lab.models.cache_key``) and the checkpoint's step;
- the scoring code's fingerprint (``CODE``: units of ``lab.fingerprint``, as in
  ``lab.models.WEIGHT_CODE``), so that editing how a score is computed misses,
  while editing an analysis that reads the scores does not;
- the problems scored (a digest of their tokens) and the versions of torch and
  TransformerLens that ran the forward.

so a hit is the number a fresh scoring would give, bit for bit. Entries are ``.npz``
files behind a SHA-256 line, written atomically; one that does not verify is scored
again and replaced. A model that is not in the cache (``trained.path`` None) is
scored every time. A run that reads scores still counts the scoring code as executed
(``lab.executed.note``), so editing it stales the run as if it had scored.
"""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Callable, Sequence
from importlib.metadata import version
from pathlib import Path

import numpy as np
from transformer_lens.model_bridge import TransformerBridge

from lab import atomic, executed, fingerprint, phases
from lab.models import TrainedModel

Scores = dict[str, np.ndarray]

# The code between a checkpoint and any score: loading its weights into the model.
LOADING_CODE = ("lab/scores.py:over_checkpoints", "lab/models.py:TrainedModel.at_step")


def over_checkpoints(
    trained: TrainedModel,
    name: str,
    code: Sequence[str],
    problems: np.ndarray,
    score: Callable[[TransformerBridge], Scores],
    steps: Sequence[int] | None = None,
) -> list[Scores]:
    """``score(model at step)`` for each step of ``steps`` (default: every checkpoint),
    read from the cache where an entry exists.

    ``name`` names the score; ``code`` lists the units that compute it from a model (a
    file for all its units); ``problems`` ``[batch, pos]`` are the tokens ``score``
    runs the model on, and all it reads besides the model.
    """
    steps = trained.steps if steps is None else list(steps)
    refs = fingerprint.expand([*code, *LOADING_CODE])
    executed.note(refs)
    folder = entry_folder(trained, name, refs, problems)
    found: list[Scores] = []
    model = None
    for step in steps:
        path = None if folder is None else folder / f"{step}.npz"
        scores = read(path) if path is not None and path.exists() else None
        if scores is None:
            if model is None:
                model = trained.at_step(step)
            else:
                model.original_model.load_state_dict(trained.checkpoints[step])
            with phases.timed("evaluation"):
                scores = {key: np.asarray(value) for key, value in score(model).items()}
            if path is not None:
                write(path, scores)
        found.append(scores)
    return found


def entry_folder(trained: TrainedModel, name: str, refs: Sequence[str], problems: np.ndarray) -> Path | None:
    """Where ``name``'s scores of ``trained`` on ``problems`` live: beside the model's
    cache file, one folder per key. None for a model outside the cache."""
    if trained.path is None:
        return None
    code = fingerprint.current(refs)
    missing = [ref for ref, value in code.items() if value is None]
    if missing:
        raise LookupError(f"the scoring code of {name!r} names code that does not exist: {', '.join(missing)}")
    key = {
        "code": fingerprint.combined(code),
        "problems": hashlib.sha256(np.ascontiguousarray(problems).tobytes()).hexdigest()
        + f"{problems.dtype}{problems.shape}",
        "versions": {package: version(package) for package in ("torch", "transformer-lens", "numpy")},
    }
    digest = hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:16]
    return trained.path.with_suffix(".scores") / f"{name}-{digest}"


def write(path: Path, scores: Scores) -> None:
    """``scores`` as an ``.npz`` behind a line of its SHA-256, atomically."""
    buffer = io.BytesIO()
    np.savez(buffer, **scores)
    payload = buffer.getvalue()
    atomic.write_bytes(path, hashlib.sha256(payload).hexdigest().encode() + b"\n" + payload)


def read(path: Path) -> Scores | None:
    """The scores ``write`` put at ``path``, or None if the file does not verify."""
    blob = path.read_bytes()
    digest, payload = blob[:64], blob[65:]
    if len(blob) < 66 or hashlib.sha256(payload).hexdigest().encode() != digest:
        return None
    try:
        with np.load(io.BytesIO(payload), allow_pickle=False) as npz:
            return {key: npz[key] for key in npz.files}
    except (OSError, ValueError):
        return None
