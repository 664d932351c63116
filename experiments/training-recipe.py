# ---
# title: The training recipe, to six nines
# project: n-digit-addition
# question: Which training recipe reaches six nines (0 errors on a million held-out problems) with the fewest examples and the least training time on 2 cores, and holds it to the end?
# links: [experiments/training-dynamics, experiments/loss-shelf]
# checks: ["model(preset, overrides)", "addition_model(preset, overrides)"]
# sweeps:
#   recipes:
#     overrides:
#       - {}
#       - {lr: 0.003, steps: 1000, warmup_steps: 50}
#       - {lr: 0.003, batch_size: 128, steps: 2000, warmup_steps: 50}
#       - {lr: 0.003, batch_size: 128, steps: 2000, warmup_steps: 50, d_mlp: 256}
#       - {lr: 0.003, batch_size: 128, steps: 2500, warmup_steps: 50, d_mlp: 256}
#       - {lr: 0.003, batch_size: 128, steps: 1950, warmup_steps: 50, d_mlp: 256, d_model: 64}
#       - {lr: 0.003, batch_size: 64, steps: 3900, warmup_steps: 50, d_mlp: 256, d_model: 64}
#       - {lr: 0.003, batch_size: 64, steps: 3900, warmup_steps: 50, d_mlp: 256, d_model: 64, nine_share: 0.2}
#   seeds:
#     seed: [0, 1, 2, 3, 4]
#     overrides: [{lr: 0.003, batch_size: 64, steps: 3900, warmup_steps: 50, d_mlp: 256, d_model: 64, nine_share: 0.2}]
#   seeds-6000:
#     seed: [0, 1, 2, 3, 4]
#     overrides: [{lr: 0.003, batch_size: 64, steps: 6000, warmup_steps: 50, d_mlp: 256, d_model: 64, nine_share: 0.3}]
#   heads-8:
#     seed: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]
#     overrides: [{lr: 0.003, batch_size: 64, steps: 3900, warmup_steps: 50, d_mlp: 256, d_model: 64, nine_share: 0.3, n_heads: 8}]
#   heads-8-nine-share-40:
#     seed: [0, 1, 2, 3, 4, 5]
#     overrides: [{lr: 0.003, batch_size: 64, steps: 3900, warmup_steps: 50, d_mlp: 256, d_model: 64, nine_share: 0.4, n_heads: 8}]
#   add2-fast:
#     seed: [0, 1, 2, 3, 4, 5]
#     preset: [add2-fast]
#     overrides: [{weight_decay: 0.1, fused_attention: false}]
#   weight-decay-0:
#     seed: [0, 1, 2, 3, 4, 5]
#     preset: [add2-fast]
#     overrides: [{weight_decay: 0.0, fused_attention: false}]
#   fused-attention:
#     seed: [0, 1, 2, 3, 4, 5]
#     preset: [add2-fast]
#     overrides: [{weight_decay: 0.0, fused_attention: true}]
#   mix-120k:
#     seed: [0, 1, 2, 3, 4, 5]
#     preset: [add2-fast]
#     overrides: [{weight_decay: 0.0, fused_attention: true, lr: 0.005, warmup_steps: 200, steps: 1875, nine_share: 0.4, contrast_share: 0.3}]
#   mix-120k-contrast-40:
#     seed: [0, 1, 2, 3, 4, 5]
#     preset: [add2-fast]
#     overrides: [{weight_decay: 0.0, fused_attention: true, lr: 0.005, warmup_steps: 200, steps: 1875, nine_share: 0.4, contrast_share: 0.4}]
# ---

# %% [markdown]
# # The training recipe, to six nines
#
# **Question.** Every experiment, reproduction and sweep waits on training. The
# default `add2` recipe (2,500 steps × 256 = 640K examples) ends with 0 errors on
# millions of held-out problems; how early does it get there, and which recipe (learning
# rate, batch, warmup, width, data mix) gets there with the fewest examples and the
# least training time on 2 cores? The target: six nines within 250K examples and
# 2 minutes, held to the end of training.
#
# **Method.** Train the preset with the recipe's `overrides` (or load it from the
# model cache), then score its saved checkpoints afterwards, so that scoring never
# slows the training it times. Six nines is 0 wrong answers on `n_uniform` uniform
# held-out problems and at most 1e-4 wrong in every cascade class S0..Sn on
# `n_enriched` enriched ones (`lab.accuracy.six_nines_from`). Walking back from the
# last checkpoint, each is screened on 20,000 + 20,000 problems until a screen fails;
# then the last checkpoint and the earliest of the clean run after the failure are
# counted in full (and the next, if that one fails). Six nines starts there, so a
# late relapse moves it after the relapse. A count of a candidate start stops after
# the first block of 102,400 problems (uniform ones first) that makes it fail, since
# the rest could not make it pass: its row gives the errors in the problems it counted. Examples to six nines are that step × the batch size, seconds
# the training time up to it (evaluations and checkpoint copies left out).
#
# Run with `make experiment NAME=training-recipe PARAMS="overrides={'lr': 0.003, 'steps': 1000}"`;
# compare recipes with `make sweep NAME=training-recipe SWEEP=recipes`.

# %% tags=["parameters"]
seed = 0  # seed of training (initialization, data order)
preset = "add2"  # the model preset the recipe starts from
overrides = {"lr": 0.003, "steps": 1000, "warmup_steps": 50}  # the recipe: settings changed from the preset
n_uniform = 1_000_000  # uniform held-out problems per full count (six nines needs 1,000,000)
n_enriched = 200_000  # enriched held-out problems per full count, for the cascade classes

# %%
import numpy as np

from lab import accuracy, figures, models, record

trained = models.load_or_train(preset, {**overrides, "seed": seed})
config = trained.train_config
reached = accuracy.six_nines_from(trained, n_uniform, n_enriched)
print(f"{config.steps} steps × {config.batch_size}, lr {config.lr}, warmup {config.warmup_steps}")

# %% [markdown]
# ## The counts, walking back from the last checkpoint
#
# Errors among the screen's problems and the full count's, at each checkpoint the
# walk counted (the full count only where the screen was clean, and at the end).

# %%
steps = [check.step for check in reached.checks]


def full_or_nan(value, stopped: bool = False) -> list[float]:
    """``value`` of each full count that ran to the end (or, with ``stopped``, of each
    that stopped at its failure), NaN elsewhere."""
    return [
        value(check.full) if check.full is not None and check.full.stopped == stopped else np.nan
        for check in reached.checks
    ]


fig = figures.lines(
    steps,
    {
        "uniform errors, screen": [c.screen.uniform_errors for c in reached.checks],
        f"uniform errors, full count of {n_uniform:,}": full_or_nan(lambda counts: counts.uniform_errors),
        "uniform errors, full count stopped at its failure": full_or_nan(lambda c: c.uniform_errors, stopped=True),
        "worst class, errors per 10,000 (screen)": [1e4 * c.screen.worst_class_rate for c in reached.checks],
        "worst class, errors per 10,000 (full)": full_or_nan(lambda counts: 1e4 * counts.worst_class_rate),
    },
    title="Held-out errors at the checkpoints the walk counted",
    ylabel="errors",
)
fig.update_traces(mode="lines+markers")
record.figure(
    fig,
    "error-counts",
    caption="Wrong answers on uniform held-out problems and the worst cascade class's error rate "
    "(per 10,000; six nines allows 1) at each checkpoint counted, screen and full count; a full count "
    "that stopped at its failure shows the errors in the problems it counted",
)


def full_count(counts: accuracy.ErrorCounts | None) -> str:
    """The problems a full count scored: all of them, or those before it stopped."""
    if counts is None:
        return ""
    scored = f"{counts.uniform_n:,} + {sum(counts.class_n):,}"
    return f"{scored}, stopped at its failure" if counts.stopped else scored


def worst_class(counts: accuracy.ErrorCounts | None) -> float | str:
    """A full count's worst class rate, blank where it counted no enriched problem."""
    return counts.worst_class_rate if counts is not None and any(counts.class_n) else ""


rows = [
    {
        "step": check.step,
        "examples": check.step * config.batch_size,
        "training s": trained.seconds_at(check.step),
        "screen uniform errors": check.screen.uniform_errors,
        "screen worst class rate": check.screen.worst_class_rate,
        "full count: problems": full_count(check.full),
        "full uniform errors": "" if check.full is None else check.full.uniform_errors,
        "full worst class rate": worst_class(check.full),
        "six nines": "yes" if check.passed else "no",
    }
    for check in reached.checks
]
record.table(
    rows,
    caption=f"Each checkpoint counted: a screen of {reached.checks[0].screen.uniform_n:,} uniform and as many "
    f"enriched problems, then {n_uniform:,} uniform and {n_enriched:,} enriched in full (uniform + enriched "
    "problems scored; a candidate start's count stops at its failure)",
)

# %% [markdown]
# ## Examples and seconds to six nines

# %%
record.metric(
    "held_six_nines",
    int(reached.step is not None),
    None,
    "1 if six nines holds from a checkpoint to the end of training, else 0",
)
if reached.step is not None:
    record.metric("steps_to_six_nines", reached.step, "steps", "first checkpoint from which six nines holds to the end")
    record.metric(
        "examples_to_six_nines",
        reached.step * config.batch_size,
        "examples",
        "training examples up to that checkpoint (steps × batch size)",
    )
    record.metric(
        "seconds_to_six_nines",
        trained.seconds_at(reached.step),
        "s",
        "seconds of training up to that checkpoint (evaluations left out)",
    )
record.metric("training_examples", config.steps * config.batch_size, "examples", "training examples of the whole run")
record.metric("training_seconds", trained.seconds_at(config.steps), "s", "seconds of training of the whole run")
record.metric(
    "uniform_errors",
    reached.final.uniform_errors,
    "errors",
    f"wrong answers of the final model on {n_uniform:,} uniform held-out problems",
)
record.metric(
    "worst_class_rate",
    reached.final.worst_class_rate,
    None,
    f"the final model's highest error rate of a cascade class, on {n_enriched:,} enriched held-out problems",
)

classes = [
    {"class": f"S{c}", "problems": n, "errors": e, "rate": e / n}
    for c, (n, e) in enumerate(zip(reached.final.class_n, reached.final.class_errors))
    if n
]
record.table(classes, caption="The final model's errors per cascade class (enriched held-out problems)")

# %% [markdown]
# ## Result
#
# **In short: the `add2-fast` preset reaches six nines within the target at every seed
# tried, at most 43.7 s into training.** It is `add2` narrowed to `d_model`
# 64 and `d_mlp` 256, with 8 attention heads, trained at batch 64 and lr 3e-3 for 3,900
# steps (249,600 examples) with no weight decay, on data where 30% of the columns are
# forced to sum to 9 and 20% to 8 or 10, with fused attention in the training step. In
# the [[experiments/training-recipe/sweeps/fused-attention|fused-attention sweep]]
# every seed from 0 to 5 holds six nines to the end, from
# {{ metric training-recipe@fused-attention.examples_to_six_nines }} and
# {{ metric training-recipe@fused-attention.seconds_to_six_nines }} of training (at
# most 223,296 examples and 43.7 s), and the whole run takes
# {{ metric training-recipe@fused-attention.training_seconds }}. The same recipe
# trained through TransformerLens' own attention (the weight-decay-0 sweep) held at six
# seeds of six too. Twelve runs with 0 wrong of a million each bound the recipe's error
# rate, pooled, below about one in four million; they do not promise that the next
# seed holds, and they are six seeds twice, not twelve (Caveats). How the search got
# there, in the order it went (on the earlier machines, whose sweeps are archived: see
# the Caveats for why a new machine trains other narrow models): the narrow model
# with 8 attention heads holds six nines at 6 seeds of 10, inside both the 250,000
# examples and the 2 minutes at 5 of them. With 4 heads the same 249,600 examples hold
# it at 2 seeds of 5 (and 8 of 29 GPU runs over five variants), and 384,000
# examples at 4 of 5. Seed 3 failed every recipe tried at the default initialization,
# on those CPUs and a GPU (on the new machine it holds: [[experiments/seed-swap]]);
# initial weights at half the scale rescue it, on the GPU and the CPU,
# but on the CPU seed 1 then misses instead. More columns summing to 9
# (`nine_share` 0.4) rescue seed 3 too, but hold at none of 6 seeds: every seed ends a
# near miss. The near misses look like carry errors at the threshold (a column summing
# to 8 or 10 read as 9), and training on more columns summing to 8 and 10 as well (the
# `add2-fast` sweep) gives the best worst case then: three seeds of six hold six nines
# inside both targets and the other three end with 1 to 4 wrong answers per million,
# where every other recipe left some seed at 72 or more. Dropping the weight decay (0.1
# until then) takes those three to 0: six of six hold. Training through a leaner forward
# with fused attention makes a step about an eighth faster, and six of six hold again.
# Pushed to 120,000 examples (the next target; at the end of this section), the best
# recipe tried holds at three seeds of six, from 101,056 examples and 22 s of training.
#
# **This page's run: the 4-head recipe at seed 0.** `add2` narrowed to `d_model` 64 with
# `d_mlp` 256, trained at batch 64 with lr 3e-3 after 50 warmup steps and cosine decay
# over 3,900 steps (249,600 examples), on data where 20% of the columns are forced to
# sum to 9 (`nine_share` 0.2, twice `add2`'s). Six nines means 0 wrong answers on
# 1,000,000 uniform problems and every cascade class within 1e-4 on 200,000 enriched
# ones, where six nines starts and at the last checkpoint, with clean screens between.
# On this machine (a Sapphire Rapids CPU; this run of 2026-12-06) seed 0 **does not
# hold it**: the last checkpoint's full count finds
# {{ metric training-recipe.uniform_errors }} among the million uniform problems (the
# worst cascade class at {{ metric training-recipe.worst_class_rate }} of its enriched
# problems), although the screens of 20,000 + 20,000 problems at steps 3,489, 3,695 and
# 3,900 were clean: two errors in a million are below what a screen can see, which is
# why the last checkpoint is always counted in full. The earlier machines, with the
# same code and seed, trained another model, which held six nines from step 3,079
# (197,056 examples) with a clean full count there and at step 3,900; the seeds sweep
# below, archived, is theirs (Caveats: a model this narrow depends on the machine).
#
# **Over seeds it holds two times in five, so it is not a finding.** The
# [[experiments/training-recipe/sweeps/seeds|seeds sweep]] trains the same recipe with
# seeds 0 to 4 ({{ metric training-recipe@seeds.held_six_nines }}, where a seed that
# holds six nines counts 1 and one that does not 0). Seed 4 holds it from step 3,695:
# 236,480 examples and 110 s, inside the target with little to spare. Seeds 1, 2 and 3
# end with 958, 8,573 and 2,442 wrong answers per million uniform problems. They were
# still short when the learning rate ran out: their held-out loss at the end is 0.0009
# (seed 1), 0.0044 (seed 2) and 0.0016 (seed 3) nats, where seeds 0 and 4 end below
# 0.00005 (on the 2,000 problems of the training history). Seed 2's loss also rose for
# a while near step 1,650 (from 0.05 to 0.15), which suggests that lr 3e-3 is at the
# edge of stable for this model at batch 64. So 249,600 examples are at the edge of
# what this model needs: some seeds get there, most do not. Same seed, same weights:
# there the recipe with seed 0 reproduced its six-nines model in 84 to 105 s of training,
# but no recipe tried reaches six nines within the target whatever the seed. Two leads
# from bench screens on seeds 1 and 2 (lr 2e-3; `nine_share` 0.3) did not hold up over
# more seeds (on a GPU, below).
#
# **With 384,000 examples, four seeds of five.** The
# [[experiments/training-recipe/sweeps/seeds-6000|seeds-6000 sweep]] trains the recipe
# with `nine_share` 0.3 for 6,000 steps (384,000 examples) at seeds 0 to 4, and four
# of them hold six nines to the end ({{ metric training-recipe@seeds-6000.held_six_nines }},
# counting 1 for a seed that holds).
# Seeds 0, 1, 2 and 4 get there after 303,168, 303,168, 262,720 and 323,392 examples
# ({{ metric training-recipe@seeds-6000.examples_to_six_nines }}) and 127 to 155 s of
# training; the whole run takes {{ metric training-recipe@seeds-6000.training_seconds }}.
# Seed 3 ends with 237 wrong answers per million and 1.1% of its S3 problems wrong (a
# carry passed on through two columns that sum to 9); at 3,900 steps, in the seeds
# sweep, it had 2,442 wrong.
# So more examples move most seeds over the line (two in five at 249,600, four in five
# at 384,000, one run per seed), but not every seed, and at a price: the seeds that
# hold get there after more than the target's 250,000 examples.
#
# **With 8 heads, six seeds of ten within 249,600 examples.** The
# [[experiments/training-recipe/sweeps/heads-8|heads-8 sweep]] trains the recipe with
# `nine_share` 0.3 at 3,900 steps and `n_heads` 8 (`d_head` 8) instead of 4, at seeds
# 0 to 9 ({{ metric training-recipe@heads-8.held_six_nines }}, counting 1 for a seed
# that holds). Seeds 0, 1, 2, 4, 7 and 8 hold six nines to the end from 236,480,
# 210,176, 223,296, 210,176, 223,296 and 210,176 examples
# ({{ metric training-recipe@heads-8.examples_to_six_nines }}), after 125.0, 96.8,
# 107.3, 84.7, 113.1 and 101.1 s of training: all six inside the examples target, and
# all but seed 0 (5 s over) inside the 2 minutes. Of the four that miss, seed 3 has not
# learned a long cascade: it ends with 221 wrong answers per million, 0.23% of its S3
# problems wrong, where with 4 heads it ended with 2,442 (this machine, `nine_share`
# 0.2) and 2,609 (the GPU, this recipe). Seeds 5, 6 and 9 are near misses, with 11, 4
# and 1 wrong per million and every cascade class within 1e-4 (1 is within what a
# million problems can resolve; 4 and 11 are not). The first five seeds held four
# times and the next five twice: five seeds had overstated the rate, which is about
# one in two to two in three. The extra heads cost little: the whole run takes
# {{ metric training-recipe@heads-8.training_seconds }} (102 to 132 s), against 108 to
# 123 s with 4 heads in the seeds sweep. Of the recipes committed here this is the one
# to use; it is not one that holds at every seed.
#
# **More enrichment turns every seed into a near miss.** The
# [[experiments/training-recipe/sweeps/heads-8-nine-share-40|heads-8-nine-share-40 sweep]]
# trains the heads-8 recipe with `nine_share` 0.4 instead of 0.3 at seeds 0 to 5, and
# none of them holds six nines ({{ metric training-recipe@heads-8-nine-share-40.held_six_nines }}).
# Seed 3's long cascades are rescued: it ends with 3 wrong answers per million and every
# cascade class within 1e-4, where at 0.3 it had 221 and 0.23% of S3 wrong. But seeds
# 0, 1 and 2, which hold six nines at 0.3, end with 1, 3 and 1 wrong per million, seed 5
# with 3 (11 at 0.3) and seed 4 with 72
# ({{ metric training-recipe@heads-8-nine-share-40.uniform_errors }}). The extra sum-9
# columns trade the one large failure for a few errors at every seed, and the runs take
# {{ metric training-recipe@heads-8-nine-share-40.training_seconds }}, against 102 to
# 132 s at 0.3. The sweep stops at six seeds: with none of six holding, four more could
# not make it the better recipe. A scratch screen of the final models (200,000 uniform
# and 200,000 enriched problems each, in the closing note of issue 12) saw seed 3's
# cascades rescued at `nine_share` 0.5 too, with 2 wrong of 200,000 uniform problems
# (seed 5: 0, a count too small to call), and closed two other directions: 16 heads
# ran 146 to 154 s, over the 2 minutes whatever the examples, and batch 32 for 7,800
# steps at lr 2e-3 took 187 s and left seed 3 with 394 wrong of 200,000.
#
# **The near misses are carry errors at the threshold.** Listing the wrong answers
# among the final count's million uniform problems for six near misses (a scratch count
# in the closing note of issue 12: heads-8 seeds 5, 6 and 9 with 11, 4 and 1 wrong;
# `nine_share` 0.4 seeds 0, 3 and 4 with 1, 3 and 72), 91 of the 92 are one answer digit
# off by one because a carry was decided wrongly where a column's total (its digits
# plus the carry it receives) is 9 or 10, the edge between passing a carry on and not:
#
# - 52 invent a carry, all into the thousands digit, where the hundreds column's digits
#   sum to 8 and it receives a carry: 8 + 1 = 9 passes nothing on, but the model passes
#   a carry as if the column summed to 9 (96,499 + 89,449 = 185,948, answered 186,948).
#   Every wrong answer of heads-8 seeds 5 and 6 is this one.
# - 36 miss the carry of a column whose digits sum to exactly 10 with no carry in
#   (heads-8 seed 9's one error, and 35 of seed 4's at 0.4).
# - 3 miss a carry passed on by a column summing to 9 (all at 0.4 seed 4); 1 is a tens
#   digit one too high with no carry to explain it.
#
# So the model reads a column's digit sum of 8 or 10 as 9 now and then. Six models, 92
# errors, 72 of them from one model: a lead, not a finding. It suggests why more sum-9
# columns do not help (they make the neighbouring sums rarer: a column sums to 8, or to
# 10, with probability 0.09 × (1 − `nine_share`)) and what might: training data that
# also enriches columns summing to 8 and 10 ([[ideas/why-some-seeds-miss-cascades]]).
#
# **Enriching the sums either side of 9 as well removes the far miss, not the near
# ones.** The [[experiments/training-recipe/sweeps/add2-fast|add2-fast sweep]] trains
# the heads-8 recipe on data where, besides 30% of the columns forced to sum to 9, 20%
# are forced to sum to 8 or to 10 (`contrast_share` 0.2, half each: the totals on either
# side of the carry threshold), at seeds 0 to 5. This is the `add2-fast` preset as first
# published, with weight decay 0.1 (the sweep's declaration now sets it). Seeds 3, 4 and
# 5 hold six nines to the end, from 236,480, 197,056 and 236,480 examples
# ({{ metric training-recipe@add2-fast.examples_to_six_nines }}) after 105.9, 96.8 and
# 93.9 s of training, inside both targets; seeds 0, 1 and 2 end with 2, 1 and 4 wrong
# answers per million and every cascade class within 1e-4
# ({{ metric training-recipe@add2-fast.held_six_nines }}, counting 1 for a seed that
# holds). Against the heads-8 sweep at the same seeds (four of six held there) the count
# barely moves, but the seeds do: seed 3, which had not learned the long cascades there
# (221 wrong per million, 0.23% of S3), holds here, and so does seed 5 (11 wrong there),
# while seeds 0, 1 and 2, which held there with 0, now end a near miss. So the extra
# sums of 8 and 10 take the worst seed from 221 wrong per million to 4
# ({{ metric training-recipe@add2-fast.uniform_errors }}), and leave whether a seed ends
# at 0 or at a few to the lottery that a million problems cannot resolve (see Caveats).
# The runs take {{ metric training-recipe@add2-fast.training_seconds }}. Six seeds, one
# run each: the hold rate is not measured to better than "about half", and the claim
# that stands is the worst case, every seed within 4 per million.
#
# **Without weight decay the near misses go: six seeds of six hold.** The
# [[experiments/training-recipe/sweeps/weight-decay-0|weight-decay-0 sweep]] trains the
# same recipe at the same seeds with `weight_decay` 0 instead of AdamW's 0.1; this is
# the `add2-fast` preset now. Every seed holds six nines to the end
# ({{ metric training-recipe@weight-decay-0.held_six_nines }}), from 197,056, 223,296,
# 210,176, 197,056, 210,176 and 210,176 examples at seeds 0 to 5 (102.1, 112.3, 105.8,
# 97.6, 104.7 and 110.5 s of training), inside both targets, and every final count has 0
# wrong of 1,000,000 uniform problems and 0 in every cascade class
# ({{ metric training-recipe@weight-decay-0.uniform_errors }}). Seeds 0, 1 and 2, which
# ended with 2, 1 and 4 wrong per million with weight decay, end with 0. Over the six
# seeds that is 7 wrong of 6,000,000 with weight decay against 0 of the same 6,000,000
# without: if the two recipes erred at the same rate, all 7 errors would fall on one
# side with probability 2 × 2^-7, about 1.6%. The whole runs take
# {{ metric training-recipe@weight-decay-0.training_seconds }} (3,900 steps); six nines
# starts before the end, and the last 411 to 821 steps hold it. Why weight decay costs
# the threshold is a guess, not something this page measures: deciding a carry at a
# column total of 9 against 8 or 10 needs a sharp step, and decay pulls against the
# large weights a sharp step takes. On a GPU, weight decay 0 did nothing for the 4-head
# recipe without the contrast data (the table below), so the effect measured here goes
# with 8 heads and the sums of 8 and 10; the sweep changes one setting, not the recipe's
# others.
#
# **Fused attention: a step about an eighth faster, and six seeds of six again.** A
# TransformerBridge runs every layer through hook points and bridge components whether
# or not a hook listens, and TransformerLens computes attention as separate q, k and v
# projections, explicit matmuls and a masked softmax. Training attaches no hooks, so the
# lab now trains through `lab.forward.TrainingForward`, the bridge's computation as
# plain torch calls on the same weights; analyses keep the bridge. With TransformerLens'
# attention ops in their order (every preset but this one) logits, gradients and trained
# weights are bit for bit the bridge's (`tests/test_forward.py`), so no other model
# changes. `add2-fast` also sets `fused_attention`: one q/k/v projection and torch's
# `scaled_dot_product_attention`. That is the same function rounded differently, so
# each seed trains a different model from the first step on: the
# [[experiments/training-recipe/sweeps/fused-attention|fused-attention sweep]] is six
# new models at seeds 0 to 5, not a re-timing of the weight-decay-0 sweep's. Every seed
# holds six nines to the end
# ({{ metric training-recipe@fused-attention.held_six_nines }}), from 161,536,
# 223,296, 223,296, 183,936, 183,936 and 210,176 examples at seeds 0 to 5 (34.0, 43.7,
# 41.8, 35.1, 37.5 and 41.3 s of training), and every final count has 0 wrong of
# 1,000,000 uniform problems and 0 in every cascade class
# ({{ metric training-recipe@fused-attention.uniform_errors }}). The whole runs take
# 46.9 to 54.0 s. These are the sweep's run of 2026-12-06 on a Sapphire Rapids machine,
# which retrained all six models alone on it. They are not the models the earlier
# machines trained at the same seeds, which held from 170,752, 210,176, 197,056,
# 183,936, 161,536 and 183,936 examples: a model this narrow trains differently on
# this machine (Caveats). The weight-decay-0 sweep's 123.9 to 130.5 s were measured under load on an
# earlier machine, so the two sweeps' seconds are not a timing of one forward against
# the other. On the
# throughput bench (`bench/bench_train_throughput.py --preset add2-fast`, in the
# closing note of issue 12) a step runs at 0.97 of a plain PyTorch transformer's speed,
# where the bridge's own forward runs at 0.82 and the lean forward with TransformerLens'
# attention at 0.93. Against the weight-decay-0 sweep, trained through TransformerLens'
# attention, three seeds got there one to three checkpoints earlier, two at the same
# checkpoint and one a checkpoint later (on the earlier machines every seed was one to
# four checkpoints earlier). No mechanism is offered for either: the two differ only in
# rounding, and six seeds do not separate it from chance.
#
# **On a GPU, over more seeds.** A lent NVIDIA H100 (torch 2.11 with CUDA 13.0, where
# this page's runs use torch 2.13 on the CPU) ran the same training and full counts
# (`bench/bench_time_to_accuracy.py`). A GPU run starts from the same weights as the
# CPU run of its seed (TransformerLens initializes from a CPU generator) and draws the
# same training problems; only the floating-point arithmetic differs. These runs are
# bench output, not part of this page's sweeps (the closing note of issue 12 has them).
# Seeds that held six nines to the end, all at `d_model` 64, `d_mlp` 256, batch 64,
# warmup 50:
#
# | recipe | steps (examples) | held six nines |
# |---|---|---|
# | lr 3e-3, `nine_share` 0.3 | 3,900 (249,600) | 3 of 5 seeds (0–4) |
# | lr 2e-3, `nine_share` 0.3 | 3,900 (249,600) | 2 of 9 (0–8) |
# | lr 2e-3, `nine_share` 0.2 | 3,900 (249,600) | 2 of 5 |
# | lr 2e-3, `nine_share` 0.4 | 3,900 (249,600) | 1 of 5 |
# | lr 3e-3, `nine_share` 0.4 | 3,900 (249,600) | 0 of 5 |
# | lr 3e-3, `nine_share` 0.3 | 6,000 (384,000) | 6 of 8 (0–7) |
#
# At 249,600 examples 8 of 29 runs held, and no variant stands apart at these counts.
# The failures are of two kinds. Most are near misses: 1 to 15 wrong per million, every
# cascade class within 1e-4. Those sit at what a million problems can resolve: a model
# that gets one problem in a million wrong shows 0 errors in a million 37% of the time
# (e^-1), so 0 against 1 separates nothing. The rest have not learned a long cascade:
# 1,459 to 3,764 wrong per million, with a cascade class 8% to 39% wrong. Seed 3 failed
# in every GPU variant (126 to 3,764 wrong per million), at 6,000 steps too (772), as it
# did on the CPU at 3,900 and 6,000 steps. Its training problems change with
# `nine_share` and its updates with lr, but its initial weights do not, which points at
# the initialization; that is a lead, not a finding (one hard seed).
#
# **What rescues seed 3: more heads and a smaller initialization** (a second GPU
# screen, 64 runs; bench output in the closing note of issue 12, not this page's
# sweeps). The recipe with `nine_share` 0.3 at 3,900 steps, changed one way at a time
# and trained at seeds 0 to 7, each final model counted on 1,000,000 uniform and
# 200,000 enriched problems. Wrong answers per million at the end:
#
# | change | seed 3 | seeds with 0 wrong | most wrong at another seed |
# |---|---|---|---|
# | none | 2,609 | 6 of 8 | 4 |
# | weights initialized at std 0.05 (TransformerLens' default here: 0.1) | 32 | 4 of 8 | 21 |
# | `n_heads` 8 | 8 | 0 of 8 | 8 |
# | `n_heads` 8 and std 0.05 | **0** | **5 of 6** (0–4, 7) | 1 |
# | `n_heads` 16 | 0 | 1 of 2 (0, 3) | 3 |
# | `weight_decay` 0 | 2,670 | 4 of 8 | 17 |
# | no weight decay on biases and LayerNorm | 2,414 | 4 of 8 | 1 |
# | `act_fn` gelu | 2,118 | 4 of 8 | 8 |
# | lr 2e-3, `nine_share` 0.4 | 126 | 0 of 4 (3, 5–7) | 2,043 (seed 7) |
#
# Seed 3's failure answers to the scale of its initial weights and to the number of
# heads: either change alone takes it from 2,609 wrong answers per million to 32 or 8,
# where weight decay and the activation leave it in the thousands. Combined with
# other changes, more heads help less or more: with `weight_decay` 0.3 seed 3 ends at
# 304, with lr 2e-3 and `nine_share` 0.4 at 1,027, with `nine_share` 0.4 at 5 (as does
# std 0.05 with `nine_share` 0.4). More heads trade the one large failure
# for small ones everywhere (1 to 8 wrong per million at every seed; on this machine
# the heads-8 sweep above gets 0 at six seeds of ten, 1 to 11 at three and 221 at
# seed 3); the smaller
# initialization alone leaves tens at two seeds. Together they reach 0 at five seeds of
# six, seed 3 included, and 1 at the sixth. That is a lead for a recipe that holds at
# every seed, not yet a finding: one GPU run per seed, and the initialization's scale
# is not a lab setting yet (the screen set it by hand; adding it to `ModelConfig`
# changes the training code that every cached model and experiment hashes). Averaging
# the weights did not help: an exponential moving average with decay 0.99 ended where
# the raw weights did, and with 0.999 worse at most seeds.
#
# **On this machine the lead did not hold.** A scratch screen on the CPU (bench output
# in the closing note of issue 12; the initialization patched by hand as on the GPU,
# six nines read from the checkpoints as on this page) trained `n_heads` 8 with std
# 0.05 at seeds 0 to 4. Seeds 0, 2, 3 and 4 held six nines to the end, from 183,936,
# 236,480, 210,176 and 210,176 examples: seed 3 is rescued here too. Seed 1, which
# holds with 8 heads at the default scale, ended with 197 wrong answers per million,
# 2.9% of its S4 and 8.4% of its S5 problems wrong. So the smaller initialization moves
# which seed misses the long cascades; it does not remove the miss.
#
# **How the search got there.** The
# [[experiments/training-recipe/sweeps/recipes|recipes sweep]] compares eight
# recipes, one seed each, so each line below is one draw:
#
# - **Halving the batch matters most.** At `add2`'s width, lr 3e-3 for 256,000 examples
#   ends with 25,363 wrong per million at batch 256 and 1 at batch 128.
# - **Width is what costs time.** At `d_model` 128 a step of batch 128 takes about
#   0.07 s on this machine, so 250,000 examples take more than 2 minutes whatever the
#   recipe. The best recipe at that width (`d_mlp` 256, batch 128, 2,500 steps) held six
#   nines from 269,440 examples and 147 s. Halving `d_model` to 64 makes an example
#   about a third cheaper.
# - **The narrow model needs the small batch.** At batch 128 it ends with 219 wrong
#   per million, and 53% of its S5 problems wrong (a carry through five columns):
#   it has not learned long cascades. At batch 64, for the same 249,600 examples and
#   113 s, it has: 6 wrong per million, and 4 of 200,000 enriched problems wrong, all in
#   S3 and S4 (S4 at 2.5e-4).
# - **At seed 0, twice the nines finish it.** With 20% of the training columns summing
#   to 9, the same run holds six nines from 197,056 examples. A column summing to 9 is what
#   passes a carry on, so these are the problems that teach cascades, where the
#   narrow model's last errors were.
#
# **Pushed to 120,000 examples, half the seeds hold.** The next target was six nines
# within 120,000 examples and 60 s of training, at six seeds of six. At 120,000 examples
# the seconds are not what binds: 1,875 steps of batch 64 take 25 to 28 s of training
# here. The examples are. Scratch screens first (not this page's sweeps; listed in the
# closing notes of issue 31) trained `add2-fast` with its cosine schedule compressed to
# 120,000 examples and counted each final model on 200,000 uniform and 100,000 enriched
# problems. That screen can reject six nines, not confirm it:
#
# | change from `add2-fast` (120,000 examples each) | seeds clean on the screen | wrong of 200,000 uniform at the others |
# |---|---|---|
# | 1,875 steps, lr 3e-3 | 0 of 2 (seeds 1, 2) | 38 and 4 |
# | 1,875 steps, lr 5e-3 | 3 of 6 (1, 2, 3) | 4,016 (seed 0), 781 (4), 3 (5) |
# | 1,875 steps, lr 4e-3 | 0 of 1 (0) | 636 |
# | batch 32, 3,750 steps, lr 2e-3 | 0 of 2 (1, 2) | 2 (seed 1); seed 2 had 0, but a cascade class at 5e-4 |
# | 1,875 steps, lr 5e-3, warmup 200 steps | 3 of 6 (0, 3, 5) | 7 (seed 1, a class at 2.5e-4), 1 (2), 1 (4) |
#
# With 50 warmup steps two of the misses had not learned long cascades (a cascade class
# over 30% wrong); with 200 the misses were near ones. Then counted in full, as
# exploration sweeps of this page (archived), the 200-step warmup at lr 5e-3 with more of
# the columns that teach carries than `add2-fast` has:
#
# - [[experiments/training-recipe/sweeps/mix-120k|mix-120k]] (40% of the training
#   columns summing to 9 and 30% to 8 or 10, against 30% and 20%): three seeds of six
#   hold six nines ({{ metric training-recipe@mix-120k.held_six_nines }}, a seed that holds counting 1),
#   from {{ metric training-recipe@mix-120k.examples_to_six_nines }} and
#   {{ metric training-recipe@mix-120k.seconds_to_six_nines }} of training (seeds 2, 3
#   and 4: 101,056 to 107,392 examples). Two of the other three are near misses: seeds 0
#   and 5 end with 4 and 1 wrong of a million uniform problems, seed 1 with 249. Seed 0's
#   last checkpoint passed the walk's screen (20,000 problems of each kind) and failed
#   the full count: a few errors per million are what only the million sees.
# - [[experiments/training-recipe/sweeps/mix-120k-contrast-40|mix-120k-contrast-40]]
#   (40% to 8 or 10, in case the near misses were threshold errors): two of six hold
#   ({{ metric training-recipe@mix-120k-contrast-40.held_six_nines }}), at 107,392 and
#   113,664 examples, and the others end with 1, 9, 34 and 434 wrong per million. More
#   contrast did not finish the near misses.
#
# So the frontier this page can state: six seeds of six from 161,536 to 223,296 examples
# (the fused-attention sweep; 161,536 to 210,176 on the earlier machines), and three of
# six from 101,056 to 107,392 at 120,000 (mix-120k). A recipe that holds at 120,000 at
# every seed is not found. Not tried, and why: a batch that grows during training is a
# change to the training loop, which every cached model hashes, so every model of every
# experiment would retrain. A wider model was screened at one seed only (`d_model` 96,
# `d_mlp` 384, mix-120k's other settings: 7 wrong of 20,000 uniform problems at the end,
# after 38 s of training steps), and not pursued.
#
# `add2` stays the preset the experiments share, and the recipe is a second preset,
# `add2-fast`. It is another model on another data mix, and the experiments' findings
# (the loss shelf, the carry odds) are about `add2`'s; the shelf also shrinks at higher
# learning rates (in
# [[experiments/loss-shelf/sweeps/settings|loss-shelf's settings sweep]] it lasts 54
# steps at lr 3e-4 and 10 at lr 1e-3), so a recipe at lr 3e-3 would blur the early
# phases the experiments study. For a good model fast, `make train
# PRESET=add2-fast` (or `models.load_or_train("add2-fast")`) gives a six-nines model at
# every seed tried (six, twice), within 2 minutes of training; the same seed gives the
# same model every time; and counting a model's errors before relying on it is still the
# rule.
#
# ## Caveats
#
# - **A model this narrow depends on the machine that trained it.** The same seed and
#   code trained other `d_model` 64 models on a Sapphire Rapids machine (from
#   2026-12-06) than on the machines before it. Both ran 2 threads under the AVX2 cap;
#   the earlier ones without MKL's strict mode, which the lab sets since, and under
#   which MKL promises the same sums on every CPU with AVX2. `add2` and `add1`
#   (`d_model` 128) trained the same models bit for bit on both (their whole training
#   histories); the narrow ones did not. The fused-attention sweep's seed 0 held six
#   nines from 161,536 examples on the new machine and from 170,752 before; this
#   page's run held from step 3,079 before and misses by 2 wrong in a million now; and
#   in [[experiments/seed-swap]] seed 3, which failed every recipe on the earlier
#   machines, holds with its own weights and problems on the new one. So at this width
#   whether a run holds turns on rounding-sized differences, not only on its seeds.
#   The fused-attention sweep's six of six held on both machines (two sets of six
#   models); every other sweep on this page ran on the earlier machines and is
#   archived as their record, and "this machine" in its paragraphs means theirs.
# - **Seconds are wall-clock time on the machine that trained the model.** They vary
#   from run to run: the recipe's 3,900 steps took 107.5 to 123.2 s over the five
#   seeds of the seeds sweep, and 113.1 s and 117.8 s in two runs of
#   `bench/bench_time_to_accuracy.py` at seed 0; 6,000 steps took 160.7 to 193.5 s
#   over the seeds of seeds-6000. This page's own run (the same training every time,
#   bit for bit) reached six nines after 86.4 s of training in one session and 105.1 s
#   in the next, on two machines of the same kind: the `add2-fast` sweep (weight decay
#   0.1) ran on the faster, the weight-decay-0 sweep on the slower, so its 97.6 to
#   112.3 s would be about a sixth less there. Through the lean training forward (the
#   same weights, bit for bit) it took 84.2 s. Runs before the fused-attention sweep
#   trained through the bridge's own forward, slower a step (on the throughput bench
#   0.82 of plain PyTorch's speed, against 0.93 for the lean forward with the same
#   attention). A model from the cache
#   keeps the seconds of the run that trained it; the `add2` point's model was trained
#   in an earlier session beside other jobs (3,434 s for 2,500 steps), so its seconds are
#   not comparable, while its examples are. This machine is slow for its kind: the
#   issue that set the target trained `add2` in 247 s, and `add2` takes about 0.18 s a
#   step here, 450 s for its 2,500 steps.
# - **Six of six is not "every seed".** Six seeds with 0 wrong of a million each pool
#   to 0 of 6,000,000: at 95% confidence the recipe's error rate, pooled, is below
#   about 5e-7 (3 in 6,000,000); the two sweeps together, 0 of 12,000,000, put it below
#   about 2.5e-7. They are the same six seeds twice (the same initial weights and
#   training problems, rounded two ways), so they say less about a seventh seed than
#   twelve seeds would. A seed whose model errs once in a million still shows 0 in a
#   million 37% of the time, so a seventh seed could miss; and with the 4-head recipe
#   six nines held at 2 of 5 seeds here, so one recipe's run of good seeds has misled
#   before.
# - **The margin under 2 minutes is about half on a quiet machine, a sixth under
#   load.** With fused attention six nines starts at 39.8 to 63.4 s of training and
#   the whole 3,900 steps take 59.6 to 78.4 s when the run has the machine to itself;
#   the same models took 78.4 to 100.8 s and 110.9 to 126.7 s beside other work. Through the bridge's forward (the
#   weight-decay-0 sweep) there was little margin or none: six nines at 97.6 to 112.3 s,
#   the whole run 124 to 131 s, and a run of `bench/bench_time_to_accuracy.py` at seed 1
#   reached it after 122.3 s. Stopping at six nines is not the same run (the learning
#   rate would not have decayed).
# - **A million problems resolve about one error in a million, not less.** Six nines
#   as counted here (0 wrong of 1,000,000) is passed by a model with one error in a
#   million 37% of the time, and failed 63% of the time; this count cannot tell a run
#   that ends with 1 or 2 wrong from one that ends with 0. The held/not-held tallies
#   above count such near misses as failures.
# - **GPU runs are bench output on another torch build,** one run per seed and recipe;
#   their timings are not comparable with this machine's. The H100 trains the recipe's
#   3,900 steps in 30.6 s alone (34.6 to 38.3 s with four runs sharing it) and `add2`'s
#   2,500 in 22.2 s. Models this small leave the GPU waiting on Python to launch each
#   operation, and there the lab's training step runs at 0.58 to 0.59 of a plain
#   PyTorch model's speed (`bench_train_throughput.py --device cuda`), through the
#   bridge's forward; the lean training forward has not run on a GPU. An earlier
#   version of this caveat blamed TransformerLens' layers alone, because the bench's
#   "native" contender ran at the lab's speed; that contender still held the bridge's
#   components (the bridge wraps the native model's modules in place), so it measured
#   nothing apart. Measured apart, on this CPU at batch 1 the bridge's forward took
#   4.1 ms against 1.2 ms for the plain model: about a hundred module calls a forward.
# - **Six nines is resolved only at checkpoints.** From the middle of training they are
#   every 5% of the run (195 steps, 12,480 examples for the recipe), so the step is an
#   upper bound, up to one checkpoint late.
# - **Between the two full counts, checkpoints get only a screen** of 20,000 + 20,000
#   problems. A relapse to a few errors per million there would go unseen.
# - **The other recipes ran with one seed each,** and the seeds sweep shows how far
#   one seed can mislead: outcomes are close to all-or-nothing (a recipe learns the
#   long cascades, or ends with hundreds of errors per million), and the seed decides
#   which. Each comparison in the recipes sweep is one draw.
