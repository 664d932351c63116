"""The lab, not the user's shell, fixes what changes numbers, and the cache key follows it."""

import ast
import json
import os
import platform
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch

import lab
from lab import models, numerics

ROOT = Path(__file__).resolve().parents[1]

# A tiny training run that prints its loss history and a hash of its weights. The
# "user" sets a thread count of their own first: the lab must override it.
TRAIN = """
import hashlib, json, sys, torch
from lab import models, presets, train
torch.set_num_threads(int(sys.argv[1]))
preset = presets.resolve("tiny", {"steps": 40, "eval_every": 20, "n_checkpoints": 2})
model = models.build_model(preset.model, preset.training.data)
result = train.train(model, preset.training, log=None)
h = hashlib.sha256()
for key, value in sorted(model.original_model.state_dict().items()):
    h.update(key.encode() + value.numpy().tobytes())
print(json.dumps({"loss": result.history["loss"], "train_loss": result.history["train_loss"],
                  "weights": h.hexdigest(), "threads": torch.get_num_threads()}))
"""


def _train_in_subprocess(threads: int, tmp_path: Path) -> dict:
    env = {
        **os.environ,
        "OMP_NUM_THREADS": str(threads),
        "MKL_NUM_THREADS": str(threads),
        "LAB_CACHE": str(tmp_path / "cache"),
    }
    done = subprocess.run(
        [sys.executable, "-c", TRAIN, str(threads)], env=env, cwd=ROOT, capture_output=True, text=True, check=True
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.slow
def test_training_is_bit_identical_whatever_the_shell_sets(tmp_path):
    one, three = _train_in_subprocess(1, tmp_path), _train_in_subprocess(3, tmp_path)
    assert one["threads"] == three["threads"] == numerics.THREADS
    assert one["loss"] == three["loss"] and one["train_loss"] == three["train_loss"]
    assert one["weights"] == three["weights"]


def test_pin_records_the_environment_for_the_run(tmp_path, monkeypatch):
    monkeypatch.setenv("LAB_OUTPUT_DIR", str(tmp_path))
    before = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        env = numerics.pin()
        assert torch.get_num_threads() == numerics.THREADS
    finally:
        torch.set_num_threads(before)
    recorded = json.loads((tmp_path / "environment.json").read_text())
    assert recorded == env
    assert recorded["threads"] == numerics.THREADS and recorded["torch"] == torch.__version__
    assert recorded["cpu_capability"] == torch.backends.cpu.get_cpu_capability()
    assert recorded["mkl_mode"] == os.environ.get("MKL_CBWR")  # "AVX2,STRICT" on x86


def test_cache_key_follows_the_environment_not_the_shell(monkeypatch):
    preset = models.resolve("tiny")
    key = models.cache_key(preset)
    before = torch.get_num_threads()
    try:
        torch.set_num_threads(1)  # the user's setting: training pins it back, so same weights
        assert models.cache_key(preset) == key
    finally:
        torch.set_num_threads(before)
    real = numerics.environment
    monkeypatch.setattr(numerics, "environment", lambda device=None: {**real(device), "cpu_capability": "X"})
    assert models.cache_key(preset) != key
    # a model trained in another MKL mode (or before the lab set one) is another model
    monkeypatch.setattr(numerics, "environment", lambda device=None: {**real(device), "mkl_mode": "X"})
    assert models.cache_key(preset) != key


def _key_after(edits: dict[str, tuple[str, str]], tmp_path: Path) -> str:
    """``models.cache_key`` of ``add2`` computed on a copy of the lab package with
    ``edits`` ({file: (old, new)}) made in it."""
    copy = tmp_path / "lab"
    shutil.rmtree(copy, ignore_errors=True)
    shutil.copytree(ROOT / "lab", copy, ignore=shutil.ignore_patterns("__pycache__"))
    for file, (old, new) in edits.items():
        text = (copy / file).read_text()
        assert old in text, f"the test's edit no longer applies to {file}: {old!r}"
        (copy / file).write_text(text.replace(old, new))
    return models.cache_key(models.resolve("add2"), lab_dir=copy)


def test_cache_key_ignores_docs_and_progress_but_not_the_loss_the_forward_or_the_task(tmp_path):
    unchanged = _key_after({}, tmp_path)
    assert unchanged == models.cache_key(models.resolve("add2"))
    docs = {
        "train.py": (
            '"""One optimizer step on the answer-only loss;',
            '"""One optimizer step (edited docs) on the answer-only loss;',
        ),
        "forward.py": ("def forward(self, tokens", "def forward(  # a comment\n        self, tokens"),
    }
    progress = {"train.py": ('f"step {step:>6}/{steps}', 'f"at step {step:>6}/{steps}')}
    assert _key_after(docs, tmp_path) == unchanged
    assert _key_after(progress, tmp_path) == unchanged
    weights = {
        "train.py": ("tokens[:, positions + 1].flatten())", "tokens[:, positions + 1].flatten(), label_smoothing=0.1)"),
        "forward.py": (
            "def _mlp(parts: dict, x: torch.Tensor) -> torch.Tensor:",
            "def _mlp(parts, x):\n        x = x * 1",
        ),
        "task.py": ("def sample(", "def sample(*extra, "),
    }
    for file, edit in weights.items():
        assert _key_after({file: edit}, tmp_path) != unchanged, f"an edit to {file} kept the key"


def test_weight_code_naming_code_that_is_gone_is_an_error(tmp_path, monkeypatch):
    monkeypatch.setattr(models, "WEIGHT_CODE", (*models.WEIGHT_CODE, "lab/train.py:no_such_function"))
    with pytest.raises(LookupError, match="lab/train.py:no_such_function"):
        models.cache_key(models.resolve("add2"))


def test_sweeps_run_as_many_points_at_once_as_the_cores_hold_at_the_pinned_threads(monkeypatch):
    monkeypatch.setattr(numerics, "THREADS", 2)
    for cores, jobs in ((2, 1), (3, 1), (16, 8), (None, 1)):
        monkeypatch.setattr(numerics.os, "cpu_count", lambda cores=cores: cores)
        assert numerics.default_jobs() == jobs


def _capability(code: str, **given: str) -> str:
    """What ``code`` prints last in a fresh interpreter whose environment has no cap of
    its own (only the settings ``given``)."""
    capped = (
        "ATEN_CPU_CAPABILITY",
        "MKL_ENABLE_INSTRUCTIONS",
        "MKL_CBWR",
        "ONEDNN_MAX_CPU_ISA",
        "OPENBLAS_CORETYPE",
        "NPY_DISABLE_CPU_FEATURES",
    )
    env = {**{k: v for k, v in os.environ.items() if k not in capped}, **given}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    return (done.stdout.strip().splitlines() or [""])[-1] + done.stderr.strip()[-300:]


UNCAPPED = "import torch; torch.ones(2) + 1; print(torch.backends.cpu.get_cpu_capability())"


@pytest.mark.skipif(platform.machine().lower() not in ("x86_64", "amd64"), reason="the cap applies on x86")
def test_importing_the_lab_caps_the_cpu_capability_whatever_the_machine_offers():
    machine = _capability(UNCAPPED)
    capped = _capability("import lab, torch; torch.ones(2) + 1; print(torch.backends.cpu.get_cpu_capability())")
    assert capped == ("DEFAULT" if machine == "DEFAULT" else lab.CPU_CAPABILITY)
    if machine != "DEFAULT":  # numpy's OpenBLAS on the same instruction set, unless the machine set its own
        blas = "import lab, os; print(os.environ['OPENBLAS_CORETYPE'])"
        assert _capability(blas) == "Haswell"
        assert _capability(blas, OPENBLAS_CORETYPE="Zen") == "Zen"
        simd = "import lab, numpy; print(sorted(numpy._core._multiarray_umath.__cpu_features__.items()))"
        features = dict(ast.literal_eval(_capability(simd)))  # numpy's own dispatch: none above AVX2
        assert not features["X86_V4"] and not features["AVX512_ICL"]


@pytest.mark.skipif(platform.machine().lower() not in ("x86_64", "amd64"), reason="the cap applies on x86")
def test_importing_the_lab_puts_mkl_s_products_in_its_strict_reproducible_mode():
    """Capped at AVX2 alone, MKL still chose its code path by the machine: a Sapphire
    Rapids machine gave every model another last bit. MKL says the mode it ran in."""
    product = "import lab, torch; a = torch.ones(64, 64); a @ a"  # the last line out is MKL's
    verbose = _capability(product, MKL_VERBOSE="1")
    assert f"CNR:{lab.CPU_CAPABILITY},STRICT" in verbose
    assert "CNR:OFF" in _capability(product.replace("import lab, ", "import "), MKL_VERBOSE="1")


@pytest.mark.skipif(platform.machine().lower() not in ("x86_64", "amd64"), reason="the cap applies on x86")
def test_torch_kernels_chosen_before_the_cap_are_refused_not_recorded():
    machine = _capability(UNCAPPED)
    if machine in (lab.CPU_CAPABILITY, *numerics.BELOW_CAP):
        pytest.skip(f"this machine's best is {machine}: nothing above the cap to choose")
    late = _capability("import torch; torch.ones(2) + 1\nfrom lab import numerics; numerics.pin()")
    assert f"torch chose its {machine} kernels before the lab capped them at AVX2" in late
