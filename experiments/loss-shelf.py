# ---
# title: The loss shelf
# project: n-digit-addition
# question: Why does an answer digit's loss sit on a shelf, above what a fixed split between "+0" and "+1" predicts?
# links: [insights/previous-column-predicts-carry, insights/loss-shelf-is-spread-and-leak, experiments/carry-odds, experiments/training-dynamics]
# checks: ["model(preset, overrides)", "carry_digit(digit, preset, overrides)"]
# sweeps: {seeds: {seed: [0, 1, 2, 3, 4]}}
# ---

# %% [markdown]
# # The loss shelf
#
# **Question.** Early in training an answer digit's loss stops falling for a while:
# the model has learned the digit sum of its column but not yet the carry coming in
# from the column to the right, so it splits its probability between the "+0"
# candidate (sum mod 10) and the "+1" candidate (sum + 1 mod 10). If the split were
# the same for every problem, the loss on the answer positions whose incoming carry
# is 0 ("only-+0") would be -ln P(+0), and on those with carry 1 ("only-+1")
# -ln P(+1). Earlier notes measured more than that: 0.630 instead of -ln 0.55 =
# 0.598, and 0.890 instead of -ln 0.45 = 0.799. Where does the difference come from?
#
# **Method.** Train (or load from the cache) a model with its checkpoint series and
# plot the held-out loss of each answer digit over training. For one answer digit
# (`digit`, by default A2), read the model's P(+0) and P(+1) at every checkpoint and call the
# *shelf checkpoint* the one where the most probability sits on the two candidates
# while the split between them still explains less than `max_carry_info` of the
# carry's entropy. There, per example, the loss is -ln p_true = -ln(p0 + p1) - ln q
# with q the split within the two candidates, and averaging gives three parts that
# add up to the measured loss exactly (`lab.carry.decompose_loss`):
#
# * **fixed split** -ln mean(q): what one fixed split would cost;
# * **spread** mean(-ln q) + ln mean(q) >= 0: the cost of the split varying from
#   problem to problem (Jensen's inequality: -ln is convex, so varying splits cost
#   more than their mean);
# * **neither** mean(-ln(p0 + p1)): probability on tokens that are neither candidate.
#
# **Settings.** The lab's default model (2 layers, d_model 128, lr 1e-3) on 3 digits
# and 600 steps, so that the checkpoint series is dense where the shelf sits. On 5
# digits the shelves of the different digits overlap and pass within a few dozen
# steps; on 3 digits the digit A2 (whose carry comes from column 1) visibly pauses
# near the carry entropy before its carry is learned. The shelf is brief in every
# setting tried (see the curves, and `compare` to draw others beside them): a
# smaller model at a lower learning rate (d_model 64, lr 5e-4) stretched training
# but not the shelf, because it learned the digits one after another instead.
#
# Run with `make experiment NAME=loss-shelf PARAMS="digit=A1"`.

# %% tags=["parameters"]
seed = 0  # seed of training (initialization, data order) and of the evaluation sample
preset = "add2"  # model preset the settings start from
overrides = {"n_digits": 3, "steps": 600}  # training settings changed from the preset
compare = [{}]  # other settings (override dicts) drawn beside; {} is the default 5-digit model
digit = "A2"  # the answer digit studied: one with an incoming carry (not A0, the units)
n_eval = 4000  # uniform held-out problems scored at each checkpoint
max_carry_info = 0.35  # a shelf checkpoint explains less than this share of the carry's entropy

# %%
import numpy as np
import plotly.graph_objects as go

from lab import carry, figures, models, record
from lab.analysis import problems
from lab.dynamics import checkpoint_models

trained = models.load_or_train(preset, {**overrides, "seed": seed})
labels = trained.labels
d = problems.digit_index(trained.task, digit, carry_in=True)
batch = problems.heldout(trained.task, seed, n_eval)

# %% [markdown]
# ## The curves
#
# Held-out loss of each answer digit over training. The dotted lines are ln 10
# (a uniform guess over the ten digits) and the entropy of a carry that happens 45%
# of the time, H(0.45) = 0.688 nats: a digit whose column sum is known but whose
# carry is not sits near the second line. The units digit A0 has no carry and falls
# straight to zero; the top digit is the carry alone.

# %%
CARRY_ENTROPY = -(0.45 * np.log(0.45) + 0.55 * np.log(0.55))


def digit_curves(tm: models.TrainedModel, title: str) -> go.Figure:
    history = tm.history
    losses = np.array(history["digit_loss"])
    fig = figures.lines(
        history["step"],
        {label: losses[:, i] for i, label in enumerate(tm.labels)},
        title=title,
        ylabel="held-out loss (nats)",
        log_y=True,
    )
    for level in (np.log(10), CARRY_ENTROPY):
        figures.reference(fig, y=level)
    return fig


def describe(tm: models.TrainedModel) -> str:
    cfg, m = tm.train_config, tm.preset.model
    return (
        f"{m.n_layers} layers, d_model {m.d_model}, {cfg.data.n_digits} digits, lr {cfg.lr:g}, "
        f"nine_share {cfg.data.nine_share:g}"
    )


record.figure(
    digit_curves(trained, describe(trained)),
    "loss-per-digit",
    caption="Held-out loss per answer digit over training, with the chosen settings",
)
for i, other in enumerate(compare):
    tm = models.load_or_train(preset, other)
    record.figure(
        digit_curves(tm, describe(tm)),
        f"loss-per-digit-compare-{i}",
        caption=f"The same curves for {describe(tm)}, for contrast",
    )

# %% [markdown]
# ## Finding the shelf
#
# At every checkpoint: the mean probability on the two candidates (is the column
# sum known?) and the share of the carry's entropy that the split between them
# explains (is the carry known?). The shelf is where the first is high and the
# second still low.

# %%
mass, info = [], []
for _, model in checkpoint_models(trained):
    lp = carry.carry_log_probs(model, batch)
    mass.append(float(np.exp(np.logaddexp(lp.logp0[:, d], lp.logp1[:, d])).mean()))
    info.append(carry.carry_information(lp, d))
mass, info = np.array(mass), np.array(info)
candidates = np.flatnonzero(info < max_carry_info)
shelf_step = trained.steps[int(candidates[np.argmax(mass[candidates])])]

fig = figures.lines(
    trained.steps,
    {"P(+0) + P(+1)": mass, "carry information (share of entropy)": info},
    title=f"{digit}: column sum known, carry not yet",
    ylabel="",
)
figures.reference(fig, x=shelf_step)
record.figure(
    fig,
    "shelf-finder",
    caption=f"Mass on the two candidates and carry information of {digit}; the dotted line marks the shelf checkpoint",
)
record.metric("shelf_step", shelf_step, "steps", f"training step of the shelf checkpoint of {digit}")
record.metric(
    "shelf_mass", mass[trained.steps.index(shelf_step)], None, f"mean P(+0) + P(+1) of {digit} at the shelf checkpoint"
)
record.metric(
    "shelf_carry_info",
    info[trained.steps.index(shelf_step)],
    None,
    f"share of the carry entropy of {digit} explained at the shelf checkpoint",
)

# %% [markdown]
# ## The loss at the shelf, decomposed
#
# On the only-+0 and only-+1 positions of the digit at the shelf checkpoint: the
# measured loss, the mean P(+0) and P(+1), what a fixed split at the mean P would
# cost (-ln P̄), and the three parts that add up to the loss.

# %%
lp = carry.carry_log_probs(trained.at_step(shelf_step), batch)
parts = carry.shelf_parts(lp, d)
rows = []
for name, p in parts.items():
    mean_p_true = p.p_plus0 if name == "plus0" else p.p_plus1
    record.metric(f"{name}_loss", p.loss, "nats", f"mean loss of {digit} on only-+{name[-1]} positions at the shelf")
    record.metric(f"{name}_p_plus0", p.p_plus0, None, f"mean P(+0) of {digit} on only-+{name[-1]} positions")
    record.metric(f"{name}_p_plus1", p.p_plus1, None, f"mean P(+1) of {digit} on only-+{name[-1]} positions")
    record.metric(
        f"{name}_fixed_mean_p",
        -np.log(mean_p_true),
        "nats",
        f"-ln of the mean P of the true candidate on only-+{name[-1]} positions",
    )
    record.metric(f"{name}_fixed_split", p.fixed_split, "nats", "-ln mean split q of the true candidate")
    record.metric(f"{name}_spread", p.spread, "nats", "Jensen gap of the split across examples")
    record.metric(f"{name}_neither", p.neither, "nats", "loss from probability on neither candidate")
    rows.append(
        {
            "positions": f"only-+{name[-1]}",
            "n": p.n,
            "loss": p.loss,
            "P(+0)": p.p_plus0,
            "P(+1)": p.p_plus1,
            "-ln P̄": -np.log(mean_p_true),
            "fixed split": p.fixed_split,
            "spread": p.spread,
            "neither": p.neither,
            "sum of parts": p.fixed_split + p.spread + p.neither,
        }
    )
record.table(rows, caption=f"{digit} at the shelf checkpoint (step {shelf_step})")

fig = figures.bars(
    ["only-+0", "only-+1"],
    {
        part: [getattr(p, key) for p in parts.values()]
        for part, key in (("fixed split", "fixed_split"), ("spread", "spread"), ("neither", "neither"))
    },
    title=f"Loss of {digit} at step {shelf_step}, in three parts",
    ylabel="nats",
    stacked=True,
    totals=[p.loss for p in parts.values()],
    totals_name="measured loss",
)
record.figure(fig, "shelf-decomposition", caption="The measured loss (bar tops) = fixed split + spread + neither")

# %% [markdown]
# ## Across digits
#
# The same decomposition for every answer digit that has a column to its right, at
# the same checkpoint: digits further left see cascades, so their base rate is
# nearer 50%, and they may be before or past their own shelf.

# %%
rows = []
for i, label in enumerate(labels):
    if not lp.has_right[0, i]:
        continue
    for name, p in carry.shelf_parts(lp, i).items():
        rows.append(
            {
                "digit": label,
                "positions": f"only-+{name[-1]}",
                "loss": p.loss,
                "P(+0)": p.p_plus0,
                "P(+1)": p.p_plus1,
                "fixed split": p.fixed_split,
                "spread": p.spread,
                "neither": p.neither,
            }
        )
record.table(rows, caption=f"Every digit at step {shelf_step}")

# %% [markdown]
# ## Result
#
# The loss at the shelf is larger than what a fixed split at the mean P would cost
# (-ln P̄) for two reasons, both measured above: the split between "+0" and "+1"
# varies across problems (the *spread*, a Jensen gap that is always positive), and
# some probability still sits on neither candidate (*neither*). The parts add up
# to the measured loss to float precision. The split is not the base rate either:
# at the shelf the model already puts more weight on the right candidate on both
# subsets, and explains part of the carry's entropy (`shelf_carry_info`), because
# it bets on the carry from the digits of the column to the right; over the shelf
# that bet follows the product of the one-digit odds (see [[experiments/carry-odds]]).
# Its carry-information curve pauses while the mass on the two candidates keeps
# rising: the shelf, seen from the carry's side. That partial, problem-dependent
# knowledge is exactly what makes the spread.
#
# ## Caveats
#
# The shelf checkpoint is picked by a threshold (`max_carry_info`); a
# checkpoint a little later moves weight from *neither* to *spread*. The numbers
# are for one digit of one small model; the per-digit table shows how they vary.
