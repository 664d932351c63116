# ---
# title: Ablations
# project: n-digit-addition
# question: Which heads, MLP layers and neuron families does each answer digit and carry case depend on?
# links: [ideas/ablations]
# checks: ["model(preset, overrides)"]
# sweeps: {seeds: {seed: [0, 1, 2, 3, 4]}}
# ---

# %% [markdown]
# # Ablations
#
# **Question.** Attribution measures direct effects; an ablation measures everything a
# component does, through every later layer. Which components does each answer digit
# depend on, and does the model use different components for digits without a carry,
# with a carry and with a cascading carry?
#
# **Method.** Each head (its `hook_z`), each MLP layer (`hook_mlp_out`) and each family
# of top neurons (`mlp.hook_post`; families from the neuron gallery's templates) is
# ablated in turn, with TransformerLens' `run_with_hooks`, in three ways: set to zero,
# to its mean over the problems at the same position, and to its value on another
# problem (resampling). Mean and resample ablation keep activations on the data's
# distribution; zero ablation does not, and often overstates. `lab.analysis.ablation`
# caches the clean run once and reports the increase of each answer digit's
# cross-entropy, averaged per answer digit, per carry case of the digit (base, carry,
# cascade) and per cascade class of the problem (S0 no carry … Sn the longest chain).

# %% tags=["parameters"]
seed = 0  # seed of training (initialization, data order), of the problems and of the resampling permutation
preset = "add2"  # the model preset
overrides = {}  # settings that differ from the preset, e.g. {"n_digits": 3, "steps": 600}
n_problems = 1000  # held-out problems
nine_share = 0.4  # share of columns forced to sum to 9 (enriches carry cascades)
n_top = 40  # top neurons (by direct logit attribution) sorted into families
min_correlation = 0.5  # template correlation below which a neuron's family is "other"

# %%
import numpy as np

from lab import components, figures, models, record
from lab.analysis import ablation, neurons, problems
from lab.components import Head, Mlp
from lab.task import CASE_NAMES

trained = models.load_or_train(preset, {**overrides, "seed": seed})
model, task = trained.model, trained.task
rng = np.random.default_rng(seed)
batch = problems.heldout(task, rng, n_problems, nine_share)
found = neurons.neuron_families(
    model, ranked_on=batch, mapped_on=problems.heldout(task, rng, 4 * n_problems), k=n_top, threshold=min_correlation
)

sites = ablation.model_sites(model)
for family, members in found.families().items():
    sites[f"{family} ({len(members)})"] = ablation.neuron_group_sites([(l, n) for (_, l, n), _ in members], family)
sites[f"top {n_top} neurons"] = ablation.neuron_group_sites([(l, n) for _, l, n in found.neurons], "top")

# %%
effects = {}  # method -> component -> {"digit": ..., "carry case": ..., ...}
for method in ablation.METHODS:
    ablator = ablation.Ablator(model, batch, method, seed=seed)
    effects[method] = {label: ablation.group_means(ablator.effect(group).loss, batch) for label, group in sites.items()}
clean = ablation.group_means(ablator.clean_loss, batch)
record.metric("clean_loss", clean["digit"].mean(), unit="nats", description="mean answer-digit loss, nothing ablated")

# %% [markdown]
# ## Per answer digit
#
# Loss increase of each answer digit when a component is ablated (figure
# `loss-by-digit`; the menu picks the ablation method).

# %%
ablated = list(sites)


def view(grouping: str, columns: list[str]):
    return figures.heatmap_menu(
        {method: np.stack([effects[method][c][grouping] for c in ablated]) for method in ablation.METHODS},
        columns,
        ablated,
        xlabel=grouping,
        ylabel="ablated",
        hover="%{y} ablated, %{x}: loss +%{z:.3f} nats",
    )


record.figure(
    view("digit", trained.labels),
    "loss-by-digit",
    "Loss increase per answer digit; the menu picks zero, mean or resample ablation",
)

# %% [markdown]
# ## Per carry case and cascade class
#
# The same, grouped by the carry case of the digit (figure `loss-by-carry-kind`) and by
# the problem's cascade class (figure `loss-by-cascade-class`): a component that only
# cascades need shows up in the cascade column alone.

# %%
record.figure(
    view("carry case", list(CASE_NAMES)),
    "loss-by-carry-kind",
    "Loss increase per carry case of the answer digit; the menu picks the ablation method",
)
record.figure(
    view("cascade class", [f"S{c}" for c in range(task.n_digits + 1)]),
    "loss-by-cascade-class",
    "Loss increase per cascade class of the problem; the menu picks the ablation method",
)

# %% [markdown]
# ## Headline numbers and the table
#
# Metrics name the head whose mean ablation hurts most and give the loss increase of
# mean-ablating each MLP layer and the top neurons, overall and on cascade digits.

# %%
mean_effects = effects["mean"]
heads = [c for c in ablated if components.is_a(c, Head)]
worst = max(heads, key=lambda c: mean_effects[c]["digit"].mean())
record.metric(
    "worst_head_loss_increase",
    mean_effects[worst]["digit"].mean(),
    unit="nats",
    description=f"mean-ablating the most important head ({worst})",
)
for label in [c for c in ablated if components.is_a(c, Mlp)] + [f"top {n_top} neurons"]:
    slug = components.slug(label)
    record.metric(
        f"{slug}_loss_increase",
        mean_effects[label]["digit"].mean(),
        unit="nats",
        description=f"mean-ablating {label}, all digits",
    )
    record.metric(
        f"{slug}_cascade_loss_increase",
        mean_effects[label]["carry case"][2],
        unit="nats",
        description=f"mean-ablating {label}, cascade digits",
    )
mlps = [c for c in ablated if components.is_a(c, Mlp)]
top_label = f"top {n_top} neurons"
layer_costs = [mean_effects[c]["digit"].mean() for c in mlps]
record.metric(
    "worst_head_layer0",
    float(components.parse(worst).layer == 0),
    unit="seeds",
    description=f"1 if the head whose mean ablation hurts most is in layer 0 ({worst})",
)
record.metric(
    "heads_over_tenth_nat",
    sum(mean_effects[c]["digit"].mean() > 0.1 for c in heads),
    unit="heads",
    description="heads whose mean ablation costs more than 0.1 nats, all digits",
)
record.metric(
    "mlp0_above_mlp1",
    float(layer_costs[0] > max(layer_costs[1:])),
    unit="seeds",
    description="1 if mean-ablating the first MLP layer costs more than any later one",
)
record.metric(
    "worst_head_below_mlps",
    float(mean_effects[worst]["digit"].mean() < min(layer_costs)),
    unit="seeds",
    description="1 if the most important head costs less than either MLP layer",
)
record.metric(
    "top_neurons_in_layer0",
    sum(layer == 0 for _, layer, _ in found.neurons),
    unit="neurons",
    description=f"neurons of layer 0 among the {top_label} (ranked by direct attribution)",
)
record.metric(
    "top_neurons_ratio",
    mean_effects[top_label]["digit"].mean() / min(layer_costs),
    description=f"loss increase of mean-ablating the {top_label} over that of the cheaper MLP layer",
)
record.metric(
    "top_neurons_below_tenth",
    float(mean_effects[top_label]["digit"].mean() < 0.1 * min(layer_costs)),
    unit="seeds",
    description=f"1 if mean-ablating the {top_label} costs less than a tenth of the cheaper MLP layer",
)
record.metric(
    "cascades_cost_more",
    float(all(mean_effects[c]["carry case"][2] > mean_effects[c]["digit"].mean() for c in mlps)),
    unit="seeds",
    description="1 if mean-ablating each MLP layer costs more on cascade digits than on all digits",
)
record.table(
    [
        {
            "ablated": c,
            **{method: float(effects[method][c]["digit"].mean()) for method in ablation.METHODS},
            **{f"mean, {name}": float(mean_effects[c]["carry case"][k]) for k, name in enumerate(CASE_NAMES)},
        }
        for c in ablated
    ],
    "Loss increase (nats) by ablation method, and by carry case under mean ablation",
)

# %% [markdown]
# ## Result
#
# Over the 5 seeds of the `seeds` sweep (each count and number links to it; heads are
# named by layer and effect, since their indices differ between seeds), under mean
# ablation:
#
# * **The MLP layers.** Ablating the first MLP layer costs
#   {{ metric ablations@seeds.mlp0_loss_increase }} of loss per answer digit, the second
#   {{ metric ablations@seeds.mlp1_loss_increase }}; the first costs more in
#   {{ metric ablations@seeds.mlp0_above_mlp1 }}. Both cost more on cascade digits than
#   on all digits in {{ metric ablations@seeds.cascades_cost_more }} (the first
#   {{ metric ablations@seeds.mlp0_cascade_loss_increase }} there).
# * **The heads.** The most important head costs
#   {{ metric ablations@seeds.worst_head_loss_increase }}; it is in layer 0 in
#   {{ metric ablations@seeds.worst_head_layer0 }}, and costs less than either MLP layer
#   in {{ metric ablations@seeds.worst_head_below_mlps }}. Heads costing more than 0.1
#   nats: {{ metric ablations@seeds.heads_over_tenth_nat }}.
# * **The top neurons by direct attribution** together cost
#   {{ metric ablations@seeds.top_40_neurons_loss_increase }}, a share of
#   {{ metric ablations@seeds.top_neurons_ratio }} of the cheaper MLP layer (below a
#   tenth in {{ metric ablations@seeds.top_neurons_below_tenth }}); of the 40,
#   {{ metric ablations@seeds.top_neurons_in_layer0 }} are in layer 0. What the MLP
#   layers are needed for, as the loss measures it, is not in the neurons with the
#   largest direct effects. The answer's margin (a mean logit difference of
#   {{ metric neuron-logit-attribution@seeds.logit_diff_mean }} over its rival) may
#   absorb what they remove, the work may be spread over many neurons (half the direct
#   attribution takes {{ metric neuron-logit-attribution@seeds.neurons_for_half }}), or
#   it may act through layer 1; these ablations do not tell which.
#
# ## Caveats
#
# The mean and the resampling are over this enriched batch; a different distribution
# gives different reference activations. Family ablations remove only the top neurons
# of a family, not every neuron that would match its template; "top neurons" are ranked
# by *direct* attribution, so neurons that act only through layer 1 are under-represented.
