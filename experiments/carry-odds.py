# ---
# title: Carry odds from the column to the right
# project: n-digit-addition
# question: Before it knows the carry, which simple rule does the model's bet on "+1" against "+0" follow, and is the product of the one-digit odds the best additive rule?
# links: [insights/previous-column-predicts-carry, experiments/loss-shelf, experiments/training-dynamics, ideas/per-neuron-logit-contributions]
# checks: ["model(preset, overrides)", "carry_digit(digit, preset, overrides)"]
# sweeps: {seeds: {seed: [0, 1, 2, 3, 4]}}
# ---

# %% [markdown]
# # Carry odds from the column to the right
#
# **Question.** The carry into an answer digit is decided by the two digits (d1, d2)
# of the column to its right. Knowing one digit d gives odds +0:+1 of (10-d):d,
# since exactly d of its ten partners make the sum reach 10. Multiplying the two
# one-digit odds gives (10-d1)(10-d2) : d1·d2, a naive-Bayes-style guess; the exact
# rule is d1 + d2 >= 10 (with sum 9 passing on a carry from further right). Which of
# these does the model's bet follow as it learns, and is the product the best rule
# of the additive form log-odds = f(d1) + g(d2)?
#
# **Method.** At every checkpoint, on uniform held-out problems, read the model's
# log-odds ln P(+1) - ln P(+0) at each answer digit and average it over the problems
# with the same (d1, d2): a 10×10 map per digit. Compare it with the maps of five
# predictors (base rate, digit d1 alone, digit d2 alone, product, exact) by the
# mean absolute difference of P(+1) over the 100 digit pairs (bounded, where
# log-odds differences of the exact rule are infinite). Then fit f(d1) + g(d2) to
# the true carry by maximum likelihood over all digit pairs (uniform weights, a
# tiny ridge penalty, see `lab.carry.fit_additive`) and compare with the product.
#
# Run with `make experiment NAME=carry-odds PARAMS="digit=A2"`.

# %% tags=["parameters"]
seed = 0  # seed of training (initialization, data order) and of the evaluation sample
preset = "add2"  # the model preset (the lab's default model)
overrides = {}  # training settings changed from the preset
digit = "A2"  # the answer digit whose maps are shown: one with an incoming carry (not A0, the units)
fit_column = 1  # answer column whose true carry the additive rules are fitted to (1: no cascades)
n_eval = 4000  # uniform held-out problems scored at each checkpoint
n_boot = 200  # bootstrap resamples of the problems for the within-sum ratio's interval
ridge = 0.0001  # ridge penalty of the additive fit (the unpenalized fit diverges, see below)

# %%
import numpy as np

from lab import carry, components, figures, models, record
from lab.analysis import problems
from lab.odds import fit_forms, within_sum, within_sum_bootstrap

trained = models.load_or_train(preset, {**overrides, "seed": seed})
task, labels = trained.task, trained.labels
d = problems.digit_index(task, digit, carry_in=True)
batch = problems.heldout(task, seed, n_eval)
d1, d2 = batch.right_digits()
digits_with_right = [i for i in range(task.answer_len) if d1[0, i] >= 0]

# %% [markdown]
# ## The model's log-odds at every checkpoint, scored against the predictors
#
# Each predictor's map uses the carry statistics of the same held-out problems for
# its base rate and cascade rate.

# %%
PREDICTOR_NAMES = list(carry.predictors(np.ones((10, 10, 2))))
maps, distances = {}, np.zeros((len(trained.steps), task.answer_len, len(PREDICTOR_NAMES)))
bets, gains = [], []  # per checkpoint: the log-odds at the digit, per problem [n_eval]; the split's gain
truth = {i: carry.predictors(carry.cell_counts(batch.carry_in[:, i], d1[:, i], d2[:, i])) for i in digits_with_right}
for s, (step, lp) in enumerate(zip(trained.steps, carry.checkpoint_log_probs(trained, batch))):
    for i in digits_with_right:
        odds = carry.cell_mean(lp.log_odds[:, i], d1[:, i], d2[:, i])
        distances[s, i] = [carry.distance(carry.sigmoid(odds), p) for p in truth[i].values()]
        if i == d:
            maps[step] = odds
    bets.append(lp.log_odds[:, d])
    gains.append(carry.carry_ce_gain(lp, d))

fig = figures.lines(
    trained.steps,
    {name: distances[:, d, k] for k, name in enumerate(PREDICTOR_NAMES)},
    title=f"{digit}: distance of the model's P(+1) from each predictor",
    log_x=True,
    ylabel="mean |P_model - P_predictor|",
)
record.figure(
    fig,
    "predictor-distance",
    caption=f"How far the model's carry odds at {digit} are from each "
    "predictor over training (lower = follows it more closely)",
)

# %% [markdown]
# ## Which predictor the model follows, and when
#
# For each answer digit, the predictor closest to the model at each checkpoint.

# %%
best = distances.argmin(-1)  # [n_ckpt, answer_len]
rows = []
for i in digits_with_right:
    phases, start = [], 0
    for s in range(1, len(trained.steps) + 1):
        if s == len(trained.steps) or best[s, i] != best[start, i]:
            phases.append(f"{PREDICTOR_NAMES[best[start, i]]} (from {trained.steps[start]})")
            start = s
    rows.append({"digit": labels[i], "closest predictor over training": " → ".join(phases)})
record.table(rows, caption="The predictor closest to the model, checkpoint by checkpoint")

for k, name in enumerate(PREDICTOR_NAMES):
    key = components.slug(name)
    closest = int(np.argmin(distances[:, d, k]))
    record.metric(
        f"min_distance_{key}",
        distances[closest, d, k],
        None,
        f"smallest distance of the model at {digit} from the {name} predictor",
    )
    record.metric(
        f"closest_step_{key}",
        trained.steps[closest],
        "steps",
        f"checkpoint at which the model at {digit} is closest to the {name} predictor",
    )
    record.metric(
        f"best_checkpoints_{key}",
        int((best[:, d] == k).sum()),
        "checkpoints",
        f"number of checkpoints at which {name} is the closest predictor at {digit}",
    )

# %% [markdown]
# ## The maps
#
# The predictors' log-odds (top row, clipped at ±6.9 where a predictor is certain)
# and the model's at the checkpoints where it is closest to each predictor in turn.

# %%
shown = sorted({trained.steps[int(np.argmin(distances[:, d, k]))] for k in range(len(PREDICTOR_NAMES))})
grid = {name: carry.log_odds(p) for name, p in truth[d].items()}
grid |= {f"model, step {step}": maps[step] for step in shown}
record.figure(
    figures.digit_grid(grid, title=f"{digit}: log-odds of +1 against +0 over (d1 rows, d2 columns)", cols=5, zmax=7),
    "odds-maps",
    caption="Log-odds of a carry by the digits of the column to the right: predictors "
    "and the model at selected checkpoints",
)

# %% [markdown]
# ## Is the product the best additive rule?
#
# The product's log-odds ln(d1/(10-d1)) + ln(d2/(10-d2)) is additive in d1 and d2.
# Fit the best additive log-odds bias + f(d1) + g(d2) to the true carry into
# answer column `fit_column` (uniform digit pairs, the exact cascade rate; column 1,
# fed by the units column, has no cascades) by maximum likelihood, and
# compare the negative log-likelihood (nats per problem) of each rule.

# %%
true_p = carry.exact(carry.uniform_cascade_rate(fit_column))
counts = carry.expected_counts(true_p)
fit = carry.fit_additive(counts, ridge=ridge)
base = counts[..., 1].sum() / counts.sum()
naive_bayes = carry.sigmoid(carry.log_odds(carry.product(), eps=1e-12) + np.log((1 - base) / base))
rules = {
    "base rate": carry.base_rate(base),
    "digit d1": carry.one_digit(1),
    "product": carry.product(),
    "naive Bayes": naive_bayes,
    "additive ML fit": carry.sigmoid(fit.log_odds),
    "exact": true_p,
}
rows = []
for name, p in rules.items():
    value = carry.nll(p, counts, eps=1e-12)
    record.metric(
        f"nll_{components.slug(name)}",
        value,
        "nats",
        f"mean NLL of the true carry of column {fit_column} under the {name} rule (uniform digits)",
    )
    rows.append(
        {"rule": name, "NLL (nats)": value, "sign agrees with d1+d2 >= 10": bool(((p > 0.5) == (true_p > 0.5)).all())}
    )
record.table(rows, caption=f"How well each rule predicts the carry into column {fit_column}")
record.metric(
    "fit_slope", np.polyfit(np.arange(10), fit.f, 1)[0], "nats per digit", "slope of the fitted f(d) against d"
)

d_axis = np.arange(1, 10)
fig = figures.lines(
    d_axis,
    {
        "fitted f(d)": fit.f[1:] - fit.f[5],
        "fitted g(d)": fit.g[1:] - fit.g[5],
        "product term ln(d/(10-d))": np.log(d_axis / (10 - d_axis)),
    },
    title="Additive terms of the log-odds (shifted to 0 at d = 5)",
    xlabel="digit d",
    ylabel="log-odds term",
)
record.figure(fig, "additive-terms", caption="The maximum-likelihood additive terms against the product's")

# %% [markdown]
# ## Product or sum, in the model's own bet
#
# The product's log-odds phi(d1) + phi(d2), phi(d) = ln(d / (10 - d)), and the column
# sum d1 + d2 correlate at 0.9945 over the 81 pairs with both digits 1-9, so no R² can
# tell them apart. They differ within a column sum: there the sum predicts nothing,
# and the product predicts phi(d1) + phi(d2) minus its mean over the pairs with that
# sum. The **within-sum ratio** (`lab.odds.within_sum`) fits a free function of
# d1 + d2 plus that pattern; the pattern's weight over the product's scale between
# sums is 1 under the product form and 0 under any function of the sum. Its 95%
# interval resamples the held-out problems (`n_boot` draws). Beside it, R² of the
# free additive form f(d1) + g(d2) and of its rival with as many numbers, a free
# function of d1 + d2.

# %%
right = (d1[:, d] > 0) & (d2[:, d] > 0)
weights = carry.cell_counts(batch.carry_in[:, d], d1[:, d], d2[:, d]).sum(-1)
ratio = np.array([within_sum(maps[step], weights).ratio for step in trained.steps])
band = np.array(
    [
        np.nanpercentile(within_sum_bootstrap(b[right], d1[right, d], d2[right, d], n_boot, seed), [2.5, 97.5])
        for b in bets
    ]
)
fig = figures.lines(
    trained.steps,
    {"within-sum ratio": ratio, "2.5%": band[:, 0], "97.5%": band[:, 1]},
    title=f"{digit}: within-sum ratio (1: product of the one-digit odds, 0: a function of d1 + d2)",
    log_x=True,
    ylabel="ratio",
)
for level in (0, 1):
    figures.reference(fig, y=level)
record.figure(fig, "within-sum", caption="The within-sum ratio over training, with a bootstrap interval over problems")

# Where the carry is half learned: the first checkpoint whose split gains >= 0.5 of
# H(carry) over the base rate; missing if none does.
half = np.flatnonzero(np.array(gains) >= 0.5)
if len(half):
    s = int(half[0])
    fits = fit_forms(maps[trained.steps[s]], weights)
    record.metric("half_gain_step", trained.steps[s], "steps", f"first checkpoint where {digit}'s gain is >= 0.5")
    for key, value, what in (
        ("within_ratio_half", ratio[s], "within-sum ratio"),
        ("within_ratio_half_low", band[s, 0], "2.5% bootstrap percentile of the within-sum ratio"),
        ("within_ratio_half_high", band[s, 1], "97.5% bootstrap percentile of the within-sum ratio"),
        ("r2_additive_half", fits["additive"].r2, "R² of the free additive form"),
        ("r2_free_sum_half", fits["free sum"].r2, "R² of a free function of d1 + d2"),
        ("r2_product_half", fits["product"].r2, "R² of the product form"),
    ):
        if np.isfinite(value):
            record.metric(key, value, None, f"{what}, {digit} at step {trained.steps[s]}")
    if np.isfinite(band[s]).all():
        for level, form in ((0, "any function of d1 + d2"), (1, "the product form")):
            record.metric(
                f"within_excludes_{level}_half",
                int(not band[s, 0] <= level <= band[s, 1]),
                "seeds",
                f"the within-sum interval of {digit} at step {trained.steps[s]} excludes {level}, {form}",
            )
inside = np.isfinite(band).all(1)
record.metric(
    "checkpoints_ratio_excludes_0",
    int((band[inside, 0] > 0).sum()),
    "checkpoints",
    f"checkpoints where {digit}'s within-sum interval lies above 0 (some of the product's pattern)",
)
record.metric(
    "checkpoints_ratio_excludes_1",
    int(((band[inside, 1] < 1) | (band[inside, 0] > 1)).sum()),
    "checkpoints",
    f"checkpoints where {digit}'s within-sum interval excludes 1 (not the product's full pattern)",
)

# %% [markdown]
# ## Result
#
# On A2 of the default 5-digit model, over 5 seeds (each number links to the seeds
# sweep), the model's bet
# hands over from the base rate, the closest predictor at
# {{ metric carry-odds@seeds.best_checkpoints_base_rate }}, straight to the exact
# rule ({{ metric carry-odds@seeds.best_checkpoints_exact }}). The product of the
# one-digit odds is the closest predictor at
# {{ metric carry-odds@seeds.best_checkpoints_product }}: one checkpoint in four seeds,
# none in the fifth. Its closest approach is
# {{ metric carry-odds@seeds.min_distance_product }} in P(+1), at
# {{ metric carry-odds@seeds.closest_step_product }}. One digit alone is never the
# closest ({{ metric carry-odds@seeds.best_checkpoints_digit_d1 }}). So the product is
# at most a brief passage between base rate and exact rule in this checkpoint series,
# not a stage.
#
# **Product or sum, in the model's own bet.** Distances and R² cannot separate the
# product from a function of the column sum (their log-odds correlate at 0.9945 over
# the cells); the within-sum ratio can: 1 under the product, 0 under any function of
# d1 + d2. Where A2's split first gains half of H(carry) over the base rate
# ({{ metric carry-odds@seeds.half_gain_step }}), the ratio is
# {{ metric carry-odds@seeds.within_ratio_half }}; its 95% bootstrap interval
# excludes 0 in {{ metric carry-odds@seeds.within_excludes_0_half }} and excludes 1
# in {{ metric carry-odds@seeds.within_excludes_1_half }}. There the free additive
# form explains R² {{ metric carry-odds@seeds.r2_additive_half }} and a free function
# of d1 + d2, with as many numbers,
# {{ metric carry-odds@seeds.r2_free_sum_half }}. The product conjecture stands in a
# seed whose interval contains 1 and excludes 0, and falls in one whose interval
# excludes 1. The seeds do not agree: each seed's ratio is in the sweep's points table,
# below 0 in some (the term leaning against the product's direction) and near 1 in
# others. The model's log-odds through a dense series over the shelf are on
# [[experiments/loss-shelf]].
#
# On the true carry, the conjecture "the product is the best additive rule" has no
# answer, because the additive family has **no optimum**. The product is additive and
# has the right sign almost everywhere, since d1·d2 - (10-d1)(10-d2) = 10(d1 + d2 - 10)
# (odds exactly even on the sum-10 line, where the truth is a sure carry). But the
# exact rule is itself the limit of additive rules, a step in d1 + d2. The likelihood
# keeps rising as the fitted terms become steeper straight lines in the digit; with
# no cascades the data are separable, and the fitted NLL
# ({{ metric carry-odds.nll_additive_ml_fit }} at ridge `ridge`, against the
# product's {{ metric carry-odds.nll_product }}) is set by the ridge, not by the
# data. The naive-Bayes rule (the product times the prior odds correction (1-P)/P)
# does a little better than the bare product
# ({{ metric carry-odds.nll_naive_bayes }}).
#
# ## Caveats
#
# Cell averages of the model's log-odds hide the spread within a cell
# (other digits of the problem also move the model's bet). The default model's
# checkpoints are sparse (40 over 2,500 steps), so "closest at one checkpoint" can
# hide a passage of up to a hundred steps, and the within-sum ratio is read at
# checkpoints only. Before the column sum is
# learned, P(+0) and P(+1) are both small and their ratio means little; read the
# distances from the shelf on (see [[experiments/loss-shelf]]).
