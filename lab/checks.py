"""Checks of an experiment's parameters that run before any kernel starts.

An experiment names them in its YAML header, as calls on its parameter names:

    # checks: ["model(preset, overrides)", "carry_digit(digit, preset, overrides)"]

The runner calls each with the run's parameter values; a check raises ``LabError``
with a message that names the parameter. torch-free (configs only), so a bad value
costs a fraction of a second, not a kernel start and a training run.
"""

from __future__ import annotations

from typing import Any

from lab import LabError, presets
from lab.analysis import problems


def model(preset: str, overrides: dict[str, Any]) -> None:
    """``preset`` names a preset, and ``overrides`` are settings of it with valid types."""
    presets.resolve(preset, overrides)


def addition_model(preset: str, overrides: dict[str, Any]) -> None:
    """``preset`` (with ``overrides``) is trained on addition."""
    data = presets.resolve(preset, overrides).training.data
    if data.source != "addition":
        raise LabError(f"preset {preset!r} is trained on {data.source} data, not addition")


def carry_digit(digit: str, preset: str, overrides: dict[str, Any]) -> None:
    """``digit`` is an answer digit of that addition model with an incoming carry: any
    but the units digit A0, whose column has no column to its right."""
    addition_model(preset, overrides)
    problems.digit_index(presets.resolve(preset, overrides).training.data.task, digit, carry_in=True)
