"""The throughput bench's plain-PyTorch baseline has the preset's architecture: the
same parameters as the lab's model, the preset's activation, normalization and
attention-only setting (a baseline of another shape would make the ratio meaningless)."""

import sys
from pathlib import Path

import pytest
import torch.nn as nn

from lab import models, presets

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
from bench_train_throughput import PlainTransformer  # noqa: E402


def _parameters(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


@pytest.mark.parametrize(
    "name, overrides",
    [("attn2", {}), ("add2", {}), ("add2", {"act_fn": "gelu"}), ("tiny", {"normalization_type": None})],
)
def test_the_plain_model_has_the_lab_model_s_parameters_and_settings(name, overrides):
    preset = presets.resolve(name, overrides)
    data = preset.training.data
    lab = models.build_model(preset.model, data)
    plain = PlainTransformer(preset.model, data.seq_len, data.d_vocab)
    assert _parameters(plain) == _parameters(lab.original_model)
    kinds = {type(m) for m in plain.modules()}
    assert (nn.LayerNorm in kinds) == (preset.model.normalization_type is not None)
    if preset.model.attn_only:
        assert not ({nn.ReLU, nn.GELU} & kinds)
    else:
        assert {"relu": nn.ReLU, "gelu": nn.GELU}[preset.model.act_fn] in kinds
