"""Thin wrappers over TransformerLens for what the experiments repeat.

Each module is importable alone; nothing is re-exported here.

- attribution:   direct logit attribution of every head and neuron to the logit
                 difference between the answer digit and its "+0"/"+1" rival
- interactions:  how attention heads feed MLP neurons, from weights (composition
                 scores) and from activations (path patching into the MLP input)
- neurons:       activation maps over digit pairs, neuron families, and the pipeline
                 from attribution to families (``neuron_families``)
- ablation:      zero-, mean- and resample-ablation of heads, MLP layers and neurons
- attention, circuits, induction: attention patterns, OV/QK circuits, induction heads
- problems:      held-out problems of a model's task, answer digits by name (numpy only)

Components (heads, neurons, MLP layers, groups, paths) are named by ``lab.components``.
"""
