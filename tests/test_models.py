"""Models, training and the model cache, on test-sized presets."""

import shutil
from dataclasses import replace

import numpy as np
import pytest
import torch

from lab import LabError, executed, models, presets, task, train
from lab.data import AdditionData, RepeatData
from lab.models import ModelConfig


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    """A private model cache for this module."""
    path = tmp_path_factory.mktemp("cache")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(models.CACHE_ENV, str(path))
        yield path


@pytest.fixture(scope="module", autouse=True)
def restore_threads():
    """Building and training pin torch's thread count (``numerics.pin``); give later test
    modules back the count this process had."""
    before = torch.get_num_threads()
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def tiny(cache):
    return models.load_or_train("tiny", log=None)


def test_tiny_preset_learns_two_digit_addition(tiny):
    held_out = task.enumerate_all(task.AdditionTask(2), split="heldout")
    loss, correct = train.position_scores(tiny.model, torch.as_tensor(held_out.tokens), tiny.data.loss_positions)
    exact = correct.all(1).float().mean().item()
    assert exact >= 0.99, f"exact match on all {len(held_out)} held-out problems: {exact:.4f}"
    assert tiny.history["exact"][-1] >= 0.99
    assert tiny.history["loss"][-1] < tiny.history["loss"][0] / 10


def test_history_and_checkpoints(tiny):
    h = tiny.history
    n_evals = len(h["step"])
    assert h["step"][0] == 0 and h["step"][-1] == tiny.train_config.steps
    assert np.array(h["digit_loss"]).shape == (n_evals, 3)
    assert np.array(h["class_exact"]).shape == (n_evals, 3)
    assert np.array(h["case_loss"]).shape == (n_evals, 3)
    assert tiny.steps[0] == 0 and tiny.steps[-1] == tiny.train_config.steps
    assert set(tiny.steps) <= set(h["step"])  # every checkpoint was evaluated
    seconds = [tiny.seconds_at(step) for step in tiny.steps]
    assert seconds[0] == h["seconds"][0] and seconds[-1] == h["seconds"][-1] and seconds == sorted(seconds)
    final = tiny.at_step(tiny.steps[-1])
    tokens = torch.as_tensor(task.sample(tiny.data.task, np.random.default_rng(0), 64).tokens)
    assert torch.equal(final(tokens), tiny.model(tokens))
    assert not torch.equal(tiny.at_step(0)(tokens), tiny.model(tokens))


def test_checkpoint_steps_are_dense_early():
    steps = train.checkpoint_steps(3000, 40)
    assert steps[0] == 0 and steps[-1] == 3000
    assert sum(s <= 300 for s in steps) >= 10  # a plateau in the first 10% is resolved


def test_cache_hit_returns_identical_weights(tiny, cache):
    again = models.load_or_train("tiny", log=None)
    assert again.path == tiny.path
    for (k, a), (_, b) in zip(
        tiny.model.original_model.state_dict().items(), again.model.original_model.state_dict().items()
    ):
        assert torch.equal(a, b), k
    assert again.history == tiny.history


def test_a_model_used_counts_the_code_behind_its_weights_as_executed(tiny, monkeypatch):
    """A run that loads a cached model never runs the training code, yet its numbers
    depend on it: loading notes WEIGHT_CODE, so a change there stales the run."""
    monkeypatch.setattr(executed, "_seen", set())
    models.load_or_train("tiny", log=None)  # a cache hit
    assert {"lab/train.py:train", "lab/forward.py", "lab/train.py:AdditionEvaluator.__call__"} <= executed._seen


def _damage(path, how: str) -> None:
    blob = path.read_bytes()
    if how == "truncate":
        path.write_bytes(blob[: len(blob) // 2])
    else:  # one flipped byte deep inside the tensor data: torch.load alone would not notice
        i = len(blob) // 2
        path.write_bytes(blob[:i] + bytes([blob[i] ^ 0xFF]) + blob[i + 1 :])


@pytest.mark.parametrize("how", ["truncate", "flip"])
def test_corrupt_cache_file_is_detected(tiny, tmp_path, how):
    copy = tmp_path / tiny.path.name
    copy.write_bytes(tiny.path.read_bytes())
    models.load(copy)  # the intact copy loads
    _damage(copy, how)
    with pytest.raises(models.CorruptCache):
        models.load(copy)


def test_corrupt_cache_entry_is_reported_in_one_line_and_retrained(tiny, cache, tmp_path, monkeypatch, capsys):
    # A copy of the module's cache, so the entry the other tests load stays intact.
    shutil.copytree(cache, tmp_path / "cache")
    monkeypatch.setenv(models.CACHE_ENV, str(tmp_path / "cache"))
    entry = tmp_path / "cache" / tiny.path.relative_to(cache)
    shared = tiny.path.read_bytes()
    _damage(entry, "flip")
    retrained = models.load_or_train("tiny", log=None)
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and str(entry) in err and "corrupt" in err and "retraining" in err
    for a, b in zip(
        tiny.model.original_model.state_dict().values(), retrained.model.original_model.state_dict().values()
    ):
        assert torch.equal(a, b)  # deterministic retrain gives the same model back
    models.load(entry)  # and the entry is good again
    assert tiny.path.read_bytes() == shared


def test_same_seed_same_losses_other_seed_differs():
    data = AdditionData(2)
    cfg = presets.TrainConfig(data=data, steps=30, eval_every=10, eval_size=200, n_checkpoints=4)
    config = ModelConfig(n_layers=1, d_model=32, n_heads=2, d_mlp=64)

    def losses(seed):
        model = models.build_model(config, data)
        run = train.train(model, replace(cfg, seed=seed), log=None)
        return run.history["train_loss"], run.history["loss"]

    assert losses(0) == losses(0)
    assert losses(0) != losses(1)


def test_cache_key_follows_config_and_settings():
    base = models.resolve("tiny")
    assert models.cache_key(base) == models.cache_key(models.resolve("tiny"))
    assert models.cache_key(base) != models.cache_key(models.resolve("tiny", {"lr": 1e-4}))
    assert models.cache_key(base) != models.cache_key(models.resolve("tiny", {"d_model": 32}))
    assert models.cache_key(base) != models.cache_key(models.resolve("tiny", {"n_digits": 3}))


def test_overrides_are_checked():
    with pytest.raises(LabError, match="unknown preset 'nope'"):
        models.resolve("nope")
    with pytest.raises(LabError, match="lrr.*valid settings: .*lr"):
        models.resolve("tiny", {"lrr": 1e-3})
    assert presets.parse_settings(["steps=10", "lr=3e-4", "reverse=true"]) == {"steps": 10, "lr": 3e-4, "reverse": True}


def test_presets_build_bridges_with_transformer_lens_hooks():
    for name in ("add2", "add2-fast", "add1", "attn2"):
        preset = models.PRESETS[name]
        model = models.build_model(preset.model, preset.training.data, "cpu")
        tokens = torch.as_tensor(preset.training.data.sample(np.random.default_rng(0), 2))
        logits, cache = model.run_with_cache(tokens)
        assert logits.shape == (2, preset.training.data.seq_len, preset.training.data.d_vocab)
        last = preset.model.n_layers - 1
        assert cache[f"blocks.{last}.attn.hook_pattern"].shape[1] == preset.model.n_heads
        assert ("blocks.0.mlp.hook_post" in cache) != preset.model.attn_only


def test_layernorm_fast_path_keeps_hooks_working(tiny):
    """Unhooked, the LayerNorms run torch's fused kernel; hooked, TransformerLens' own
    path gives the same logits, the statistics in the cache, and edits that take effect."""
    model = tiny.model
    ln = model.blocks[0].ln1
    assert isinstance(ln, models.LayerNormBridge)
    tokens = torch.as_tensor(tiny.data.sample(np.random.default_rng(1), 32))
    logits, cache = model.run_with_cache(tokens)
    assert torch.equal(logits, model(tokens))

    resid = cache["blocks.0.hook_resid_pre"]  # [batch, pos, d_model]
    centred = resid - resid.mean(-1, keepdim=True)
    torch.testing.assert_close(cache["blocks.0.ln1.hook_scale"], (centred.pow(2).mean(-1, keepdim=True) + 1e-5).sqrt())
    torch.testing.assert_close(cache["blocks.0.ln1.hook_normalized"], centred / cache["blocks.0.ln1.hook_scale"])

    def double_scale(scale, hook):
        return 2 * scale

    with pytest.warns(UserWarning, match="reconstructed from the hooked values"):
        edited = model.run_with_hooks(tokens, fwd_hooks=[("blocks.0.ln1.hook_scale", double_scale)])
    assert not torch.allclose(edited, logits)


def test_repeat_data_repeats_spans_of_varying_length():
    data = RepeatData(span=5, vocab=20, min_span=2)
    tokens = data.sample(np.random.default_rng(0), 200)
    assert tokens.shape == (200, 11) and (tokens[:, 0] == 0).all()
    lengths = []
    for row in tokens:  # the longest k with row[-k:] == row[-2k:-k] (k=5 at most)
        k = max(k for k in range(1, 6) if (row[11 - k :] == row[11 - 2 * k : 11 - k]).all())
        lengths.append(k)
    assert min(lengths) >= 2 and set(range(2, 6)) <= set(lengths)
    # the predictions at positions 5..9 (of tokens 6..10, the second half) are scored
    np.testing.assert_array_equal(data.loss_positions + 1, np.arange(6, 11))
    fixed = RepeatData(span=5, vocab=20).sample(np.random.default_rng(0), 3)
    np.testing.assert_array_equal(fixed[:, 1:6], fixed[:, 6:])
