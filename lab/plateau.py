"""The shelf as the loss shows it: where a loss curve's descent stalls, and where it
resumes or fades, read from the curve alone.

Learning curves fall in bursts spread over orders of magnitude of steps, so the
descent is measured in log-steps: the **rate** at a checkpoint is -dL/du with
u = ln(1 + step), the slope of a least-squares line through the checkpoints within
``window`` of it in u (at least its two neighbours). That is a slope per step times
the step, so a curve sampled unevenly gives the same rates as one sampled evenly,
and every location below is a step, interpolated between checkpoints, never a
count of checkpoints.

    rate = descent_rate(steps, loss)                  # [n_ckpt], nats per unit of ln(1 + step)
    for p in find_plateaus(steps, loss):              # in order of training
        p.start, p.end, p.how, p.length, p.level

A descent **stalls** where its rate falls below ``slow`` times the fastest it had
been since it began (its ``peak``, at least ``min_peak``). The plateau then ends

* **resumes**: where the rate climbs back to ``resume`` times that peak (a second
  descent), or
* **fades**: where, without such a burst, the loss has drifted down to ``fade`` times
  its level at the stall,

whichever comes first; **open** if neither happens by the last checkpoint (``end`` is
NaN: the plateau lasts at least to the end of training). A plateau is a property of
the loss curve, independent of why the loss pauses; ``lab.dynamics.find_shelf`` is the
other fact, the interval where the model splits its bet between "+0" and "+1".
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

WINDOW = 0.15  # width in ln(1 + step) of each local slope: +-7.5% of the step


@dataclass(frozen=True)
class Plateau:
    """One stall of a loss curve. ``start``, ``end``: steps (interpolated); ``how``:
    "resumes", "fades" or "open" (``end`` NaN); ``level``: the loss at the stall
    (nats); ``peak``: the fastest rate of the descent before it (nats per unit of
    ln(1 + step))."""

    start: float
    end: float
    how: str
    level: float
    peak: float

    @property
    def length(self) -> float:
        """Steps from the stall to where the plateau ends (NaN while open)."""
        return self.end - self.start


def log_steps(steps: np.ndarray) -> np.ndarray:
    """u = ln(1 + step), ``[n_ckpt]``: the axis rates are taken along."""
    return np.log1p(np.asarray(steps, dtype=float))


def descent_rate(steps: np.ndarray, loss: np.ndarray, window: float = WINDOW) -> np.ndarray:
    """-dL/d ln(1 + step) at every checkpoint, ``[n_ckpt]`` (``steps``, ``loss``
    ``[n_ckpt]``, steps increasing): the slope of the least-squares line through the
    checkpoints within ``window`` / 2 of it in ln(1 + step), and always its neighbours."""
    u, loss = log_steps(steps), np.asarray(loss, dtype=float)
    if len(u) < 2 or np.any(np.diff(u) <= 0):
        raise ValueError("a rate needs at least two checkpoints at increasing steps")
    rate = np.empty(len(u))
    for i in range(len(u)):
        near = np.abs(u - u[i]) <= window / 2
        near[max(0, i - 1) : i + 2] = True
        du = u[near] - u[near].mean()
        rate[i] = -np.sum(du * (loss[near] - loss[near].mean())) / np.sum(du * du)
    return rate


def _cross(u: np.ndarray, y: np.ndarray, i: int, level: float) -> float:
    """Where ``y`` crosses ``level`` between points i-1 and i, in u (linear)."""
    if i == 0 or y[i] == y[i - 1]:
        return float(u[i])
    frac = (level - y[i - 1]) / (y[i] - y[i - 1])
    return float(u[i - 1] + min(max(frac, 0.0), 1.0) * (u[i] - u[i - 1]))


def _step(u: float) -> float:
    return float(np.expm1(u))


def find_plateaus(
    steps: np.ndarray,
    loss: np.ndarray,
    slow: float = 0.2,
    resume: float = 0.4,
    fade: float = 0.5,
    min_peak: float = 0.5,
    window: float = WINDOW,
) -> list[Plateau]:
    """Every plateau of the loss curve ``loss`` ``[n_ckpt]`` over ``steps`` ``[n_ckpt]``,
    in order (see the module's definitions). A descent counts once its rate has reached
    ``min_peak`` nats per unit of ln(1 + step); after a plateau resumes, the next
    descent's peak is measured afresh."""
    u, loss = log_steps(steps), np.asarray(loss, dtype=float)
    rate = descent_rate(steps, loss, window)
    found: list[Plateau] = []
    i, peak = 0, 0.0
    while i < len(u):
        peak = max(peak, rate[i])
        if peak < min_peak or rate[i] >= slow * peak:
            i += 1
            continue
        start = _cross(u, rate, i, slow * peak)
        level = float(np.interp(start, u, loss))
        end, how = math.nan, "open"
        for j in range(i + 1, len(u)):
            if rate[j] >= resume * peak:
                end, how = _cross(u, rate, j, resume * peak), "resumes"
                break
            if loss[j] <= fade * level:
                end, how = _cross(u, loss, j, fade * level), "fades"
                break
        found.append(Plateau(_step(start), _step(end) if how != "open" else math.nan, how, level, float(peak)))
        if how == "open":
            break
        i, peak = j, 0.0  # the next descent is measured from where this plateau ended
    return found


def first_plateau_below(plateaus: list[Plateau], level: float) -> Plateau | None:
    """The first of ``plateaus`` that stalls at a loss of at most ``level`` nats (e.g.
    below ln 10, the loss of a digit whose column sum is not yet known); None if none."""
    return next((p for p in plateaus if p.level <= level), None)
