"""Named model presets on TransformerLens, checkpoints, and the model cache.

Models are TransformerLens ``TransformerBridge``s around its native transformer,
built with ``TransformerBridge.boot_native`` (no hub access), so every
TransformerLens tool (hooks, ``run_with_cache``, ``OV``/``QK``, patching) applies.

    trained = load_or_train("add2")          # returns the cached model or trains it
    trained.model                            # TransformerBridge, eval mode
    trained.at_step(200)                     # the same model at a checkpoint

The cache keys trained weights by a hash of the model config, the training settings,
the numerics environment (threads, torch build, CPU capability, device: they change
weights) and the code that determines the weights (``WEIGHT_CODE``, docstrings and
comments left out, so editing a docstring or a progress line retrains nothing). Each
cache file carries a SHA-256 of its payload: a corrupt or truncated entry is reported
in one line and retrained, never loaded.
"""

from __future__ import annotations

import ast
import dataclasses
import hashlib
import inspect
import io
import json
import os
import sys
import tempfile
import textwrap
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
from lab import forward, numerics, presets, train
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


# The code that determines trained weights and the training history: the task and its
# sampling, the data sources, the configs' defaults, the training loop and evaluation,
# and how a model is built. Not the preset table (a preset's values are in the key
# anyway, so editing one preset does not retrain the others), not the cache, not the
# progress line.
WEIGHT_CODE: tuple[Any, ...] = (
    addition,
    data_sources,
    presets.ModelConfig,
    presets.TrainConfig,
    train.lr_at,
    train.checkpoint_steps,
    train.position_scores,
    train._mean_where,
    train.AdditionEvaluator,
    train.RepeatEvaluator,
    train.make_optimizer,
    train.train_step,
    train.train,
    train.EVAL_SEED,
    train.EVAL_NINE_SHARE,
    numerics.THREADS,
    forward,
    LayerNormBridge,
    build_model,
)


def code_source(obj: Any) -> str:
    """The code of a module, class or function as the interpreter sees it: parsed and
    printed back, without docstrings, comments or a module's imports. Other values
    (constants) by repr."""
    if not (inspect.ismodule(obj) or inspect.isclass(obj) or inspect.isfunction(obj)):
        return repr(obj)
    tree = ast.parse(textwrap.dedent(inspect.getsource(obj)))
    # a module's imports only name what its code uses: sorting them changes no weight
    tree.body = [node for node in tree.body if not isinstance(node, (ast.Import, ast.ImportFrom))]
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if (
            isinstance(body, list)
            and body
            and isinstance(body[0], ast.Expr)
            and isinstance(body[0].value, ast.Constant)
            and isinstance(body[0].value.value, str)
        ):
            node.body = body[1:] or [ast.Pass()]
    return ast.unparse(tree)


def code_hash(objects: tuple[Any, ...] = WEIGHT_CODE) -> str:
    """Hash of the ``code_source`` of each of ``objects``."""
    h = hashlib.sha256()
    for obj in objects:
        h.update(code_source(obj).encode())
    return h.hexdigest()[:16]


def cache_key(preset: Preset, device: torch.device | str | None = None) -> str:
    """Hash of model config, training settings, training code and the numerics environment."""
    environment = numerics.environment(device)
    environment["threads"] = numerics.THREADS  # what training will run with, whatever runs now
    key = {"config": _config_record(preset), "code": code_hash(), "environment": environment}
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
    path = cache_dir() / f"{name}-{cache_key(resolved)}.pt"
    if path.exists() and not retrain:
        try:
            trained = load(path)
            trained.preset = replace(trained.preset, description=resolved.description)
            if log:
                log(f"loaded {name} from {path}")
            return trained
        except CorruptCache as err:
            print(f"warning: model cache {path} is corrupt ({err}); retraining", file=sys.stderr)
    if log:
        log(f"training {name}: {resolved.model} {resolved.training} -> {path}")
    model = build_model(resolved.model, resolved.training.data)
    result = train.train(model, resolved.training, log=log)
    trained = TrainedModel(model, resolved, result.history, result.checkpoints, path)
    save(trained, path)
    if log:
        log(f"trained in {result.seconds:.1f}s, cached at {path}")
    return trained
