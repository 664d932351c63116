"""Neuron maps, templates, families and clustering."""

import numpy as np
import torch

from lab import task
from lab.analysis import neurons
from lab.data import AdditionData
from lab.models import ModelConfig, build_model


def test_column_digits_of_each_answer_digit():
    b = task.from_values(task.AdditionTask(3), [127], [405])  # answer digits A3 A2 A1 A0
    cols = neurons.column_digits(b)
    assert [c.tolist() for c in cols["own"]] == [[[-1, 1, 2, 7]], [[-1, 4, 0, 5]]]
    assert [c.tolist() for c in cols["right"]] == [[[1, 2, 7, -1]], [[4, 0, 5, -1]]]


def test_maps_of_a_known_function_are_that_function():
    b = task.enumerate_all(task.AdditionTask(2))
    cols = neurons.column_digits(b)
    a, d = cols["right"]
    values = np.where(a >= 0, a + d, 0.0)[..., None]  # [batch, answer_len, 1]
    maps = neurons.digit_maps(values, a, d)  # [answer_len, 1, 10, 10]
    np.testing.assert_allclose(maps[0, 0], np.add.outer(range(10), range(10)))
    assert np.isnan(maps[-1]).all()  # the units digit has no right column


def test_classify_names_templates_and_their_complements():
    grids = neurons.templates()
    carry_in = grids["carry in (right sum >= 10)"][1]
    noise = np.random.default_rng(0).normal(size=(10, 10))
    assert neurons.classify({"own": noise * 0.01, "right": carry_in}).name == "carry in (right sum >= 10)"
    assert neurons.classify({"own": noise * 0.01, "right": -carry_in}).name == "not carry in (right sum >= 10)"
    match = neurons.classify({"own": grids["sum mod 10 = 3"][1], "right": noise})
    assert (match.family, match.template) == ("sum mod 10", "sum mod 10 = 3")
    assert neurons.classify({"own": noise, "right": np.full((10, 10), np.nan)}).family == "other"


def test_family_counts_merge_signs_and_list_every_family():
    grids = neurons.templates()
    noise = np.random.default_rng(1).normal(size=(10, 10))
    maps = [
        {"own": noise * 0.01, "right": grids["carry in (right sum >= 10)"][1]},
        {"own": noise * 0.01, "right": -grids["carry in (right sum >= 10)"][1]},
        {"own": grids["sum mod 10 = 7"][1], "right": noise * 0.01},
        {"own": grids["sum mod 10 = 2"][1], "right": noise * 0.01},
        {"own": grids["sum mod 10 = 2"][1], "right": noise * 0.01},
        {"own": noise, "right": np.full((10, 10), np.nan)},  # other
    ]
    counts = neurons.family_counts([neurons.classify(m) for m in maps])
    assert list(counts) == neurons.family_names()
    assert len(counts) == 8 and "other" not in counts
    assert counts["carry in (right sum >= 10)"] == 2
    assert counts["sum mod 10"] == 3
    assert sum(counts.values()) == 5 and counts["cascade in (right sum = 9)"] == 0
    assert [neurons.family_slug(f) for f in counts][:4] == [
        "sum_mod_10",
        "makes_a_carry",
        "passes_a_carry_on",
        "own_sum",
    ]


def test_kmeans_separates_separate_blobs():
    rng = np.random.default_rng(0)
    points = np.concatenate([rng.normal(0, 0.1, (20, 5)), rng.normal(5, 0.1, (30, 5))])
    labels = neurons.kmeans(points, 2)
    assert len(set(labels[:20])) == 1 and len(set(labels[20:])) == 1 and labels[0] != labels[-1]


def test_neuron_activations_are_the_cached_post_activations():
    torch.manual_seed(0)
    data = AdditionData(2)
    m = build_model(ModelConfig(n_layers=2, d_model=32, n_heads=2, d_mlp=64), data, device="cpu").eval()
    b = task.sample(data.task, np.random.default_rng(0), 16)
    acts = neurons.neuron_activations(m, b)
    assert acts.shape == (16, 3, 2, 64)
    _, cache = m.run_with_cache(torch.as_tensor(b.tokens))
    np.testing.assert_allclose(acts[:, :, 1], cache["blocks.1.mlp.hook_post"][:, b.task.predict_positions].numpy())
