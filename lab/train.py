"""The training loop: answer-only loss, AdamW with warmup and cosine decay, evaluation
per answer digit, per carry kind and per cascade class, and a checkpoint series.

    from lab import models
    trained = models.load_or_train("add2")         # cached; trains on a miss
    trained.history["digit_loss"]                   # [n_evals, answer_len]
    model_at_500 = trained.at_step(500)             # a checkpoint, for training dynamics

Same seed and settings give the same weights and losses on the same device.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field, fields, replace
from typing import Callable, Iterable

import numpy as np
import torch
import torch.nn.functional as F

from lab import task as addition
from lab.data import AdditionData, RepeatData

# Evaluation sets are drawn with this seed whatever the training seed, so runs with
# different seeds are scored on the same problems.
EVAL_SEED = 12345
# Share of columns forced to sum to 9 in the enriched evaluation set, where every
# cascade class up to Sn is common enough to measure.
EVAL_NINE_SHARE = 0.4


@dataclass(frozen=True)
class TrainConfig:
    """How a model is trained. Part of the model cache key."""

    data: AdditionData | RepeatData = field(default_factory=lambda: AdditionData(5))
    steps: int = 3000
    batch_size: int = 256
    lr: float = 1e-3
    weight_decay: float = 0.1
    warmup_steps: int = 100
    min_lr_ratio: float = 0.0       # cosine decay ends at lr * min_lr_ratio
    eval_every: int = 50
    eval_size: int = 2000
    n_checkpoints: int = 40
    seed: int = 0

    def with_overrides(self, **overrides) -> "TrainConfig":
        """A copy with fields of this config or of its data source replaced."""
        own = {f.name for f in fields(self)}
        data_fields = {f.name for f in fields(self.data)}
        unknown = set(overrides) - own - data_fields
        if unknown:
            raise KeyError(f"unknown training setting(s) {sorted(unknown)}")
        data = replace(self.data, **{k: v for k, v in overrides.items() if k in data_fields})
        return replace(self, data=data, **{k: v for k, v in overrides.items() if k in own})


def lr_at(step: int, cfg: TrainConfig) -> float:
    """Linear warmup to ``cfg.lr``, then cosine decay to ``cfg.lr * cfg.min_lr_ratio``."""
    if step < cfg.warmup_steps:
        return cfg.lr * (step + 1) / cfg.warmup_steps
    progress = (step - cfg.warmup_steps) / max(1, cfg.steps - cfg.warmup_steps)
    cosine = 0.5 * (1 + math.cos(math.pi * min(1.0, progress)))
    return cfg.lr * (cfg.min_lr_ratio + (1 - cfg.min_lr_ratio) * cosine)


def checkpoint_steps(steps: int, n: int) -> list[int]:
    """About ``n`` steps at which to keep weights: half log-spaced (dense early, where
    plateaus such as the loss shelf sit), half evenly spaced; always 0 and ``steps``."""
    log_spaced = np.geomspace(1, steps, max(2, n // 2))
    even = np.linspace(0, steps, max(2, n - n // 2))
    return sorted({0, steps, *np.round(log_spaced).astype(int), *np.round(even).astype(int)})


# --------------------------------------------------------------------------- scoring


def position_scores(model: torch.nn.Module, tokens: torch.Tensor, positions: np.ndarray,
                    batch_size: int = 1024) -> tuple[torch.Tensor, torch.Tensor]:
    """Loss and correctness of the prediction made at each of ``positions``.

    tokens: ``[batch, seq]``. Returns ``loss, correct``, each ``[batch, len(positions)]``
    (correct: the arg-max is the next token).
    """
    losses, correct = [], []
    pos = torch.as_tensor(positions, device=tokens.device)
    with torch.no_grad():
        for chunk in tokens.split(batch_size):
            logits = model(chunk)[:, pos]                       # [b, p, vocab]
            target = chunk[:, pos + 1]                          # [b, p]
            losses.append(F.cross_entropy(logits.transpose(1, 2), target, reduction="none"))
            correct.append(logits.argmax(-1) == target)
    return torch.cat(losses).float().cpu(), torch.cat(correct).cpu()


def _mean_where(values: torch.Tensor, mask: np.ndarray) -> float:
    mask = torch.as_tensor(mask)
    return float(values[mask].float().mean()) if mask.any() else float("nan")


class Evaluator:
    """Scores a model on fixed held-out sets; returns a flat dict for the history.

    Addition keys: ``loss``, ``exact`` (whole answer right, uniform problems),
    ``digit_loss``/``digit_acc`` ``[answer_len]`` (emission order), ``kind_loss``/
    ``kind_acc`` ``[3]`` (base, carry, cascade), ``class_exact`` ``[n+1]`` (S0..Sn, on
    an enriched set). Repeat keys: ``loss``, ``acc``, ``digit_loss`` ``[span]``.
    """

    def __init__(self, data: AdditionData | RepeatData, size: int, device: torch.device | str):
        rng = np.random.default_rng(EVAL_SEED)
        self.data = data
        self.device = device
        if isinstance(data, AdditionData):
            self.uniform = addition.sample(data.task, rng, size, 0.0, split="heldout")
            self.enriched = addition.sample(data.task, rng, size, EVAL_NINE_SHARE, split="heldout")
            self.tokens = {k: torch.as_tensor(b.tokens, device=device)
                           for k, b in (("uniform", self.uniform), ("enriched", self.enriched))}
        else:
            self.tokens = {"uniform": torch.as_tensor(data.sample(rng, size), device=device)}

    def __call__(self, model: torch.nn.Module) -> dict:
        loss, correct = position_scores(model, self.tokens["uniform"], self.data.loss_positions)
        scores = {"loss": float(loss.mean()), "digit_loss": loss.mean(0).tolist(),
                  "digit_acc": correct.float().mean(0).tolist()}
        if not isinstance(self.data, AdditionData):
            scores["acc"] = float(correct.float().mean())
            return scores
        kinds = self.uniform.kinds
        scores["exact"] = float(correct.all(1).float().mean())
        scores["kind_loss"] = [_mean_where(loss, kinds == k) for k in range(3)]
        scores["kind_acc"] = [_mean_where(correct, kinds == k) for k in range(3)]
        _, enriched_correct = position_scores(model, self.tokens["enriched"], self.data.loss_positions)
        exact = enriched_correct.all(1)
        classes = self.enriched.cascade_class
        scores["class_exact"] = [_mean_where(exact, classes == c)
                                 for c in range(self.data.n_digits + 1)]
        return scores


# --------------------------------------------------------------------------- training


@dataclass
class TrainResult:
    """What training produces: the history (one entry per evaluation, as lists under
    each key: ``step``, ``seconds`` (wall time so far), ``lr``, ``train_loss`` and the
    ``Evaluator`` keys) and the
    checkpoint series ``{step: state_dict}`` of the underlying native model."""

    history: dict[str, list] = field(default_factory=dict)
    checkpoints: dict[int, dict[str, torch.Tensor]] = field(default_factory=dict)
    seconds: float = 0.0


def default_device() -> torch.device:
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def make_optimizer(params: Iterable[torch.nn.Parameter], cfg: TrainConfig) -> torch.optim.AdamW:
    """AdamW as the lab trains with it. ``fused`` updates every tensor in one kernel rather
    than a handful of kernels per tensor: the step's cost no longer grows with the number
    of parameter tensors (TransformerLens' native model has separate q, k, v)."""
    return torch.optim.AdamW(params, lr=cfg.lr, weight_decay=cfg.weight_decay, betas=(0.9, 0.98),
                             fused=True)


def train(model: torch.nn.Module, cfg: TrainConfig,
          log: Callable[[str], None] | None = print) -> TrainResult:
    """Train ``model`` (a TransformerBridge) in place on ``cfg.data``.

    Loss: mean cross-entropy of the scored positions (the answer digits) only.
    """
    torch.manual_seed(cfg.seed)
    rng = np.random.default_rng(cfg.seed)
    device = next(model.parameters()).device
    evaluate = Evaluator(cfg.data, cfg.eval_size, device)
    positions = torch.as_tensor(cfg.data.loss_positions, device=device)
    keep = set(checkpoint_steps(cfg.steps, cfg.n_checkpoints))
    optimizer = make_optimizer(model.parameters(), cfg)
    result = TrainResult()
    native = model.original_model  # plain nn.Module whose state_dict the cache stores
    recent: list[float] = []
    start = time.perf_counter()

    for step in range(cfg.steps + 1):
        if step in keep:
            result.checkpoints[step] = {k: v.detach().cpu().clone() for k, v in native.state_dict().items()}
        if step in keep or step % cfg.eval_every == 0:
            model.eval()
            scores = evaluate(model)
            model.train()
            train_loss = float(np.mean(recent)) if recent else scores["loss"]
            for key, value in {"step": step, "seconds": time.perf_counter() - start,
                               "lr": lr_at(step, cfg), "train_loss": train_loss, **scores}.items():
                result.history.setdefault(key, []).append(value)
            recent = []
            if log and step % cfg.eval_every == 0:
                log(_progress_line(step, cfg.steps, scores, time.perf_counter() - start))
        if step == cfg.steps:
            break
        for group in optimizer.param_groups:
            group["lr"] = lr_at(step, cfg)
        tokens = torch.as_tensor(cfg.data.sample(rng, cfg.batch_size), device=device)
        logits = model(tokens)[:, positions]                     # [batch, scored, vocab]
        loss = F.cross_entropy(logits.flatten(0, 1), tokens[:, positions + 1].flatten())
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        recent.append(loss.item())

    model.eval()
    result.seconds = time.perf_counter() - start
    return result


def _progress_line(step: int, steps: int, scores: dict, seconds: float) -> str:
    accuracy = scores.get("exact", scores.get("acc"))
    return (f"step {step:>6}/{steps}  loss {scores['loss']:.4f}  "
            f"{'exact' if 'exact' in scores else 'acc'} {100 * accuracy:6.2f}%  {seconds:6.1f}s")


# --------------------------------------------------------------------------- reporting


def accuracy_table(model: torch.nn.Module, data: AdditionData, size: int = 20_000) -> str:
    """Accuracy per answer digit (uniform held-out) and per cascade class (enriched
    held-out), as a plain-text table."""
    scores = Evaluator(data, size, next(model.parameters()).device)(model)
    labels = data.position_labels()
    lines = [f"held-out exact match: {100 * scores['exact']:.3f}%  ({size} uniform problems)", "",
             "digit  " + "  ".join(f"{label:>7}" for label in labels),
             "acc %  " + "  ".join(f"{100 * a:7.3f}" for a in scores["digit_acc"]), "",
             "class  " + "  ".join(f"{'S' + str(c):>7}" for c in range(len(scores["class_exact"]))),
             "exact% " + "  ".join(f"{100 * a:7.3f}" for a in scores["class_exact"])]
    return "\n".join(lines)


def main(preset: str, overrides: list[str], retrain: bool = False) -> int:
    """``python -m lab train PRESET [k=v ...]``: train or load, then print the accuracy table."""
    from lab import models

    trained = models.load_or_train(preset, models.parse_overrides(overrides), retrain=retrain)
    if isinstance(trained.train_config.data, AdditionData):
        print(accuracy_table(trained.model, trained.train_config.data))
    else:
        print(f"final loss on repeated tokens: {trained.history['loss'][-1]:.4f}")
    print(f"cache: {trained.path}")
    return 0
