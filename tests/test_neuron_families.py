"""lab.analysis.neurons.neuron_families: the shared pipeline is its steps, and families
group the top neurons by the name of their match."""

import numpy as np

from lab.analysis import attribution, neurons, problems
from lab.data import AdditionData
from lab.models import ModelConfig, build_model


def test_neuron_families_is_rank_map_classify():
    data = AdditionData(2)
    model = build_model(ModelConfig(n_layers=2, d_model=32, n_heads=2, d_mlp=16), data, device="cpu").eval()
    ranked_on, mapped_on = problems.heldout(data.task, 0, 60, 0.4), problems.heldout(data.task, 1, 200)
    found = neurons.neuron_families(model, ranked_on, mapped_on, k=6, threshold=0.3)

    attr = attribution.attribute(model, ranked_on)
    top = attribution.top_neurons(attr, 6)
    maps = neurons.neuron_maps(model, mapped_on)
    assert found.neurons == top
    for column in neurons.COLUMNS:
        np.testing.assert_array_equal(found.maps[column], maps[column])
    assert found.matches == neurons.classify_neurons(maps, top, 0.3)

    families = found.families()
    assert list(families) == sorted({m.name for m in found.matches})
    assert sorted(n for members in families.values() for n, _ in members) == sorted(top)
    assert all(m.name == name for name, members in families.items() for _, m in members)
