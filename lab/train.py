"""The training loop: answer-only loss, AdamW with warmup and cosine decay, evaluation
per answer digit, per carry case and per cascade class, and a checkpoint series.

    from lab import models
    trained = models.load_or_train("add2")         # cached; trains on a miss
    trained.history["digit_loss"]                   # [n_evals, answer_len]
    model_at_500 = trained.at_step(500)             # a checkpoint, for training dynamics

Only what determines the weights and the history lives here: the model cache hashes
this code (``models.code_hash``). Same seed and settings give bit-identical weights and
losses in the same ``numerics.environment()`` (the lab pins the thread count).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F

from lab import numerics, phases
from lab import task as addition
from lab.data import AdditionData, DataSource, RepeatData
from lab.forward import TrainingForward
from lab.presets import TrainConfig

# Evaluation sets are drawn with this seed whatever the training seed, so runs with
# different seeds are scored on the same problems.
EVAL_SEED = 12345
# Share of columns forced to sum to 9 in the enriched evaluation set, where every
# cascade class up to Sn is common enough to measure.
EVAL_NINE_SHARE = 0.4


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


def position_scores(
    model: torch.nn.Module, tokens: torch.Tensor, positions: np.ndarray, chunk_size: int = 1024
) -> tuple[torch.Tensor, torch.Tensor]:
    """Loss and correctness of the prediction made at each of ``positions``.

    tokens: ``[batch, seq]``. Returns ``loss, correct``, each ``[batch, len(positions)]``
    (correct: the arg-max is the next token).
    """
    losses, correct = [], []
    pos = torch.as_tensor(positions, device=tokens.device)
    with torch.no_grad():
        for chunk in tokens.split(chunk_size):
            logits = model(chunk)[:, pos]  # [b, p, vocab]
            target = chunk[:, pos + 1]  # [b, p]
            losses.append(F.cross_entropy(logits.transpose(1, 2), target, reduction="none"))
            correct.append(logits.argmax(-1) == target)
    return torch.cat(losses).float().cpu(), torch.cat(correct).cpu()


def _mean_where(values: torch.Tensor, mask: np.ndarray) -> float:
    mask = torch.as_tensor(mask)
    return float(values[mask].float().mean()) if mask.any() else float("nan")


class AdditionEvaluator:
    """Scores a model on fixed held-out addition problems; a flat dict for the history.

    Keys: ``loss``, ``exact`` (whole answer right, uniform problems), ``digit_loss``/
    ``digit_acc`` ``[answer_len]`` (emission order), ``case_loss``/``case_acc`` ``[3]``
    (carry cases base, carry, cascade), ``class_exact`` ``[n+1]`` (S0..Sn, on an
    enriched set, where every cascade class is common enough to measure).
    """

    def __init__(self, data: AdditionData, size: int, device: torch.device | str):
        rng = np.random.default_rng(EVAL_SEED)
        self.data = data
        self.uniform = addition.sample(data.task, rng, size, 0.0, split="heldout")
        self.enriched = addition.sample(data.task, rng, size, EVAL_NINE_SHARE, split="heldout")
        self.tokens = {
            k: torch.as_tensor(b.tokens, device=device)
            for k, b in (("uniform", self.uniform), ("enriched", self.enriched))
        }

    def __call__(self, model: torch.nn.Module) -> dict:
        loss, correct = position_scores(model, self.tokens["uniform"], self.data.loss_positions)
        cases = self.uniform.cases
        scores = {
            "loss": float(loss.mean()),
            "digit_loss": loss.mean(0).tolist(),
            "digit_acc": correct.float().mean(0).tolist(),
            "exact": float(correct.all(1).float().mean()),
            "case_loss": [_mean_where(loss, cases == c) for c in range(len(addition.CASE_NAMES))],
            "case_acc": [_mean_where(correct, cases == c) for c in range(len(addition.CASE_NAMES))],
        }
        _, enriched_correct = position_scores(model, self.tokens["enriched"], self.data.loss_positions)
        exact = enriched_correct.all(1)
        classes = self.enriched.cascade_class
        scores["class_exact"] = [_mean_where(exact, classes == c) for c in range(self.data.n_digits + 1)]
        return scores


class RepeatEvaluator:
    """Scores a model on fixed held-out repeated spans. Keys: ``loss``, ``acc``,
    ``digit_loss``/``digit_acc`` ``[span]`` (per scored position)."""

    def __init__(self, data: RepeatData, size: int, device: torch.device | str):
        self.data = data
        self.tokens = torch.as_tensor(data.sample(np.random.default_rng(EVAL_SEED), size), device=device)

    def __call__(self, model: torch.nn.Module) -> dict:
        loss, correct = position_scores(model, self.tokens, self.data.loss_positions)
        return {
            "loss": float(loss.mean()),
            "digit_loss": loss.mean(0).tolist(),
            "digit_acc": correct.float().mean(0).tolist(),
            "acc": float(correct.float().mean()),
        }


# The evaluation of each data source, by the source's name (``lab.data.SOURCES``).
EVALUATORS = {AdditionData.source: AdditionEvaluator, RepeatData.source: RepeatEvaluator}


def evaluator(data: DataSource, size: int, device: torch.device | str) -> Callable[[torch.nn.Module], dict]:
    """The held-out evaluation of ``data``'s source, on ``size`` problems."""
    return EVALUATORS[data.source](data, size, device)


# --------------------------------------------------------------------------- training


@dataclass
class TrainResult:
    """What training produces: the history (one entry per evaluation, as lists under
    each key: ``step``, ``seconds`` (training time so far, the evaluations and
    checkpoint copies left out), ``lr``, ``train_loss`` and the
    keys of the data source's evaluator, ``EVALUATORS``) and the
    checkpoint series ``{step: state_dict}`` of the underlying native model."""

    history: dict[str, list] = field(default_factory=dict)
    checkpoints: dict[int, dict[str, torch.Tensor]] = field(default_factory=dict)
    seconds: float = 0.0


def make_optimizer(params: Iterable[torch.nn.Parameter], cfg: TrainConfig) -> torch.optim.AdamW:
    """AdamW as the lab trains with it. ``fused`` updates every tensor in one kernel rather
    than a handful of kernels per tensor: the step's cost no longer grows with the number
    of parameter tensors (TransformerLens' native model has separate q, k, v).

    Weight decay applies to every parameter, LayerNorm gains, biases and embeddings
    included. Deliberately, for now: the presets were tuned with it (add2 ends with 0
    errors on 2M held-out problems), and the usual exemption would change every trained
    model and result. Whether exempting them trains faster is a question for a sweep
    over recipes, not a default to change silently."""
    return torch.optim.AdamW(params, lr=cfg.lr, weight_decay=cfg.weight_decay, betas=(0.9, 0.98), fused=True)


def train_step(
    model: torch.nn.Module, optimizer: torch.optim.Optimizer, tokens: torch.Tensor, positions: torch.Tensor
) -> torch.Tensor:
    """One optimizer step on the answer-only loss; returns the loss before the step.

    tokens: ``[batch, seq]``; positions: ``[scored]``, the positions whose prediction of
    the next token counts. Gradients are clipped to global norm 1.
    """
    logits = model(tokens)[:, positions]  # [batch, scored, vocab]
    loss = F.cross_entropy(logits.flatten(0, 1), tokens[:, positions + 1].flatten())
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    optimizer.step()
    return loss.detach()


def train(model: torch.nn.Module, cfg: TrainConfig, log: Callable[[str], None] | None = print) -> TrainResult:
    """Train ``model`` (a TransformerBridge) in place on ``cfg.data``.

    Loss: mean cross-entropy of the scored positions (the answer digits) only. Steps run
    through ``lab.forward.TrainingForward`` (bit for bit the bridge's forward, unless
    ``cfg.fused_attention``); evaluations through the bridge.
    """
    numerics.pin()
    torch.manual_seed(cfg.seed)
    rng = np.random.default_rng(cfg.seed)
    device = next(model.parameters()).device
    evaluate = evaluator(cfg.data, cfg.eval_size, device)
    positions = torch.as_tensor(cfg.data.loss_positions, device=device)
    keep = set(checkpoint_steps(cfg.steps, cfg.n_checkpoints))
    optimizer = make_optimizer(model.parameters(), cfg)
    forward = TrainingForward(model, cfg.fused_attention)  # the bridge's weights, without its hook points
    result = TrainResult()
    native = model.original_model  # plain nn.Module whose state_dict the cache stores
    recent: list[float] = []
    start = time.perf_counter()
    training = 0.0  # seconds spent on training steps alone

    for step in range(cfg.steps + 1):
        if step in keep or step % cfg.eval_every == 0:
            training += time.perf_counter() - start
            if step in keep:
                result.checkpoints[step] = {k: v.detach().cpu().clone() for k, v in native.state_dict().items()}
            model.eval()
            scores = evaluate(model)
            model.train()
            train_loss = float(np.mean(recent)) if recent else scores["loss"]
            for key, value in {
                "step": step,
                "seconds": training,
                "lr": lr_at(step, cfg),
                "train_loss": train_loss,
                **scores,
            }.items():
                result.history.setdefault(key, []).append(value)
            recent = []
            if log and step % cfg.eval_every == 0:
                log(_progress_line(step, cfg.steps, scores, training))
            start = time.perf_counter()
        # steps taken so far, for the terminal only (left out of the fingerprint: lab.phases)
        phases.progress(step, cfg.steps, shown=log is not None)
        if step == cfg.steps:
            break
        for group in optimizer.param_groups:
            group["lr"] = lr_at(step, cfg)
        tokens = torch.as_tensor(cfg.data.sample(rng, cfg.batch_size), device=device)
        recent.append(train_step(forward, optimizer, tokens, positions).item())

    model.eval()
    result.seconds = training
    return result


def _progress_line(step: int, steps: int, scores: dict, seconds: float) -> str:
    accuracy = scores.get("exact", scores.get("acc"))
    return (
        f"step {step:>6}/{steps}  loss {scores['loss']:.4f}  "
        f"{'exact' if 'exact' in scores else 'acc'} {100 * accuracy:6.2f}%  {seconds:6.1f}s training"
    )
