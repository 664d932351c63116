# ---
# title: Neuron logit attribution
# project: n-digit-addition
# question: What does each MLP neuron contribute to the logits?
# links: [ideas/per-neuron-logit-contributions]
# checks: ["model(preset, overrides)"]
# sweeps: {seeds: {seed: [0, 1, 2, 3, 4]}}
# ---

# %% [markdown]
# # Neuron logit attribution
#
# **Question.** At every answer digit the model must settle the incoming carry: the
# correct digit and its *rival* (the digit it would give with the other carry, "+0"
# versus "+1") differ by one. Which heads and which MLP neurons push the logit
# difference `logit[correct] - logit[rival]`, and do neurons really act as independent
# additive contributions to it?
#
# **Method.** TransformerLens' `ActivationCache.get_full_resid_decomposition(
# expand_neurons=True, apply_ln=True, project_output_onto=...)` splits the final
# residual stream into every head's result, every neuron's result (activation times
# its `W_out` row), the embeddings and the summed output biases; each part is centred
# and divided by the final LayerNorm's scale *as cached in the real forward pass*, then
# projected on the unembedding. `lab.analysis.attribution` unembeds through the final
# LayerNorm's weight (the bridge does not fold it, so `logit_attrs`, which dots with
# `W_U` alone, would be off), adds the constant from the LayerNorm and unembedding
# biases, and takes correct minus rival per problem. The problems are held-out, with
# columns forced to sum to 9 at rate `nine_share` so that cascades are common.
#
# **Where it is exact, where approximate.** With the LayerNorm scale frozen, logits are
# an affine function of the residual stream, so the parts add up to the logit difference
# to float precision (metric `attribution_residual_max`). But the scale is computed from
# the whole residual stream: removing one component changes it, so a part is not what
# removing that component would do, even along the direct path alone. We measure that
# gap for the top components by removing each from the final residual stream and
# re-running the final LayerNorm (`direct_path_effects`; figure `ln-gap`, metric
# `ln_gap_median`). Indirect effects (a neuron's output read by later layers) are not
# in a direct attribution at all; see the ablations experiment.

# %% tags=["parameters"]
seed = 0  # seed of training (initialization, data order) and of the problems
preset = "add2"  # the model preset
overrides = {}  # settings that differ from the preset, e.g. {"n_digits": 3, "steps": 600}
n_problems = 1000  # held-out problems attributed
nine_share = 0.4  # share of columns forced to sum to 9 (enriches carry cascades)
top_k = 10  # neurons counted in the top-neuron share
n_gap = 30  # top components whose LayerNorm gap is measured

# %%
import numpy as np
import plotly.graph_objects as go
import torch

from lab import components, figures, models, record
from lab.analysis import attribution, problems
from lab.components import Head, Mlp, Neuron
from lab.task import CASE_NAMES

trained = models.load_or_train(preset, {**overrides, "seed": seed})
model = trained.model
batch = problems.heldout(trained.task, seed, n_problems, nine_share)
positions = trained.labels
attr = attribution.attribute(model, batch)
heads, neurons = attr.indices(Head), attr.indices(Neuron)

# %% [markdown]
# ## The parts add up
#
# The largest difference, over all problems and answer digits, between the logit
# difference and the sum of all parts plus the constant.

# %%
record.metric(
    "attribution_residual_max",
    attr.residual.abs().max(),
    unit="logits",
    description="max |logit diff - sum of parts - constant|, final LN scale frozen",
)
record.metric(
    "parts_add_up",
    float(attr.residual.abs().max() < 1e-3),
    unit="seeds",
    description="1 if the parts add up to the logit difference within 1e-3 logits everywhere",
)
record.metric(
    "logit_diff_mean", attr.logit_diff.mean(), unit="logits", description="mean correct-minus-rival logit difference"
)
record.metric(
    "neuron_share_of_attribution",
    attr.parts[neurons].sum(0).abs().mean() / attr.parts.abs().sum(0).mean(),
    description="|summed neuron parts| / summed |parts|, mean over problems and digits",
)

# %% [markdown]
# ## Who pushes the carry decision, per answer digit and carry case
#
# Mean signed attribution of each head, each MLP layer's neurons together, the
# embeddings and the biases (figure `attribution-by-component`), per carry case of the
# answer digit: base (incoming carry 0), carry (made by the column to the right) and
# cascade (passed on through a column summing to 9).

# %%
groups = {attr.labels[i]: [i] for i in heads}
groups.update(
    {
        f"{Mlp(l)} neurons": [i for i in neurons if components.parse(attr.labels[i]).layer == l]
        for l in range(model.cfg.n_layers)
    }
)
groups.update({label: [attr.labels.index(label)] for label in ("embed", "pos_embed", "bias")})
grouped = torch.stack([attr.parts[idx].sum(0) for idx in groups.values()])  # [group, batch, pos]
grouped = torch.cat([grouped, attr.constant[None]]).numpy()
group_names = [*groups, "LN/unembed bias"]


def masked_mean(values: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Mean over problems of ``values [component, batch, pos]`` where ``mask [batch, pos]``."""
    return np.where(mask.sum(0) > 0, (values * mask).sum(1) / np.maximum(mask.sum(0), 1), np.nan)


cases = {
    "all digits": np.ones_like(batch.cases, dtype=bool),
    **{name: batch.cases == k for k, name in enumerate(CASE_NAMES)},
}
fig = figures.heatmap_menu(
    {case: masked_mean(grouped, mask) for case, mask in cases.items()},
    positions,
    group_names,
    xlabel="answer digit",
    ylabel="component",
    hover="%{y} at %{x}: %{z:.2f} logits",
)
record.figure(
    fig,
    "attribution-by-component",
    "Mean attribution to the correct-minus-rival logit difference; the menu picks the carry case",
)

# %% [markdown]
# ## How concentrated the neurons' attribution is
#
# A neuron's importance at a digit is its mean |attribution| there. The top-neuron
# share is the share of all neurons' importance held by the `top_k` most important
# (metric `top_neuron_share`, mean over digits); figure `neuron-concentration` shows the
# whole curve per digit.

# %%
importance = attr.importance()[neurons]  # [neuron, pos]
share = attribution.top_share(importance, top_k)
record.metric(
    "top_neuron_share",
    share.mean(),
    description=f"share of neuron importance held by the top {top_k}, mean over digits",
)
record.metric(
    "first_neuron_share",
    attribution.top_share(importance, 1).mean(),
    description="share of neuron importance held by the most important neuron of each digit, mean over digits",
)
cumulative = importance.sort(0, descending=True).values.cumsum(0) / importance.sum(0)
for_half = (cumulative < 0.5).sum(0) + 1  # [pos]
record.metric(
    "neurons_for_half",
    for_half.float().mean(),
    description="neurons needed for half the neuron importance, mean over digits",
)
record.metric(
    "neurons_spread",
    float((for_half > top_k).all()),
    unit="seeds",
    description=f"1 if at every answer digit more than the top {top_k} neurons are needed for half the importance",
)
fig = figures.lines(
    np.arange(1, len(neurons) + 1),
    {p: cumulative[:, i] for i, p in enumerate(positions)},
    xlabel="neurons, most important first",
    ylabel="share of neuron importance",
    log_x=True,
)
record.figure(fig, "neuron-concentration", "Cumulative share of neuron importance per answer digit")

# %% [markdown]
# ## Every neuron, per digit and carry case
#
# Mean signed attribution of every neuron (figure `neuron-attribution`; hover for the
# neuron id; the menu picks digit and carry case), and the top neurons as a table.

# %%
signed = {
    f"{p} · {case}": masked_mean(attr.parts[neurons].numpy(), mask)[:, i]
    for i, p in enumerate(positions)
    for case, mask in cases.items()
}
neuron_labels = [attr.labels[i] for i in neurons]
fig = go.Figure(
    [
        go.Scatter(
            x=np.arange(len(neurons)),
            y=y,
            mode="markers",
            text=neuron_labels,
            marker=dict(size=5),
            hovertemplate="%{text}: %{y:.3f} logits<extra></extra>",
        )
        for y in signed.values()
    ]
)
fig.update_xaxes(title="neuron (layer 0 then layer 1)")
fig.update_yaxes(title="mean attribution (logits)")
record.figure(
    figures.with_menu(figures.style(fig), list(signed)),
    "neuron-attribution",
    "Mean attribution of every neuron; the menu picks answer digit and carry case",
)

top = attribution.top_neurons(attr, 15)
rows = []
for pos, layer, n in top:
    label = str(Neuron(layer, n))
    i = attr.labels.index(label)
    row = {"neuron": label, "digit": positions[pos], "importance": float(importance[neurons.index(i), pos])}
    row.update({case: float(masked_mean(attr.parts[[i]].numpy(), mask)[0, pos]) for case, mask in cases.items()})
    rows.append(row)
record.table(rows, "Top neurons: importance and mean attribution at their digit, per carry case")

# %% [markdown]
# ## Where LayerNorm makes it approximate
#
# For the `n_gap` most important heads and neurons: attribution (scale frozen) against
# the logit difference lost when the component is removed from the final residual
# stream and the final LayerNorm recomputed (figure `ln-gap`). Points on the diagonal
# mean the LayerNorm is locally linear for that component. `ln_gap_median` is the median
# over components of mean |gap| / mean |attribution|. Removing a component changes the
# scale by some fraction, and that fraction rescales the *whole* logit difference
# (metric `logit_diff_mean`), which is far larger than any single part: so even a small
# change of scale moves the logits by as much as one part. The sum stays exact; a
# single part, read as "what removing this would do", is only approximate.

# %%
overall = attr.importance().mean(1)
candidates = [i for i in overall.argsort(descending=True).tolist() if i in heads or i in neurons][:n_gap]
gap_labels = [attr.labels[i] for i in candidates]
effects = attribution.direct_path_effects(model, batch, gap_labels)  # [component, batch, pos]
parts = attr.parts[candidates]
relative = (effects - parts).abs().mean((1, 2)) / parts.abs().mean((1, 2))
record.metric(
    "ln_gap_median", relative.median(), description="median relative gap between attribution and direct-path removal"
)
record.metric(
    "ln_gap_over_tenth",
    float(relative.median() > 0.1),
    unit="seeds",
    description="1 if the median relative gap between attribution and direct-path removal exceeds 0.1",
)
fig = go.Figure(
    [
        go.Scatter(
            x=parts.mean(1)[:, i],
            y=effects.mean(1)[:, i],
            mode="markers",
            name=p,
            text=gap_labels,
            hovertemplate="%{text}: attribution %{x:.3f}, removal %{y:.3f}<extra></extra>",
        )
        for i, p in enumerate(positions)
    ]
)
figures.diagonal(fig, float(parts.mean(1).abs().max()))
fig.update_xaxes(title="attribution, LN scale frozen (logits)")
fig.update_yaxes(title="direct-path removal, LN recomputed (logits)")
record.figure(
    figures.style(fig), "ln-gap", "Attribution vs. direct-path removal, per answer digit (mean over problems)"
)

# %% [markdown]
# ## Result
#
# Over the 5 seeds of the `seeds` sweep (each count and number links to it):
#
# * **The parts add up, with the scale frozen.** Heads, neurons, embeddings and biases
#   add up to the logit difference between the correct digit and its "+0"/"+1" rival
#   to within 1e-3 logits in {{ metric neuron-logit-attribution@seeds.parts_add_up }}
#   (largest residual {{ metric neuron-logit-attribution@seeds.attribution_residual_max }};
#   mean logit difference {{ metric neuron-logit-attribution@seeds.logit_diff_mean }}).
# * **A part is not what removing it does.** Removing a component from the final
#   residual stream and recomputing the LayerNorm differs from its attribution by a
#   median {{ metric neuron-logit-attribution@seeds.ln_gap_median }} of its size: more
#   than a tenth in {{ metric neuron-logit-attribution@seeds.ln_gap_over_tenth }}.
# * **Neurons act in crowds.** Neurons carry
#   {{ metric neuron-logit-attribution@seeds.neuron_share_of_attribution }} of the
#   attribution. At a digit, its most important neuron holds
#   {{ metric neuron-logit-attribution@seeds.first_neuron_share }} of the neurons'
#   importance, the top ten {{ metric neuron-logit-attribution@seeds.top_neuron_share }},
#   and half of it takes {{ metric neuron-logit-attribution@seeds.neurons_for_half }}
#   neurons (more than ten at every digit in
#   {{ metric neuron-logit-attribution@seeds.neurons_spread }}). By direct attribution,
#   then, no single neuron carries much of the carry decision; what removing neurons
#   costs is measured in [[experiments/ablations]]. The figures and the table above
#   show the neurons of one seed (the `seed` parameter); their indices mean nothing in
#   another seed.
#
# ## Caveats
#
# Attribution is *direct*: a neuron of layer 0 whose output matters only through
# layer 1 gets the small direct part, not its total effect. The rival is defined by
# the true carry, so on the rare wrong answers the "correct" side is still the true digit.
# Problems are enriched with sum-9 columns; the mean over all digits weights the carry
# cases as that enrichment does.
