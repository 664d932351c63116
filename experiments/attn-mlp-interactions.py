# ---
# title: Attention-MLP interactions
# project: n-digit-addition
# question: Which attention heads feed which MLP neurons, and how much does that matter?
# links: [ideas/attention-mlp-interaction]
# checks: ["model(preset, overrides)"]
# sweeps: {seeds: {seed: [0, 1, 2, 3, 4]}}
# ---

# %% [markdown]
# # Attention → MLP interactions
#
# **Question.** Heads move digits to the position that predicts an answer digit;
# neurons there compute with them. Which heads feed which of the important neurons,
# and how much of a head's effect on the carry decision runs through them?
#
# **Method, from the weights.** A composition score (Elhage et al., 2021) measures how
# much of what one matrix writes another reads, `|A B|_F / (|A|_F |B|_F)`. Here the
# writer is a head's OV circuit and the reader a neuron's input direction; TransformerLens'
# `utilities.composition_scores` computes it on `FactoredMatrix` forms, with
# `lab.analysis.interactions` supplying the head-by-neuron factors and folding in the
# LayerNorm weights and centring the bridge leaves unfolded. A random reader scores
# about `1/sqrt(d_model)` (metric `composition_baseline`).
#
# **Method, from the activations.** Path patching: each head's output is replaced by
# its mean over the problems in the *input of the MLPs only* (a hook on
# `blocks.L.ln2.hook_in`), leaving the residual stream and so every other reader
# untouched. We record the change of every neuron's activation and of the
# correct-minus-rival logit difference. Then for heads × top neurons: the joint effect
# of cutting the head's MLP paths *and* mean-ablating the neuron, minus the two
# separate effects, is their interaction. Ablating the neuron takes away whatever the
# head did through it, so a strongly negative interaction marks a head whose effect
# flows through that neuron.

# %% tags=["parameters"]
seed = 0  # seed of training (initialization, data order), of the problems and of resampling
preset = "add2"  # the model preset
overrides = {}  # settings that differ from the preset, e.g. {"n_digits": 3, "steps": 600}
n_problems = 300  # held-out problems
nine_share = 0.4  # share of columns forced to sum to 9 (enriches carry cascades)
n_neurons = 12  # top neurons (by direct logit attribution) in the interaction map
method = "mean"  # how a path or neuron is ablated: zero, mean or resample

# %%
import numpy as np

from lab import components, figures, models, record
from lab.analysis import ablation, attribution, interactions, problems
from lab.components import Neuron

trained = models.load_or_train(preset, {**overrides, "seed": seed})
model = trained.model
cfg = model.cfg
batch = problems.heldout(trained.task, seed, n_problems, nine_share)
positions = trained.labels
top = attribution.top_neurons(attribution.attribute(model, batch), n_neurons)  # (pos, layer, neuron)
neuron_labels = [str(Neuron(l, n)) for _, l, n in top]
head_list = [(head.layer, head.head) for head in components.heads(cfg.n_layers, cfg.n_heads)]
head_labels = components.head_labels(cfg.n_layers, cfg.n_heads)

# %% [markdown]
# ## From the weights
#
# Composition score of every head's output with the input of each top neuron (figure
# `composition-scores`); a neuron of layer 0 cannot read a head of layer 1 (blank).

# %%
scores = interactions.head_neuron_composition(model)  # [layer, head, layer, neuron]
composition = np.array(
    [[float(scores[hl, h, l, n]) if l >= hl else np.nan for _, l, n in top] for hl, h in head_list]
)  # [head, top neuron]
record.metric("composition_baseline", 1 / np.sqrt(cfg.d_model), description="score of a random reader, 1/sqrt(d_model)")
record.metric("composition_max", np.nanmax(composition), description="largest head x top-neuron composition score")
record.metric(
    "composition_max_ratio",
    np.nanmax(composition) * np.sqrt(cfg.d_model),
    description="largest head x top-neuron composition score over the random reader's 1/sqrt(d_model)",
)
fig = figures.heatmap(
    composition, neuron_labels, head_labels, xlabel="neuron (top by attribution)", ylabel="head", diverging=False
)
record.figure(fig, "composition-scores", "Composition score of each head's OV output with each top neuron's input")

# %% [markdown]
# ## From the activations: cutting a head's paths into the MLPs
#
# Change of the logit difference per answer digit when each head's output is removed
# from the MLP inputs only (figure `path-logit-diff`), and the mean change of each top
# neuron's activation at its own digit (figure `path-activation`).

# %%
ablator = ablation.Ablator(model, batch, method, seed=seed)
paths = interactions.path_effects(ablator)
record.figure(
    figures.heatmap(
        paths.logit_diff.reshape(len(head_list), -1).numpy(),
        positions,
        head_labels,
        xlabel="answer digit",
        ylabel="head's paths into the MLPs cut",
    ),
    "path-logit-diff",
    "Change of the correct-minus-rival logit difference when a head's MLP paths are cut",
)
record.metric(
    "path_effect_max",
    paths.logit_diff.abs().max(),
    unit="logits",
    description="largest |mean change of the logit difference| at a digit from cutting one head's paths into the MLPs",
)
record.metric(
    "path_effect_layer0",
    float(paths.logit_diff.abs().amax(-1)[0].max() > paths.logit_diff.abs().amax(-1)[1:].max()),
    unit="seeds",
    description="1 if the head whose MLP paths matter most (largest |change| at a digit) is in layer 0",
)
activation = np.array([[float(paths.activation[hl, h, l, n, pos]) for pos, l, n in top] for hl, h in head_list])
fig = figures.heatmap(activation, neuron_labels, head_labels, xlabel="neuron (at its digit)", ylabel="head")
record.figure(fig, "path-activation", "Mean change of each top neuron's activation when a head's MLP paths are cut")

# %% [markdown]
# ## Interactions: joint minus separate effects
#
# Heads × top neurons, on the logit difference, per answer digit (menu) and at each
# neuron's own digit (figure `interaction-map`). Metric `top_interaction` is the
# largest |interaction| at a neuron's own digit; the table lists the strongest pairs
# with their composition scores, to compare the weight-based and the activation-based
# view (metric `weight_activation_rank_corr`: rank correlation, over head × neuron
# pairs, of the composition score with |activation change|).

# %%
grid = interactions.interaction_map(ablator, head_list, [(l, n) for _, l, n in top]).numpy()  # [head, neuron, pos]
own_digit = np.stack([grid[:, j, pos] for j, (pos, _, _) in enumerate(top)], 1)  # [head, neuron]
maps = {"at each neuron's digit": own_digit, **{p: grid[:, :, i] for i, p in enumerate(positions)}}
record.figure(
    figures.heatmap_menu(
        maps, neuron_labels, head_labels, xlabel="neuron", ylabel="head", hover="%{y} × %{x}: %{z:.3f} logits"
    ),
    "interaction-map",
    "Interaction (joint minus separate effects) of heads' MLP paths with top neurons",
)
record.metric(
    "top_interaction",
    np.abs(own_digit).max(),
    unit="logits",
    description="largest |interaction| of a head's MLP paths with a top neuron, at the neuron's digit",
)
record.metric(
    "top_interaction_share",
    np.abs(own_digit).max() / paths.logit_diff.abs().max(),
    description="largest |interaction| over the largest |change of the logit difference| from cutting a head's MLP paths",
)
record.metric(
    "top_interaction_negative",
    float(own_digit.flat[np.abs(own_digit).argmax()] < 0),
    unit="seeds",
    description="1 if the strongest interaction is negative: the head's effect flows through the neuron",
)


def ranks(x: np.ndarray) -> np.ndarray:
    return x.argsort().argsort().astype(float)


ok = ~np.isnan(composition)
rank_corr = np.corrcoef(ranks(composition[ok]), ranks(np.abs(activation[ok])))[0, 1]
record.metric(
    "weight_activation_rank_corr",
    rank_corr,
    description="rank correlation of composition score with |activation change| over head x neuron pairs",
)
record.metric(
    "weight_activation_weak",
    float(abs(rank_corr) < 0.3),
    unit="seeds",
    description="1 if the rank correlation of composition score with |activation change| is within ±0.3",
)
record.metric(
    "weight_activation_negative",
    float(rank_corr < 0),
    unit="seeds",
    description="1 if the rank correlation of composition score with |activation change| is negative",
)
order = np.dstack(np.unravel_index(np.argsort(-np.abs(own_digit), axis=None), own_digit.shape))[0][:10]
record.table(
    [
        {
            "head": head_labels[h],
            "neuron": neuron_labels[j],
            "digit": positions[top[j][0]],
            "interaction": float(own_digit[h, j]),
            "activation change": float(activation[h, j]),
            "composition": float(composition[h, j]),
        }
        for h, j in order
    ],
    "Strongest head × neuron interactions",
)

# %% [markdown]
# ## Result
#
# Over the 5 seeds of the `seeds` sweep (each count and number links to it; heads and
# neurons are named by what they do, since their indices differ between seeds):
#
# * **From the weights.** The strongest composition of a head's output with a top
#   neuron's input is {{ metric attn-mlp-interactions@seeds.composition_max }},
#   {{ metric attn-mlp-interactions@seeds.composition_max_ratio }} times the score of a
#   random reader ({{ metric attn-mlp-interactions@seeds.composition_baseline }}).
# * **From the activations.** Cutting one head's paths into the MLPs moves the logit
#   difference at a digit by up to {{ metric attn-mlp-interactions@seeds.path_effect_max }};
#   that head is in layer 0 in {{ metric attn-mlp-interactions@seeds.path_effect_layer0 }}.
# * **Through single neurons.** The strongest interaction of a head's MLP paths with one
#   top neuron is {{ metric attn-mlp-interactions@seeds.top_interaction }}, against the
#   largest path effect of any head a ratio of
#   {{ metric attn-mlp-interactions@seeds.top_interaction_share }}; it is negative (the
#   head's effect flowing through the neuron) in
#   {{ metric attn-mlp-interactions@seeds.top_interaction_negative }}. Where the ratio is
#   small, what a head sends into the MLPs is not carried by any one top neuron.
# * **Weights against activations.** Over head × neuron pairs, the rank correlation of
#   the composition score with the change of the neuron's activation is
#   {{ metric attn-mlp-interactions@seeds.weight_activation_rank_corr }}: negative in
#   {{ metric attn-mlp-interactions@seeds.weight_activation_negative }}, within ±0.3 in
#   {{ metric attn-mlp-interactions@seeds.weight_activation_weak }}. Where it is not
#   positive, a high composition score does not mark the pairs whose activations move
#   most: the weights alone do not say which heads drive which neurons.
#
# ## Caveats
#
# The interaction is measured on the logit difference at the neuron's digit; a pair can
# matter elsewhere. Path patching uses the *clean* head output as what is removed, so
# when layer-0 changes alter a layer-1 head, that change is not removed from the MLP.
# Composition scores ignore which tokens a head attends to: a large score says what the
# head *could* feed a neuron, the activations what it does.
