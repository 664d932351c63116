"""Named model presets on TransformerLens, checkpoints, and the model cache.

Models are TransformerLens ``TransformerBridge``s around its native transformer,
built with ``TransformerBridge.boot_native`` (no hub access), so every
TransformerLens tool (hooks, ``run_with_cache``, ``OV``/``QK``, patching) applies.

    trained = load_or_train("add2")          # returns the cached model or trains it
    trained.model                            # TransformerBridge, eval mode
    trained.at_step(200)                     # the same model at a checkpoint

The cache keys trained weights by a hash of the model config, the training settings,
the numerics environment (threads, torch build, CPU capability, device: they change
weights) and the code that determines the weights (``WEIGHT_CODE``, fingerprinted by
``lab.fingerprint`` without docstrings, comments or formatting, so editing a
docstring or a progress line retrains nothing). A run that uses a model counts that
code as executed (``lab.executed.note``): when it changes, the run is stale. Each
cache file carries a SHA-256 of its payload: a corrupt or truncated entry is reported
in one line and retrained, never loaded.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import os
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import cached_property
from pathlib import Path
from typing import Any

import torch
from transformer_lens.config import TransformerBridgeConfig
from transformer_lens.model_bridge import TransformerBridge
from transformer_lens.model_bridge.generalized_components.normalization import NormalizationBridge

from lab import data as data_sources
from lab import executed, fingerprint, numerics, phases, train
from lab import task as addition
from lab.data import DataSource
from lab.presets import PRESETS, ModelConfig, Preset, TrainConfig, resolve

__all__ = [
    "PRESETS",
    "ModelConfig",
    "Preset",
    "TrainConfig",
    "TrainedModel",
    "build_model",
    "cache_key",
    "load",
    "load_or_train",
    "resolve",
    "save",
]

CACHE_ENV = "LAB_CACHE"
CACHE_FORMAT = 2


class LayerNormBridge(NormalizationBridge):
    """TransformerLens' LayerNorm bridge, with torch's fused LayerNorm when nothing listens.

    By default TransformerLens computes LayerNorm in Python, so that ``hook_scale`` and
    ``hook_normalized`` exist, even when no hook is attached to them: in training each
    LayerNorm's forward and backward took about 8x the fused kernel's time. Here
    ``use_native_layernorm_autograd`` makes the output the fused kernel's (hooks that
    only read, as ``run_with_cache``, see the same logits as an unhooked run; a hook that
    edits the scale falls back to the Python path with TransformerLens' warning), and
    the hook values are not computed at all when no hook would receive them.
    """

    def forward(self, hidden_states: torch.Tensor, **kwargs: Any) -> torch.Tensor:
        """``[batch, pos, d_model]`` -> ``[batch, pos, d_model]``."""
        if self.hook_scale.has_hooks() or self.hook_normalized.has_hooks():
            return super().forward(hidden_states, **kwargs)
        return self.hook_out(self.original_component(self.hook_in(hidden_states)))


def build_model(cfg: ModelConfig, data: DataSource, device: torch.device | str | None = None) -> TransformerBridge:
    """A freshly initialized TransformerBridge for ``data`` (deterministic in ``cfg.seed``).

    Every model the lab computes with is built here, so this is where the thread count
    is pinned (``numerics.pin``) for the training or analysis that follows.
    """
    numerics.pin()
    device = device or numerics.default_device()
    bridge_cfg = TransformerBridgeConfig(
        d_model=cfg.d_model,
        d_head=cfg.d_head,
        n_heads=cfg.n_heads,
        n_layers=cfg.n_layers,
        d_mlp=cfg.d_mlp,
        attn_only=cfg.attn_only,
        act_fn=cfg.act_fn,
        normalization_type=cfg.normalization_type,
        n_ctx=data.seq_len,
        d_vocab=data.d_vocab,
        seed=cfg.seed,
        device=str(device),
    )
    model = TransformerBridge.boot_native(bridge_cfg, device=device)
    for module in model.modules():
        if type(module) is NormalizationBridge:
            module.__class__ = LayerNormBridge
            module.use_native_layernorm_autograd = True
    return model


# --------------------------------------------------------------------------- save / load


def _config_record(preset: Preset) -> dict:
    training = dataclasses.asdict(preset.training)
    training["data"] = data_sources.to_record(preset.training.data)
    return {"model": dataclasses.asdict(preset.model), "training": training}


def _preset_from_record(record: dict) -> Preset:
    training = dict(record["training"])
    data = data_sources.from_record(training.pop("data"))
    return Preset(ModelConfig(**record["model"]), TrainConfig(data=data, **training), "")


# The code that determines trained weights and the training history (units of
# ``lab.fingerprint``; a file names all its units, a class its methods too): the task
# and its sampling, the data sources, the configs' defaults, the training loop and
# evaluation, the thread count, and how a model is built. Not the preset table (a
# preset's values are in the key anyway, so editing one preset does not retrain the
# others), not the cache, not the progress line.
WEIGHT_CODE: tuple[str, ...] = (
    "lab/task.py",
    "lab/data.py",
    "lab/forward.py",
    "lab/presets.py:ModelConfig",
    "lab/presets.py:TrainConfig",
    "lab/train.py:<module>",  # EVAL_SEED, EVAL_NINE_SHARE, EVALUATORS
    "lab/train.py:lr_at",
    "lab/train.py:checkpoint_steps",
    "lab/train.py:position_scores",
    "lab/train.py:_mean_where",
    "lab/train.py:AdditionEvaluator",
    "lab/train.py:RepeatEvaluator",
    "lab/train.py:evaluator",
    "lab/train.py:TrainResult",
    "lab/train.py:make_optimizer",
    "lab/train.py:train_step",
    "lab/train.py:train",
    "lab/numerics.py:<module>",  # THREADS
    "lab/numerics.py:pin",
    "lab/numerics.py:default_device",
    "lab/models.py:LayerNormBridge",
    "lab/models.py:build_model",
)


def weight_code(lab_dir: Path = fingerprint.LAB_DIR) -> dict[str, str]:
    """{unit: fingerprint} of ``WEIGHT_CODE`` as the code in ``lab_dir`` is now; a unit
    that no longer exists is an error here, not a silently smaller key."""
    now = fingerprint.current(fingerprint.expand(WEIGHT_CODE, lab_dir), lab_dir)
    missing = [name for name, value in now.items() if value is None]
    if missing:
        raise LookupError(f"lab.models.WEIGHT_CODE names code that does not exist: {', '.join(missing)}")
    return now


def cache_key(preset: Preset, device: torch.device | str | None = None, lab_dir: Path = fingerprint.LAB_DIR) -> str:
    """Hash of model config, training settings, training code (in ``lab_dir``: a copy
    in tests) and the numerics environment."""
    environment = numerics.environment(device)
    environment["threads"] = numerics.THREADS  # what training will run with, whatever runs now
    key = {
        "config": _config_record(preset),
        "code": fingerprint.combined(weight_code(lab_dir)),
        "environment": environment,
    }
    return hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:16]


def cache_dir() -> Path:
    return Path(os.environ.get(CACHE_ENV) or ".cache") / "models"


@dataclass
class TrainedModel:
    """A trained model with its config, history and checkpoint series."""

    model: TransformerBridge
    preset: Preset
    history: dict[str, list]
    checkpoints: dict[int, dict[str, torch.Tensor]]
    path: Path | None = None

    @property
    def train_config(self) -> TrainConfig:
        return self.preset.training

    @property
    def data(self) -> DataSource:
        return self.preset.training.data

    @property
    def task(self) -> addition.AdditionTask:
        """The addition task the model was trained on (an error for other data)."""
        if not hasattr(self.data, "task"):
            raise TypeError(f"{self.data.source} data has no addition task")
        return self.data.task

    @property
    def labels(self) -> list[str]:
        """Names of the scored positions (answer digits ``A5 … A0`` for addition)."""
        return self.data.loss_labels()

    @cached_property
    def steps(self) -> list[int]:
        """Steps of the checkpoint series, ascending."""
        return sorted(self.checkpoints)

    def seconds_at(self, step: int) -> float:
        """Seconds of training up to ``step``, an evaluated step (the history's
        ``seconds``: evaluations and checkpoint copies left out)."""
        return self.history["seconds"][self.history["step"].index(step)]

    def at_step(self, step: int) -> TransformerBridge:
        """A new model holding the weights of the checkpoint at ``step``."""
        if step not in self.checkpoints:
            raise KeyError(f"no checkpoint at step {step}; checkpoints: {self.steps}")
        model = build_model(self.preset.model, self.data)
        model.original_model.load_state_dict(self.checkpoints[step])
        return model.eval()


def _share_aliases(state: dict[str, torch.Tensor], live: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """``state`` with every group of keys that name one tensor in ``live`` pointing at
    one tensor: the bridge exposes each weight under several names, and torch.save
    stores a tensor shared between keys once."""
    first: dict[int, str] = {}
    return {key: state[first.setdefault(live[key].data_ptr(), key)] for key in state}


def save(trained: TrainedModel, path: Path) -> None:
    """Write weights, config, history and checkpoints to ``path`` atomically.

    Layout: 64 hex digits of SHA-256, a newline, then the ``torch.save`` payload.
    """
    live = trained.model.original_model.state_dict()
    buffer = io.BytesIO()
    torch.save(
        {
            "format": CACHE_FORMAT,
            "config": _config_record(trained.preset),
            "state_dict": live,
            "history": trained.history,
            "checkpoints": {step: _share_aliases(state, live) for step, state in trained.checkpoints.items()},
        },
        buffer,
    )
    payload = buffer.getvalue()
    digest = hashlib.sha256(payload).hexdigest().encode()
    path.parent.mkdir(parents=True, exist_ok=True)
    # a temporary file of its own: two processes may train the same model at once (sweeps)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(digest + b"\n" + payload)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class CorruptCache(Exception):
    pass


def load(path: Path, device: torch.device | str | None = None) -> TrainedModel:
    """Read a file written by ``save``; raises CorruptCache if it does not verify."""
    blob = Path(path).read_bytes()
    digest, payload = blob[:64], blob[65:]
    if len(blob) < 66 or hashlib.sha256(payload).hexdigest().encode() != digest:
        raise CorruptCache(f"checksum mismatch ({len(blob)} bytes)")
    try:
        record = torch.load(io.BytesIO(payload), map_location="cpu", weights_only=True)
        preset = _preset_from_record(record["config"])
        model = build_model(preset.model, preset.training.data, device)
        model.original_model.load_state_dict(record["state_dict"])
    except Exception as err:  # a verified file that still does not load is corrupt too
        raise CorruptCache(f"{type(err).__name__}: {err}") from None
    checkpoints = {int(k): v for k, v in record["checkpoints"].items()}
    return TrainedModel(model.eval(), preset, record["history"], checkpoints, Path(path))


def load_or_train(
    preset: str | Preset,
    overrides: dict[str, Any] | None = None,
    retrain: bool = False,
    log: Callable[[str], None] | None = print,
) -> TrainedModel:
    """The trained model for ``preset`` (+ overrides): from the cache, or trained and cached."""
    name = preset if isinstance(preset, str) else "custom"
    resolved = resolve(preset, overrides)
    executed.note(fingerprint.expand(WEIGHT_CODE))  # the run depends on the code behind the weights
    path = cache_dir() / f"{name}-{cache_key(resolved)}.pt"
    if path.exists() and not retrain:
        try:
            trained = load(path)
            trained.preset = replace(trained.preset, description=resolved.description)
            if log:
                log(f"loaded {name} from {path}")
            phases.model_used(path.name, trained.history["seconds"][-1])
            return trained
        except CorruptCache as err:
            print(f"warning: model cache {path} is corrupt ({err}); retraining", file=sys.stderr)
    if log:
        log(f"training {name}: {resolved.model} {resolved.training} -> {path}")
    with phases.timed("training", what=f"training {name}"):  # the run's training seconds (loading is not)
        model = build_model(resolved.model, resolved.training.data)
        result = train.train(model, resolved.training, log=log)
    trained = TrainedModel(model, resolved, result.history, result.checkpoints, path)
    save(trained, path)
    if log:
        log(f"trained in {result.seconds:.1f}s, cached at {path}")
    phases.model_used(path.name, trained.history["seconds"][-1])
    return trained
