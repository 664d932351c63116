# ---
# title: Neuron gallery
# project: n-digit-addition
# question: What do the important MLP neurons compute, as functions of the digits?
# links: [ideas/neuron-visualizations]
# checks: ["model(preset, overrides)"]
# sweeps: {seeds: {seed: [0, 1, 2, 3, 4]}}
# ---

# %% [markdown]
# # Neuron gallery
#
# **Question.** An answer digit of column c depends on the two digits of its own column
# and on the two digits of the column to its right (whose sum decides the carry). What
# do the neurons that matter most for the carry decision compute from these four digits?
#
# **Method.** The top neurons are those with the largest direct logit attribution to the
# correct-minus-rival logit difference at some answer digit (see the neuron logit
# attribution experiment). For each, at the position predicting that digit, its mean
# activation (TransformerLens' `blocks.L.mlp.hook_post` via `run_with_cache`) over
# uniform held-out problems is drawn as a 10 × 10 map over the digit pairs of the own
# column and of the column to the right, everything else averaged out. Each neuron's
# maps are correlated with template maps (`lab.analysis.neurons.templates`): own sum mod
# 10 = k, own sum ≥ 10 (makes a carry), own sum = 9 (passes one on), carry in (right sum
# ≥ 10), cascade in (right sum = 9), carry possible (right sum ≥ 9), and the plain sums.
# The best template by |correlation| names the neuron's family ("not …" for a negative
# correlation, "other" below `min_correlation`). As a check that templates do not impose
# the grouping, k-means on the standardized maps clusters the same neurons without
# templates; metric `kmeans_purity` says how well clusters and families agree.

# %% tags=["parameters"]
seed = 0  # seed of training (initialization, data order), of the problems and of k-means
preset = "add2"  # the model preset
overrides = {}  # settings that differ from the preset, e.g. {"n_digits": 3, "steps": 600}
n_problems = 5000  # uniform held-out problems for the maps
n_attribution = 600  # enriched held-out problems used to rank neurons
n_top = 40  # neurons in the gallery
min_correlation = 0.5  # below this best |correlation| a neuron's family is "other"
n_clusters = 6  # k-means clusters

# %%
from collections import Counter

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from lab import figures, models, record
from lab.analysis import neurons, problems
from lab.components import Neuron

trained = models.load_or_train(preset, {**overrides, "seed": seed})
model, task = trained.model, trained.task
rng = np.random.default_rng(seed)
positions = trained.labels
ranked_on = problems.heldout(task, rng, n_attribution, 0.4)
found = neurons.neuron_families(
    model, ranked_on=ranked_on, mapped_on=problems.heldout(task, rng, n_problems), k=n_top, threshold=min_correlation
)
attr, top, maps, matches = found.attribution, found.neurons, found.maps, found.matches  # top: (pos, layer, neuron)
labels = [f"{Neuron(l, n)} at {positions[p]}" for p, l, n in top]

# %% [markdown]
# ## The gallery
#
# Pick a neuron in the menu (best first): its mean activation over the own column's
# digit pairs (left) and the right column's (right), at the digit where it matters most.
# The title gives its family and correlation. Blank maps: the top answer digit has no
# own digits, the units digit no column to its right.

# %%
fig = make_subplots(
    rows=1,
    cols=2,
    subplot_titles=["own column (a_c, b_c)", "column to the right (a_c-1, b_c-1)"],
    horizontal_spacing=0.12,
)
for (pos, layer, n), match, label in zip(top, matches, labels):
    for col, column in enumerate(neurons.COLUMNS, start=1):
        fig.add_trace(
            go.Heatmap(
                z=maps[column][pos, layer, n],
                x=list(range(10)),
                y=list(range(10)),
                colorscale=figures.SEQUENTIAL,
                showscale=col == 2,
                hoverongaps=False,
                hovertemplate=f"{label}<br>a=%{{y}}, b=%{{x}}: %{{z:.3f}}<extra>{match.name} ({match.correlation:+.2f})</extra>",
            ),
            row=1,
            col=col,
        )
fig.update_xaxes(title="digit of b")
fig.update_yaxes(title="digit of a", autorange="reversed")
fig = figures.with_menu(figures.style(fig, height=460), [f"{label}: {m.name}" for label, m in zip(labels, matches)], 2)
record.figure(fig, "gallery", "Mean activation of each top neuron over digit pairs; the menu picks the neuron")

# %% [markdown]
# ## Families
#
# How many of the top neurons fall in each family, by layer (figure `families`), and
# each family's mean standardized map on the column its template reads (figure
# `family-maps`).

# %%
families = list(found.families())
counts = Counter((m.name, layer) for m, (_, layer, _) in zip(matches, top))
fig = figures.bars(
    families,
    {f"layer {l}": [counts[(f, l)] for f in families] for l in range(model.cfg.n_layers)},
    ylabel="top neurons",
    stacked=True,
)
record.figure(fig, "families", f"Families of the top {n_top} neurons, by layer")
record.metric(
    "classified_share",
    np.mean([m.family != "other" for m in matches]),
    description=f"share of the top {n_top} neurons matching a template with |corr| >= {min_correlation}",
)
record.metric(
    "n_families",
    len({m.name for m in matches if m.family != "other"}),
    description="distinct families among the top neurons (a family and its complement counted apart)",
)

# %% [markdown]
# Neuron indices differ between seeds; families do not. For each family of templates
# (either sign), how many of the top neurons fall in it (`family_<name>`) and whether
# any does (`has_<name>`), and whether some top neuron reads the carry from the column to
# the right (carry in, cascade in, carry possible or the right sum: `has_carry_reader`).

# %%
counts_by_family = neurons.family_counts(matches)
for family, count in counts_by_family.items():
    name = neurons.family_slug(family)
    record.metric(f"family_{name}", count, unit="neurons", description=f"top neurons in the family {family!r}")
    record.metric(
        f"has_{name}", float(count > 0), unit="seeds", description=f"1 if a top neuron is in the family {family!r}"
    )
right_families = {neurons.family_of(t) for t, (column, _) in neurons.templates().items() if column == "right"}
record.metric(
    "has_carry_reader",
    float(any(counts_by_family[f] for f in right_families)),
    unit="seeds",
    description="1 if a top neuron's best template reads the column to the right (the carry's source)",
)

template_columns = {name: column for name, (column, _) in neurons.templates().items()}
family_maps = {}
for family, members in found.families().items():
    column = template_columns[members[0][1].template]
    stacked = neurons.standardize(
        np.stack([np.sign(m.correlation) * maps[column][p, l, n] for (p, l, n), m in members])
    )
    family_maps[f"{family} ({column}, {len(members)})"] = stacked.mean(0).reshape(10, 10)
record.figure(
    figures.digit_grid(family_maps, cols=3),
    "family-maps",
    "Mean standardized map of each family on the column its template reads (sign-aligned)",
)

# %% [markdown]
# ## Clusters without templates
#
# k-means on each neuron's standardized own and right maps; `kmeans_purity` is the share
# of neurons whose family is the most common family of their cluster.

# %%
points = np.concatenate(
    [neurons.standardize(np.stack([maps[c][p, l, n] for p, l, n in top])) for c in neurons.COLUMNS], 1
)
clusters = neurons.kmeans(points, n_clusters, seed)
purity = sum(
    Counter(m.name for m, c in zip(matches, clusters) if c == k).most_common(1)[0][1] for k in set(clusters)
) / len(top)
record.metric("kmeans_purity", purity, description="agreement of k-means clusters with template families")
record.table(
    [
        {
            "neuron": label,
            "family": m.name,
            "template": m.template,
            "correlation": m.correlation,
            "cluster": int(c),
            "importance": float(attr.importance()[attr.labels.index(str(Neuron(l, n))), p]),
        }
        for label, m, c, (p, l, n) in zip(labels, matches, clusters, top)
    ],
    "Top neurons: family, best template, k-means cluster, attribution importance",
)

# %% [markdown]
# ## Result
#
# Over the 5 seeds of the `seeds` sweep (each count and number links to it; neuron
# indices differ between seeds, families do not),
# {{ metric neuron-gallery@seeds.classified_share }} of the top neurons match one of the
# template maps at |correlation| of `min_correlation` or more, in
# {{ metric neuron-gallery@seeds.n_families }} families (a family and its complement
# counted apart). Which families are among the top neurons (either sign):
#
# | family | present in | top neurons in it |
# |---|---|---|
# | sum mod 10 (own column) | {{ metric neuron-gallery@seeds.has_sum_mod_10 }} | {{ metric neuron-gallery@seeds.family_sum_mod_10 }} |
# | makes a carry (own sum ≥ 10) | {{ metric neuron-gallery@seeds.has_makes_a_carry }} | {{ metric neuron-gallery@seeds.family_makes_a_carry }} |
# | passes a carry on (own sum = 9) | {{ metric neuron-gallery@seeds.has_passes_a_carry_on }} | {{ metric neuron-gallery@seeds.family_passes_a_carry_on }} |
# | own sum | {{ metric neuron-gallery@seeds.has_own_sum }} | {{ metric neuron-gallery@seeds.family_own_sum }} |
# | carry in (right sum ≥ 10) | {{ metric neuron-gallery@seeds.has_carry_in }} | {{ metric neuron-gallery@seeds.family_carry_in }} |
# | cascade in (right sum = 9) | {{ metric neuron-gallery@seeds.has_cascade_in }} | {{ metric neuron-gallery@seeds.family_cascade_in }} |
# | carry possible (right sum ≥ 9) | {{ metric neuron-gallery@seeds.has_carry_possible }} | {{ metric neuron-gallery@seeds.family_carry_possible }} |
# | right sum | {{ metric neuron-gallery@seeds.has_right_sum }} | {{ metric neuron-gallery@seeds.family_right_sum }} |
#
# A top neuron reads the carry's source, the column to the right, in
# {{ metric neuron-gallery@seeds.has_carry_reader }}. Clustering without templates
# agrees with the families only in part (purity
# {{ metric neuron-gallery@seeds.kmeans_purity }}).
#
# ## Caveats
#
# Maps average over the other digits: a neuron that computes a conjunction of the two
# columns shows a blurred version in each. Templates cover the hypotheses named above;
# a neuron in "other" may compute something real that none of them describes. Neurons
# are drawn at one position (where they matter most) though many fire at several.
