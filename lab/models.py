"""Named model presets on TransformerLens, checkpoints, and the model cache.

Models are TransformerLens ``TransformerBridge``s around its native transformer,
built with ``TransformerBridge.boot_native`` (no hub access), so every
TransformerLens tool (hooks, ``run_with_cache``, ``OV``/``QK``, patching) applies.

    trained = load_or_train("add2")          # returns the cached model or trains it
    trained.model                            # TransformerBridge, eval mode
    trained.at_step(200)                     # the same model at a checkpoint

The cache keys trained weights by a hash of the model config, the training settings,
and the source of the code that trains (task, data, train, and the model builder),
so editing any of them retrains. Each cache file carries a SHA-256 of its payload: a corrupt or
truncated entry is reported in one line and retrained, never loaded.
"""

from __future__ import annotations

import dataclasses
import hashlib
import inspect
import io
import json
import os
import sys
from dataclasses import dataclass, fields, replace
from functools import cached_property
from pathlib import Path
from typing import Any

import torch
from transformer_lens.config import TransformerBridgeConfig
from transformer_lens.model_bridge import TransformerBridge
from transformer_lens.model_bridge.generalized_components.normalization import NormalizationBridge

from lab import LabError
from lab import data as data_sources
from lab import task as addition
from lab import train
from lab.data import AdditionData, RepeatData
from lab.train import TrainConfig

CACHE_ENV = "LAB_CACHE"
CACHE_FORMAT = 1


@dataclass(frozen=True)
class ModelConfig:
    """Architecture of a model. ``n_ctx`` and ``d_vocab`` come from the data."""

    n_layers: int = 2
    d_model: int = 128
    n_heads: int = 4
    d_mlp: int = 512
    attn_only: bool = False
    act_fn: str = "relu"
    normalization_type: str | None = "LN"
    seed: int = 0  # weight initialization

    @property
    def d_head(self) -> int:
        return self.d_model // self.n_heads


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


def build_model(cfg: ModelConfig, data: AdditionData | RepeatData,
                device: torch.device | str | None = None) -> TransformerBridge:
    """A freshly initialized TransformerBridge for ``data`` (deterministic in ``cfg.seed``)."""
    bridge_cfg = TransformerBridgeConfig(
        d_model=cfg.d_model, d_head=cfg.d_head, n_heads=cfg.n_heads, n_layers=cfg.n_layers,
        d_mlp=cfg.d_mlp, attn_only=cfg.attn_only, act_fn=cfg.act_fn,
        normalization_type=cfg.normalization_type, n_ctx=data.seq_len, d_vocab=data.d_vocab,
        seed=cfg.seed, device=str(device or train.default_device()),
    )
    model = TransformerBridge.boot_native(bridge_cfg, device=device or train.default_device())
    for module in model.modules():
        if type(module) is NormalizationBridge:
            module.__class__ = LayerNormBridge
            module.use_native_layernorm_autograd = True
    return model


@dataclass(frozen=True)
class Preset:
    model: ModelConfig
    training: TrainConfig
    description: str


PRESETS: dict[str, Preset] = {
    "add2": Preset(
        ModelConfig(n_layers=2, d_model=128, n_heads=4, d_mlp=512),
        # A sweep of 15 variants (lr, batch, width, heads, enrichment, steps, seed) on a
        # GPU: all 2-layer ones ended with 0 errors on 100k held-out problems; this is
        # the cheapest. Cosine decay to 0 is what keeps it from relapsing late.
        TrainConfig(data=AdditionData(5, nine_share=0.1), steps=2500, lr=1e-3),
        "2 layers, 5-digit addition: the default model the experiments share",
    ),
    "add1": Preset(
        ModelConfig(n_layers=1, d_model=128, n_heads=4, d_mlp=512),
        TrainConfig(data=AdditionData(5, nine_share=0.1), steps=4000, lr=1e-3),
        "1 layer, 5-digit addition",
    ),
    "attn2": Preset(
        ModelConfig(n_layers=2, d_model=64, n_heads=4, d_mlp=0, attn_only=True),
        # Repeats of 4-16 tokens, so the offset varies and only induction finds them.
        # On a GPU sweep this reached ~90% accuracy on repeats at every offset; the
        # phase change sits near step 260.
        TrainConfig(data=RepeatData(span=16, vocab=64, min_span=4), steps=1000, lr=3e-3,
                    eval_every=10, eval_size=1000, n_checkpoints=60),
        "2 attention-only layers on repeated random spans, for induction heads",
    ),
    "tiny": Preset(
        ModelConfig(n_layers=1, d_model=64, n_heads=4, d_mlp=256),
        TrainConfig(data=AdditionData(2), steps=600, lr=3e-3, warmup_steps=50, eval_every=100,
                    eval_size=500, n_checkpoints=10),
        "1 layer, 2-digit addition: test-sized",
    ),
}


def parse_overrides(items: list[str]) -> dict[str, Any]:
    """``["steps=2000", "lr=3e-4"]`` -> ``{"steps": 2000, "lr": 0.0003}`` (JSON values, else str)."""
    overrides = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ValueError(f"override {item!r} is not of the form key=value")
        try:
            overrides[key] = json.loads(value)
        except json.JSONDecodeError:
            overrides[key] = value
    return overrides


def resolve(preset: str | Preset, overrides: dict[str, Any] | None = None) -> Preset:
    """The preset named ``preset`` with ``overrides`` applied to its model or training config."""
    if isinstance(preset, str):
        if preset not in PRESETS:
            raise LabError(f"unknown preset {preset!r}; presets: {', '.join(PRESETS)}")
        preset = PRESETS[preset]
    overrides = dict(overrides or {})
    model_fields = {f.name for f in fields(ModelConfig)}
    model = replace(preset.model, **{k: overrides.pop(k) for k in list(overrides) if k in model_fields})
    try:
        training = preset.training.with_overrides(**overrides)
    except (KeyError, TypeError) as err:
        valid = sorted(model_fields | {f.name for f in fields(TrainConfig)} |
                       {f.name for f in fields(preset.training.data)})
        raise LabError(f"{err.args[0]}; valid settings: {', '.join(valid)}") from None
    return replace(preset, model=model, training=training)


# --------------------------------------------------------------------------- save / load


def _config_record(preset: Preset) -> dict:
    training = dataclasses.asdict(preset.training)
    training["data"]["kind"] = "addition" if isinstance(preset.training.data, AdditionData) else "repeat"
    return {"model": dataclasses.asdict(preset.model), "training": training}


def _preset_from_record(record: dict) -> Preset:
    training = dict(record["training"])
    data_settings = dict(training.pop("data"))
    data = data_sources.make_data(data_settings.pop("kind"), **data_settings)
    return Preset(ModelConfig(**record["model"]), TrainConfig(data=data, **training), "")


def code_hash() -> str:
    """Hash of the source that determines trained weights: the task, data and training
    modules, and how this module builds a model (not the preset table, so editing one
    preset does not retrain the others; the preset's values are in the key anyway)."""
    h = hashlib.sha256()
    for module in (addition, data_sources, train):
        h.update(inspect.getsource(module).encode())
    for obj in (ModelConfig, build_model, LayerNormBridge):
        h.update(inspect.getsource(obj).encode())
    return h.hexdigest()[:16]


def cache_key(preset: Preset) -> str:
    """Hash of model config, training settings, training code and torch version."""
    key = {"config": _config_record(preset), "code": code_hash(), "torch": torch.__version__,
           "device": train.default_device().type}
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
    def data(self) -> AdditionData | RepeatData:
        return self.preset.training.data

    @cached_property
    def steps(self) -> list[int]:
        """Steps of the checkpoint series, ascending."""
        return sorted(self.checkpoints)

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
    torch.save({
        "format": CACHE_FORMAT,
        "config": _config_record(trained.preset),
        "state_dict": live,
        "history": trained.history,
        "checkpoints": {step: _share_aliases(state, live) for step, state in trained.checkpoints.items()},
    }, buffer)
    payload = buffer.getvalue()
    digest = hashlib.sha256(payload).hexdigest().encode()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(digest + b"\n" + payload)
    os.replace(tmp, path)


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


def load_or_train(preset: str | Preset, overrides: dict[str, Any] | None = None,
                  retrain: bool = False, log=print) -> TrainedModel:
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
