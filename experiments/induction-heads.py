# ---
# title: Induction heads
# project: n-digit-addition
# question: When do induction heads form, and do the addition models have any?
# links: [ideas/induction-heads]
# checks: ["model(induction_preset, induction_overrides)", "model(addition_preset, addition_overrides)"]
# sweeps: {seeds: {seed: [0, 1, 2, 3, 4]}}
# ---

# %% [markdown]
# # Induction heads
#
# **Question.** An induction head completes a pattern seen before in the context: at
# a token `A` it attends to the token that followed an earlier `A` and copies it
# (Olsson et al., 2022). In a 2-layer attention-only model they form in a sudden phase
# change, together with the previous-token heads they need. When does that happen in
# our attention-only preset, and do the addition models have such heads?
#
# **Method.** The `attn2` preset (2 attention-only layers, 4 heads each) is trained on
# rows `[0, filler…, x_1..x_k, x_1..x_k]` of random tokens, a span of `k` tokens shown
# twice at the end of the row, with `k` drawn per row (`lab.data.RepeatData` with
# `min_span`); rows always have the same length and the predictions of their second
# half are scored. Since the distance between the copies varies, only a look-back by
# token content (induction) predicts the repeat, not a lookup at a fixed position.
# It is evaluated on rows of the training length whose span has one fixed `k` for each
# of `repeat_lengths` (`lab.analysis.induction.repeat_rows`); shorter rows would put the
# repeat where training never had one. For every checkpoint we score every head on
# these rows with TransformerLens' head-detection scoring
# (`get_induction_head_detection_pattern`, `get_previous_token_head_detection_pattern`,
# `compute_head_attention_similarity_score`, called on tensors through
# `lab.analysis.induction` since `detect_head` needs a tokenizer). A score is the share
# of a query's attention on the keys a perfect head would attend to, averaged over the
# queries that have such a key (1 = perfect head), then over the repeat lengths. The
# induction score is taken at the queries of the repeat only (those predicting
# x_2'..x_k', `induction.copy_positions`): with a small vocabulary, tokens of the
# random filler recur by chance and give the detection pattern targets of their own,
# which at small `k` would outnumber the repeat's. The previous-token pattern means
# the same everywhere and is scored at every query. On these rows the induction
# targets sit `k - 1` positions back, a different offset for each `k`, so a head that
# scores high at every `k` finds them by token, not by position.
# The phase change is the step where a two-level least-squares fit
# (`lab.dynamics.find_step`) to the top induction head's score (and to the loss)
# switches level. The addition models are scored the same way on repeated spans of
# digits, the standard test, and on addition problems for previous-token attention.

# %% tags=["parameters"]
seed = 0  # seed of training both models (initialization, data order) and of the scored rows
induction_preset = "attn2"  # the attention-only model trained on repeated spans
induction_overrides = {}  # settings that differ from the preset, e.g. {"steps": 300}
addition_preset = "add2"  # the addition model to look for induction heads in
addition_overrides = {}  # e.g. {"n_digits": 3, "steps": 600} for a quick run
n_examples = 200  # rows scored per repeat length at every checkpoint
repeat_lengths = [4, 8, 12, 16]  # k of the scored rows; within the training range of k
head_threshold = 0.3  # score (mean over k) at which a head counts as an induction or previous-token head

# %%
import numpy as np
import torch

from lab import components, figures, models, record
from lab.analysis import attention, induction, problems
from lab.dynamics import find_step

rng = np.random.default_rng(seed)
trained = models.load_or_train(induction_preset, {**induction_overrides, "seed": seed})
data = trained.data
rows = {k: torch.as_tensor(induction.repeat_rows(rng, n_examples, data.seq_len, k, data.vocab)) for k in repeat_lengths}
labels = components.head_labels(trained.model.cfg.n_layers, trained.model.cfg.n_heads)
repeat_queries = {k: induction.copy_positions(data.seq_len, k)["repeat"] for k in repeat_lengths}
series = {
    k: induction.over_checkpoints(trained, tokens, queries={"induction": repeat_queries[k]})
    for k, tokens in rows.items()
}
mean_scores = {
    detector: torch.stack([series[k][detector] for k in repeat_lengths]).mean(0)
    for detector in ("induction", "previous_token")
}  # [checkpoint, layer, head], mean over k
steps = trained.steps

# %% [markdown]
# ## The phase change
#
# Induction scores of every head over training (figure `induction-score`), with the
# previous-token scores (figure `previous-token-score`); the dotted line is the phase
# change (metric `phase_change_step`).


# %%
def by_head(scores: torch.Tensor) -> dict[str, np.ndarray]:
    """``[checkpoint, layer, head]`` -> one series per head label."""
    return dict(zip(labels, scores.flatten(1).T.numpy()))


final = {detector: scores[-1].flatten() for detector, scores in mean_scores.items()}
top_induction = int(final["induction"].argmax())
top_previous = int(final["previous_token"].argmax())
phase_change = find_step(steps, mean_scores["induction"].flatten(1)[:, top_induction].numpy()).at
phase_change_previous = find_step(steps, mean_scores["previous_token"].flatten(1)[:, top_previous].numpy()).at
phase_change_loss = find_step(trained.history["step"], trained.history["loss"]).at

record.metric(
    "phase_change_step",
    phase_change,
    unit="steps",
    description=f"where the induction score of the top induction head ({labels[top_induction]}) jumps",
)
record.metric(
    "phase_change_step_previous_token",
    phase_change_previous,
    unit="steps",
    description=f"where the previous-token score of the top previous-token head ({labels[top_previous]}) jumps",
)
record.metric(
    "phase_change_step_loss",
    phase_change_loss,
    unit="steps",
    description="where the evaluation loss on the scored half of training rows drops (evaluations every few steps)",
)
record.metric(
    "induction_after_loss",
    phase_change - phase_change_loss,
    unit="steps",
    description="steps from the loss drop to the induction score's rise (negative: the score rises first)",
)
record.metric(
    "previous_token_first",
    float(phase_change_previous <= phase_change),
    unit="seeds",
    description="1 if the top previous-token head's score jumps at or before the top induction head's",
)

for detector, name in (("induction", "Induction"), ("previous_token", "Previous-token")):
    fig = figures.lines(
        steps,
        by_head(mean_scores[detector]),
        title=f"{name} score of every head",
        ylabel="score (share of attention on targets)",
    )
    record.figure(
        figures.reference(fig, x=phase_change, text="phase change"),
        detector.replace("_", "-") + "-score",
        caption=f"{name} score of every head of {induction_preset} at each checkpoint, the mean "
        f"over {n_examples} rows for each repeat length k in {repeat_lengths}; "
        "dotted: the phase change",
    )

# %% [markdown]
# ## Repeated tokens at every offset
#
# The first copy of the span is random, so its loss stays near `log(vocab - 1)`; the
# repeat x_2'..x_k' becomes predictable once induction heads work, and since its
# distance to the first copy is `k`, an induction mechanism predicts it equally well
# for every `k` while a positional lookup would serve one `k` only. Loss and accuracy
# on the repeat per `k` over training (figures `loss-over-training`,
# `repeated-accuracy-over-training`) and at the end (metrics `repeated_acc_k<k>` and
# `repeated_loss_k<k>`, e.g. `repeated_acc_k4`; their means `repeated_loss_final`,
# `first_copy_loss_final`); the loss of every position at the end in `loss-by-position`.


# %%
def on_copy(k: int, key: str, copy: str) -> np.ndarray:
    """``series[k][key]`` averaged over the positions predicting one copy ("first" or
    "repeat"), ``[checkpoint]``."""
    return series[k][key][:, induction.copy_positions(data.seq_len, k)[copy]].mean(1).numpy()


loss_curves = {f"repeat, k={k}": on_copy(k, "loss", "repeat") for k in repeat_lengths}
first_copy = np.mean([on_copy(k, "loss", "first") for k in repeat_lengths], axis=0)
fig = figures.lines(
    steps,
    {**loss_curves, "first copy (random)": first_copy},
    title="Loss on the repeat, per span length k",
    ylabel="loss (nats)",
)
record.figure(
    figures.reference(fig, x=phase_change, text="phase change"),
    "loss-over-training",
    caption="Mean loss of the predictions of the repeat x_2'..x_k' for each k, and of the random "
    "first copy (mean over k), at each checkpoint",
)
fig = figures.lines(
    steps,
    {f"k={k}": on_copy(k, "accuracy", "repeat") for k in repeat_lengths},
    title="Accuracy on the repeat, per span length k",
    ylabel="accuracy",
)
record.figure(
    figures.reference(fig, x=phase_change, text="phase change"),
    "repeated-accuracy-over-training",
    caption="Share of the repeated tokens x_2'..x_k' predicted right (arg-max) at each checkpoint",
)
fig = figures.heatmap(
    np.stack([series[k]["loss"][-1].numpy() for k in repeat_lengths]),
    x=[str(p) for p in range(data.seq_len - 1)],
    y=[f"k={k}" for k in repeat_lengths],
    title="Loss by position at the end of training",
    xlabel="position (predicting the next token)",
    ylabel="span length",
    diverging=False,
)
record.figure(
    fig,
    "loss-by-position",
    caption="Loss of the prediction made at each position at the end of "
    "training, for rows whose repeat has k tokens (the repeat is predicted at the last k - 1 "
    "positions)",
)

for k in repeat_lengths:
    record.metric(
        f"repeated_acc_k{k}",
        on_copy(k, "accuracy", "repeat")[-1],
        description=f"accuracy on the repeat x_2'..x_k' of rows with k={k} at the end of training",
    )
    record.metric(
        f"repeated_loss_k{k}",
        loss_curves[f"repeat, k={k}"][-1],
        unit="nats",
        description=f"loss on the repeat x_2'..x_k' of rows with k={k} at the end of training",
    )
record.metric(
    "repeated_loss_final",
    np.mean([curve[-1] for curve in loss_curves.values()]),
    unit="nats",
    description=f"loss on the repeat at the end of training, mean over k in {repeat_lengths}",
)
accuracy_by_k = [on_copy(k, "accuracy", "repeat")[-1] for k in repeat_lengths]
record.metric(
    "repeated_acc_range",
    max(accuracy_by_k) - min(accuracy_by_k),
    description=f"highest minus lowest accuracy on the repeat over k in {repeat_lengths}, at the end",
)
record.metric(
    "repeated_acc_even",
    float(max(accuracy_by_k) - min(accuracy_by_k) < 0.05),
    unit="seeds",
    description=f"1 if the accuracy on the repeat is within 0.05 for every k in {repeat_lengths}",
)
record.metric(
    "first_copy_loss_final",
    first_copy[-1],
    unit="nats",
    description=f"loss on the random first copy at the end, mean over k "
    f"(log(vocab - 1) = {np.log(data.vocab - 1):.3f})",
)

# %% [markdown]
# ## The heads at the end of training
#
# Final scores of every head, with the induction score for each `k` (table). Head
# indices differ between seeds, so the metrics name no head: the top scores (means
# over `k`; for each `k` in `induction_score_max_k<k>`, e.g. `induction_score_max_k4`),
# how many heads score `head_threshold` or more (`induction_heads`,
# `previous_token_heads`), the layers of the top heads (`induction_head_layer1`,
# `previous_token_head_layer0`), and whether the top induction head is the same for
# every `k` (`top_head_changes_with_k`). Also every head's
# attention on one row per `k` (figure `attention-examples`: an induction head attends
# from each token of the repeat to the token after its first occurrence, a stripe
# `k - 1` to the left of the diagonal that moves with `k`; a previous-token head the
# sub-diagonal).


# %%
def position_names(k: int) -> list[str]:
    """What each position of a ``repeat_rows`` row with span ``k`` holds: BOS, filler
    ``f<i>``, the first copy ``x<i>``, the repeat ``x<i>'``."""
    filler = data.seq_len - 1 - 2 * k
    return (
        ["BOS"]
        + [f"f{i}" for i in range(1, filler + 1)]
        + [f"x{i}" for i in range(1, k + 1)]
        + [f"x{i}'" for i in range(1, k + 1)]
    )


n_heads = trained.model.cfg.n_heads
for detector, name in (("induction", "induction"), ("previous_token", "previous-token")):
    record.metric(
        f"{detector}_heads",
        (final[detector] >= head_threshold).sum(),
        unit="heads",
        description=f"heads with a {name} score of {head_threshold} or more at the end (mean over k)",
    )
record.metric(
    "induction_head_layer1",
    float(top_induction >= n_heads),
    unit="seeds",
    description=f"1 if the top induction head is in layer 1 or later ({labels[top_induction]})",
)
record.metric(
    "previous_token_head_layer0",
    float(top_previous < n_heads),
    unit="seeds",
    description=f"1 if the top previous-token head is in layer 0 ({labels[top_previous]})",
)
record.metric(
    "induction_score_max",
    final["induction"].max(),
    description=f"top induction score at the end ({labels[top_induction]}, mean over k)",
)
record.metric(
    "previous_token_score_max",
    final["previous_token"].max(),
    description=f"top previous-token score at the end ({labels[top_previous]}, mean over k)",
)
induction_by_k = {k: series[k]["induction"][-1].flatten().tolist() for k in repeat_lengths}
for k, values in induction_by_k.items():
    best = int(np.argmax(values))
    record.metric(
        f"induction_score_max_k{k}",
        values[best],
        description=f"top induction score at the end on rows with k={k} ({labels[best]})",
    )
top_by_k = {labels[int(np.argmax(values))] for values in induction_by_k.values()}
record.metric(
    "top_head_changes_with_k",
    float(len(top_by_k) > 1),
    unit="seeds",
    description=f"1 if the top induction head is not the same for every k ({', '.join(sorted(top_by_k))})",
)
record.table(
    [
        {
            "head": label,
            "induction": final["induction"][h].item(),
            **{f"induction (k={k})": induction_by_k[k][h] for k in repeat_lengths},
            "previous token": final["previous_token"][h].item(),
        }
        for h, label in enumerate(labels)
    ],
    caption=f"Scores of the heads of {induction_preset} at the end of training (induction and "
    "previous token: means over k)",
)

shown = torch.stack([tokens[0] for tokens in rows.values()])
hover = [[f"{name}={int(t)}" for name, t in zip(position_names(k), row)] for k, row in zip(repeat_lengths, shown)]
fig = attention.example_patterns_figure(
    attention.patterns(trained.model, shown),
    [str(p) for p in range(data.seq_len)],
    hover,
    [f"k={k}" for k in repeat_lengths],
    title="Attention of every head on rows with repeats of k tokens",
)
record.figure(
    fig,
    "attention-examples",
    caption="Every head's attention pattern at the end of training on one "
    "row per span length k; the slider picks the row, hover shows each token",
)

# %% [markdown]
# ## Do the addition models have induction heads?
#
# The addition model never saw repeated spans, so this asks whether any of its heads
# happen to implement the mechanism. It is scored on rows `[0, d_1..d_k, d_1..d_k]` of
# random digits 1-9 with the longest `k` its context allows (`induction.repeat_rows`;
# one filler digit after the 0 where the context length is even) and, for
# previous-token attention, on its own addition problems (table; metrics
# `addition_induction_score_max`, `addition_previous_token_score_max`).

# %%
adder = models.load_or_train(addition_preset, {**addition_overrides, "seed": seed})
context = adder.data.seq_len
digit_repeats = induction.repeat_rows(rng, n_examples, context, (context - 1) // 2, vocab=10)
repeat_scores = induction.scores(adder.model, digit_repeats)
addition_problems = problems.heldout(adder.task, rng, n_examples).tokens
problem_scores = induction.scores(adder.model, addition_problems, detectors=("previous_token",))
adder_labels = components.head_labels(adder.model.cfg.n_layers, adder.model.cfg.n_heads)
record.table(
    [
        {
            "head": label,
            "induction (repeated digits)": i,
            "previous token (repeated digits)": p,
            "previous token (problems)": q,
        }
        for label, i, p, q in zip(
            adder_labels,
            repeat_scores["induction"].flatten().tolist(),
            repeat_scores["previous_token"].flatten().tolist(),
            problem_scores["previous_token"].flatten().tolist(),
        )
    ],
    caption=f"Induction and previous-token scores of the heads of {addition_preset}",
)
best = int(repeat_scores["induction"].flatten().argmax())
record.metric(
    "addition_induction_score_max",
    repeat_scores["induction"].max(),
    description=f"top induction score of {addition_preset} on repeated digits ({adder_labels[best]})",
)
record.metric(
    "addition_no_induction_head",
    float(repeat_scores["induction"].max() < head_threshold),
    unit="seeds",
    description=f"1 if no head of {addition_preset} has an induction score of {head_threshold} on repeated digits",
)
best = int(problem_scores["previous_token"].flatten().argmax())
record.metric(
    "addition_previous_token_score_max",
    problem_scores["previous_token"].max(),
    description=f"top previous-token score of {addition_preset} on addition problems ({adder_labels[best]})",
)

# %% [markdown]
# ## Result
#
# Over the 5 seeds of the `seeds` sweep, each seed training both models (each count
# and number links to the sweep; heads are named by layer and score, since their
# indices differ between seeds):
#
# * **A phase change.** With repeats of varying length, so that no head can find them
#   by position alone, the loss on repeated tokens drops at step
#   {{ metric induction-heads@seeds.phase_change_step_loss }} and the top induction
#   head's score rises at checkpoint step {{ metric induction-heads@seeds.phase_change_step }}
#   ({{ metric induction-heads@seeds.induction_after_loss }} after the loss drop).
#   The top previous-token head's score jumps at
#   {{ metric induction-heads@seeds.phase_change_step_previous_token }}: with or before
#   the induction head's in {{ metric induction-heads@seeds.previous_token_first }}.
# * **The heads at the end.** The top induction score is
#   {{ metric induction-heads@seeds.induction_score_max }}, and
#   {{ metric induction-heads@seeds.induction_heads }} score `head_threshold` = 0.3 or
#   more; the top one is in layer 1 in
#   {{ metric induction-heads@seeds.induction_head_layer1 }}. The top previous-token
#   head ({{ metric induction-heads@seeds.previous_token_score_max }}) is in layer 0 in
#   {{ metric induction-heads@seeds.previous_token_head_layer0 }}; in those seeds the heads
#   have the layout a two-layer induction circuit needs.
# * **Repeats at every distance.** Accuracy on the repeat at the end is
#   {{ metric induction-heads@seeds.repeated_acc_k4 }} for k = 4,
#   {{ metric induction-heads@seeds.repeated_acc_k8 }} for 8,
#   {{ metric induction-heads@seeds.repeated_acc_k12 }} for 12 and
#   {{ metric induction-heads@seeds.repeated_acc_k16 }} for 16; its range over k is
#   {{ metric induction-heads@seeds.repeated_acc_range }}, within 0.05 in
#   {{ metric induction-heads@seeds.repeated_acc_even }}. The top induction head is not
#   the same for every k in {{ metric induction-heads@seeds.top_head_changes_with_k }}:
#   there, different heads lead at different repeat lengths.
# * **The addition models** have no head with an induction score of 0.3 on repeated
#   digits in {{ metric induction-heads@seeds.addition_no_induction_head }} (top
#   {{ metric induction-heads@seeds.addition_induction_score_max }}).
#
# ## Caveats
#
# * In training the repeat always ends the row, and the test keeps that layout: it
#   shows the model finds repeats at every distance `k`, not that it would find one
#   anywhere in a row, where it was never trained to look.
# * The induction score leaves out the queries of the filler and the first copy, where
#   tokens that recur by chance also have induction targets: it says how a head
#   attends where induction is needed, not whether it would on chance repeats.
# * The step of the phase change depends on the learning-rate schedule and the data
#   mix. The score's phase change is located at a checkpoint: checkpoints are spaced
#   unevenly (dense early), so its spread over seeds is partly the spacing of the
#   checkpoints, and "with or before" means at the same or an earlier checkpoint. The
#   loss history, evaluated every `eval_every` steps, locates the drop more finely.
# * A score measures where a head attends, not what it writes: that a top-scoring head
#   also copies is checked by the OV copying scores in [[experiments/circuits]].
# * Repeated random digits are out of distribution for the addition models; a low
#   score there says they lack a general induction mechanism, not that their heads are
#   unused.
