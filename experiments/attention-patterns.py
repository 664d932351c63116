# ---
# title: Attention patterns
# project: n-digit-addition
# question: Where does each head of the addition model attend, and does it read the digit pairs column by column?
# links: [ideas/attention-patterns]
# checks: ["model(preset, overrides)"]
# sweeps: {seeds: {seed: [0, 1, 2, 3, 4]}}
# ---

# %% [markdown]
# # Attention patterns
#
# **Question.** Published analyses of small addition transformers (Quirke & Barez,
# 2023) find heads whose attention forms a *staircase*: the position that predicts
# answer digit `A_c` attends to the digit pair `(a_c, b_c)` of its column, and other
# heads to the pair of the column to the right, where a carry comes from. Where do the
# heads of our 2-layer addition model attend?
#
# **Method.** TransformerLens' `run_with_cache` records every head's pattern
# (`blocks.L.attn.hook_pattern`, `[batch, head, query_pos, key_pos]`) on held-out
# problems; `lab.analysis.attention` stacks the layers, averages over problems, and
# sums the attention of the positions predicting each answer digit over each column's
# digit pair (`column_attention`). Two shares condense the staircase per head
# (`staircase_shares`): attention from `A_c`'s position to its own column `(a_c, b_c)`,
# and to the column to the right `(a_c-1, b_c-1)`.

# %% tags=["parameters"]
seed = 0  # seed of training (initialization, data order) and of the problems
preset = "add2"  # the addition model
overrides = {}  # e.g. {"n_digits": 3, "steps": 600} for a quick run
n_problems = 1000  # held-out problems averaged over
nine_share = 0.0  # share of columns forced to sum to 9 (0: uniform problems)
n_shown = 6  # problems in the per-example view
threshold = 0.5  # attention share at which a head counts as reading a column

# %%
from lab import components, models, record
from lab.analysis import attention, problems

trained = models.load_or_train(preset, {**overrides, "seed": seed})
model, task = trained.model, trained.task
batch = problems.heldout(task, seed, n_problems, nine_share)
pattern = attention.patterns(model, batch.tokens)  # [problem, layer, head, q, k]
average = pattern.mean(0)  # [layer, head, q, k]
positions = attention.sequence_labels(task)
heads = components.head_labels(model.cfg.n_layers, model.cfg.n_heads)

# %% [markdown]
# ## The average pattern of every head
#
# Figure `average-patterns`: rows are queries, columns keys, averaged over the
# problems. The rows of the answer positions (bottom) are the ones the loss scores.

# %%
fig = attention.head_grid(
    average, positions, positions, zmax=1.0, title=f"Average attention pattern of every head ({n_problems} problems)"
)
record.figure(
    fig,
    "average-patterns",
    caption="Mean attention pattern of every head over held-out "
    "problems; rows are query positions, columns key positions",
)

# %% [markdown]
# ## The staircase
#
# Figure `staircase`: for each head, the attention from the position predicting each
# answer digit (rows, in emission order) to each column's digit pair (columns, most
# significant first). A head reading its own column shows the diagonal `A_c → c`; one
# reading the carry source, the diagonal shifted by one. The table and the metrics
# `staircase_own_max` and `staircase_right_max` give the shares per head.

# %%
by_column = attention.column_attention(average, task)  # [layer, head, answer, column]
columns = [f"c{c} (a{c},b{c})" for c in range(task.n_digits - 1, -1, -1)]
fig = attention.head_grid(
    by_column.flip(-1),
    columns,
    task.answer_labels(),
    zmax=1.0,
    title="Attention from each answer digit to each column's digit pair",
    axis_names=("predicting", "reads"),
)
record.figure(
    fig,
    "staircase",
    caption="Average attention from the position predicting each answer "
    "digit to the digit pair of each column (sum over a_c and b_c)",
)

shares = {name: share.flatten() for name, share in attention.staircase_shares(average, task).items()}
record.table(
    [
        {"head": head, "own column": own, "column to the right": right}
        for head, own, right in zip(heads, shares["own"].tolist(), shares["right"].tolist())
    ],
    caption="Share of each head's attention from answer positions on the staircase",
)
for name, what in (("own", "its own column (a_c, b_c)"), ("right", "the column to the right")):
    best = int(shares[name].argmax())
    record.metric(
        f"staircase_{name}_max",
        shares[name][best],
        description=f"largest mean attention of a head from an answer digit's position to {what} ({heads[best]})",
    )
    record.metric(
        f"staircase_{name}_layer0",
        float(best < model.cfg.n_heads),
        unit="seeds",
        description=f"1 if the head that attends most to {what} is in layer 0 ({heads[best]})",
    )

# %% [markdown]
# ## Digit by digit, whichever head reads it
#
# Head indices differ between seeds, so the staircase is also read per answer digit:
# the most attention *any* head pays from the position predicting it to its own column
# (`staircase_own_weakest`: the smallest such share over the digits) and to the column
# to the right (`staircase_right_weakest`). The staircase is complete when every digit
# that has such a column is read at `threshold` or more by some head
# (`staircase_own_complete`, `staircase_right_complete`); `staircase_own_heads` and
# `staircase_right_heads` count the heads whose mean share over the digits reaches it.

# %%
coverage = attention.staircase_coverage(average, task)  # {"own": [digit], "right": [digit]}
for name, what in (("own", "its own column"), ("right", "the column to the right")):
    record.metric(
        f"staircase_{name}_weakest",
        coverage[name].min(),
        description=f"smallest over answer digits of the most attention any head pays to {what}",
    )
    record.metric(
        f"staircase_{name}_complete",
        float(coverage[name].min() >= threshold),
        unit="seeds",
        description=f"1 if every answer digit with {what} is read at >= {threshold} by some head",
    )
    record.metric(
        f"staircase_{name}_heads",
        (shares[name] >= threshold).sum(),
        unit="heads",
        description=f"heads whose mean attention to {what} reaches {threshold}",
    )
read = {
    name: dict(zip([d for d, c in zip(task.answer_labels(), task.answer_columns) if keep(c)], coverage[name].tolist()))
    for name, keep in (("own", lambda c: c < task.n_digits), ("right", lambda c: c >= 1))
}
record.table(
    [
        {
            "answer digit": d,
            "own column, best head": read["own"].get(d, "–"),
            "column to the right, best head": read["right"].get(d, "–"),
        }
        for d in task.answer_labels()
    ],
    caption="Per answer digit, the most attention any head pays to its own column and to the column to the right",
)

# %% [markdown]
# ## Problem by problem
#
# Figure `examples`: every head on a few problems; the slider picks the problem,
# hovering a cell names the query and key tokens.

# %%
a_values, b_values = batch.values()
titles = [f"{a}+{b}" for a, b in zip(a_values[:n_shown], b_values[:n_shown])]
fig = attention.example_patterns_figure(
    pattern[:n_shown],
    positions,
    attention.token_labels(task, batch.tokens[:n_shown]),
    titles,
    title="Attention of every head, problem by problem",
)
record.figure(
    fig,
    "examples",
    caption="Every head's attention pattern on single problems; the slider picks the problem, hover names the tokens",
)

# %% [markdown]
# ## Result
#
# Over the 5 seeds of the `seeds` sweep (each count and number links to it; head
# indices differ between seeds, so each finding is read whichever head it is):
#
# * **The staircase, digit by digit.** Every answer digit that has a column of its own
#   is read there, at `threshold` = 0.5 of its attention or more, by some head in
#   {{ metric attention-patterns@seeds.staircase_own_complete }}; the least-read digit's
#   best head gives it {{ metric attention-patterns@seeds.staircase_own_weakest }}.
#   {{ metric attention-patterns@seeds.staircase_own_heads }} do so on average over the
#   digits (the best {{ metric attention-patterns@seeds.staircase_own_max }}), and the
#   best of them is in layer 0 in {{ metric attention-patterns@seeds.staircase_own_layer0 }}.
# * **The carry's source.** Every answer digit that has a column to its right is read
#   there at 0.5 or more by some head in
#   {{ metric attention-patterns@seeds.staircase_right_complete }} (least-read digit
#   {{ metric attention-patterns@seeds.staircase_right_weakest }}). One head reading the
#   column to the right for every digit is rarer: heads at 0.5 or more on average,
#   {{ metric attention-patterns@seeds.staircase_right_heads }} (the best
#   {{ metric attention-patterns@seeds.staircase_right_max }}, in layer 0 in
#   {{ metric attention-patterns@seeds.staircase_right_layer0 }}).
#
# Where every digit is covered, the model has the staircase and reads the carry's
# source column; which head reads which digit varies (table above).
#
# ## Caveats
#
# * Attention says where a head reads, not what it writes or whether the output is
#   used: [[experiments/circuits]] reads the OV circuits and [[experiments/ablations]]
#   measures what each head is needed for.
# * Averages over uniform problems hide heads that only matter for rare cases such as
#   carry cascades; `nine_share > 0` enriches them.
# * The threshold of 0.5 is a choice; the weakest-digit shares show how far each seed
#   is from it.
