"""lab.components: labels round-trip, match TransformerLens' own, and bad labels are refused."""

import pytest
import torch

from lab import components
from lab.components import Group, Head, Mlp, Neuron, Path
from lab.data import AdditionData
from lab.models import ModelConfig, build_model

EXAMPLES = {
    "L1H0": Head(1, 0),
    "L12H3": Head(12, 3),
    "L1N37": Neuron(1, 37),
    "MLP0": Mlp(0),
    "top@L1": Group("top", 1),
    "carry in (right sum >= 10)@L0": Group("carry in (right sum >= 10)", 0),
    "L0H1>MLP1": Path(Head(0, 1), 1),
}


@pytest.mark.parametrize("label, component", EXAMPLES.items())
def test_labels_round_trip(label, component):
    assert components.parse(label) == component
    assert str(component) == label
    assert components.parse(str(component)) == component


@pytest.mark.parametrize(
    "label",
    [
        "",
        "L1",
        "H0",
        "L1H",
        "l1h0",
        "L1H0 ",
        "L-1H0",
        "MLP",
        "MLPx",
        "@L1",
        "top@",
        "top@L",
        "a@b@L1",
        "L0H1>MLP",
        "L0N1>MLP1",
        "embed",
    ],
)
def test_bad_labels_are_refused_with_the_forms(label):
    with pytest.raises(ValueError, match=r"is not a component label; labels are L<layer>H<head>"):
        components.parse(label)


def test_a_group_name_with_an_at_sign_is_refused():
    with pytest.raises(ValueError, match="without '@'"):
        Group("a@b", 1)


def test_parse_as_names_what_the_label_is():
    assert components.parse_as("L1N37", Neuron) == Neuron(1, 37)
    with pytest.raises(ValueError, match="'L1H0' names a head, not a neuron"):
        components.parse_as("L1H0", Neuron)


def test_is_a_sorts_attribution_labels():
    labels = ["embed", "pos_embed", "L0H0", "L0H1", "L0N0", "L0N1", "bias"]
    assert [l for l in labels if components.is_a(l, Head)] == ["L0H0", "L0H1"]
    assert [l for l in labels if components.is_a(l, Neuron)] == ["L0N0", "L0N1"]


def test_head_labels_follow_flattened_layer_head_axes():
    assert components.head_labels(2, 2) == ["L0H0", "L0H1", "L1H0", "L1H1"]
    assert components.heads(2, 2)[3] == Head(1, 1)


def test_head_and_neuron_labels_are_transformer_lens_labels():
    model = build_model(ModelConfig(n_layers=2, d_model=16, n_heads=2, d_mlp=4), AdditionData(1), device="cpu")
    _, cache = model.run_with_cache(torch.zeros(1, AdditionData(1).seq_len, dtype=torch.long))
    _, labels = cache.get_full_resid_decomposition(expand_neurons=True, return_labels=True)
    named = [components.parse(l) for l in labels if l not in ("embed", "pos_embed", "bias")]
    assert set(named) == {*components.heads(2, 2), *(Neuron(layer, n) for layer in range(2) for n in range(4))}


def test_slug_is_a_metric_name():
    assert components.slug(str(Head(1, 0))) == "l1h0"
    assert components.slug("top 40 neurons") == "top_40_neurons"
    assert components.slug("naive Bayes") == "naive_bayes"
