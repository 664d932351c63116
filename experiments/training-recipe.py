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
#   seeds:
#     seed: [0, 1, 2, 3, 4]
#     overrides: [{lr: 0.003, batch_size: 128, steps: 2500, warmup_steps: 50, d_mlp: 256}]
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
# late relapse moves it after the relapse. Examples to six nines are that step × the batch size, seconds
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


def full_or_nan(value) -> list[float]:
    return [np.nan if check.full is None else value(check.full) for check in reached.checks]


fig = figures.lines(
    steps,
    {
        "uniform errors, screen": [c.screen.uniform_errors for c in reached.checks],
        f"uniform errors, full count of {n_uniform:,}": full_or_nan(lambda counts: counts.uniform_errors),
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
    "(per 10,000; six nines allows 1) at each checkpoint counted, screen and full count",
)

rows = [
    {
        "step": check.step,
        "examples": check.step * config.batch_size,
        "training s": trained.seconds_at(check.step),
        "screen uniform errors": check.screen.uniform_errors,
        "screen worst class rate": check.screen.worst_class_rate,
        "full uniform errors": "" if check.full is None else check.full.uniform_errors,
        "full worst class rate": "" if check.full is None else check.full.worst_class_rate,
        "six nines": "yes" if check.passed else "no",
    }
    for check in reached.checks
]
record.table(
    rows,
    caption=f"Each checkpoint counted: a screen of {reached.checks[0].screen.uniform_n:,} uniform and as many "
    f"enriched problems, then {n_uniform:,} uniform and {n_enriched:,} enriched in full",
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
# The best recipe found reaches six nines, held to the end, after **269,440 examples**:
# `add2` with half its MLP (`d_mlp` 256), batch 128, lr 3e-3 after 50 warmup steps, and
# cosine decay over 2,500 steps. `add2` as it is takes 572,672, so the recipe needs 2.1×
# fewer. This run (the recipe, seed 0) is clean from step 2,105 to the end: after
# {{ metric training-recipe.examples_to_six_nines }} and
# {{ metric training-recipe.seconds_to_six_nines }} of training. That means 0 wrong
# answers on 1,000,000 uniform problems and every cascade class clean on 200,000
# enriched ones at steps 2,105 and 2,500, with clean screens between. The checkpoint
# before it, at step 1,974, still had 2 wrong answers in its screen of 20,000.
#
# The target was 250,000 examples and 2 minutes on 2 cores, and this recipe misses both.
# - **Examples:** it needs 8% more, one checkpoint later than the target allows.
# - **Seconds:** this run counted 147 s of training to six nines, evaluations left out.
#   `bench/bench_time_to_accuracy.py` trained the same recipe from scratch, with the
#   same checkpoints and the same counts, and took 167 s. On this shared 2-core
#   machine a step of the recipe takes 0.065 to 0.079 s from run to run, so 2 minutes
#   holds 1,500 to 1,850 steps, while six nines came at step 2,105.
#
# The [[experiments/training-recipe/sweeps/recipes|recipes sweep]] compares five recipes,
# one seed each:
# - **Halving the batch (twice the steps) matters most.** lr 3e-3 at batch 256 for
#   1,000 steps (256,000 examples) ends 25,363 wrong per million. The same examples at
#   batch 128 (2,000 steps) end 1 wrong per million, one error short of six nines.
# - **Half the MLP costs nothing in accuracy.** `d_mlp` 256 trains 13% faster: 149 s
#   against 171 s for 2,000 steps. At those steps it ends 2 wrong per million, as close
#   to six nines as the full width.
# - **What got there was more steps,** 2,500 at batch 128, so that the decaying lr has
#   time to clean up the last rare errors. Those errors were uniform problems; every
#   cascade class was already within 1e-4.
#
# `add2` stays the preset the experiments share, because its checkpoints must resolve the
# shelf. At higher learning rates the shelf shrinks: in
# [[experiments/loss-shelf/sweeps/settings|loss-shelf's settings sweep]] it lasts 54
# steps at lr 3e-4 and 10 at lr 1e-3, so at lr 3e-3 it would likely be shorter still.
# The fast recipe is for work that needs a good model, not its history: the
# overrides above, with any preset call (`models.load_or_train("add2", overrides)`).
#
# ## Caveats
#
# - **One seed per recipe.** The margins are one or two errors per million, and a seed
#   can move them. The `seeds` sweep is declared but not run: each point costs 10 to 20
#   minutes of counting on 2 cores.
# - **Seconds are wall-clock time on the machine that trained the model.** A model from
#   the cache keeps the seconds of the run that trained it. The `add2` point's model was
#   trained in an earlier session beside other jobs: 3,434 s for 2,500 steps, about ten
#   times a quiet run. Its seconds are not comparable; its examples are. Reproductions
#   show seconds but do not compare them.
# - **Six nines is resolved only at checkpoints.** From the middle of training they are
#   every 5% of the run, so the step is an upper bound, up to one checkpoint late.
# - **Between the two full counts, checkpoints get only a screen** of 20,000 + 20,000
#   problems. A relapse to a few errors per million there would go unseen.
