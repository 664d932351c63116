# ---
# title: Circuits
# project: n-digit-addition
# question: What do the OV and QK circuits of our 2-layer models do, and which heads compose?
# links: [ideas/mathematical-framework-exercises]
# checks: ["model(addition_preset, addition_overrides)", "model(induction_preset, induction_overrides)"]
# sweeps: {seeds: {seed: [0, 1, 2, 3, 4]}}
# ---

# %% [markdown]
# # Circuits
#
# **Question.** "A Mathematical Framework for Transformer Circuits" (Elhage et al.,
# 2021) reads a head as two low-rank maps: the QK circuit `W_Q W_K^T` decides where it
# attends, the OV circuit `W_V W_O` what it writes. Heads in different layers compose
# when one's output feeds another's query (Q), key (K) or value (V). What do these
# circuits look like in the 2-layer addition model, and in the attention-only model
# trained on repeated spans, where the framework predicts copying OV circuits and
# K-composition from a previous-token head into an induction head?
#
# **Method.** TransformerLens does the linear algebra: `model.OV` and `model.QK` are
# `FactoredMatrix`es, multiplied through `W_E`, `W_pos` and `W_U` without forming the
# products (`lab.analysis.circuits.full_ov_circuit`, `full_qk_circuit`,
# `positional_qk_circuit`); `FactoredMatrix.eigenvalues` gives the copying score
# `Re(Σλ) / Σ|λ|` of each full OV circuit (1: the head raises the logit of the token it
# attends to); `model.all_composition_scores(mode)` gives Q-, K- and V-composition. All
# of it on a copy of each model with LayerNorm folded into the weights
# (`enable_compatibility_mode`), compared with the composition score of random matrices
# of the same shapes.

# %% tags=["parameters"]
seed = 0  # seed of training both models (initialization, data order) and of the baseline's random matrices
addition_preset = "add2"  # the 2-layer addition model
addition_overrides = {}  # e.g. {"n_digits": 3, "steps": 600} for a quick run
induction_preset = "attn2"  # the attention-only model trained on repeated spans
induction_overrides = {}
top_pairs = 4  # strongest head pairs listed per composition mode
copying_threshold = 0.5  # copying score above which a head counts as copying

# %%
import plotly.graph_objects as go
import torch
from plotly.subplots import make_subplots

from lab import components, figures, models, record
from lab.analysis import attention, circuits
from lab.task import TOKEN_NAMES

subjects = {
    "addition": models.load_or_train(addition_preset, {**addition_overrides, "seed": seed}),
    "induction": models.load_or_train(induction_preset, {**induction_overrides, "seed": seed}),
}
folded = {role: circuits.folded(trained.model) for role, trained in subjects.items()}
token_names = {"addition": TOKEN_NAMES, "induction": [str(t) for t in range(subjects["induction"].data.d_vocab)]}
position_names = {
    "addition": attention.sequence_labels(subjects["addition"].task),
    "induction": [str(p) for p in range(subjects["induction"].data.seq_len)],
}


def labels(model) -> list[str]:
    return components.head_labels(model.cfg.n_layers, model.cfg.n_heads)


# %% [markdown]
# ## OV circuits: what each head writes
#
# The full OV circuit `W_E W_V W_O W_U` says how a head changes the logits when it
# attends to a token (figures `full-ov-addition`, `full-ov-induction`; rows: the token
# attended to, columns: the logit). A diagonal is copying; the copying score condenses
# it (figure `copying-scores`; metrics `addition_copying_max`, `induction_copying_max`).
# For layer-1 heads this is only the part of their input that is the token embedding.

# %%
copying = {}
for role, model in folded.items():
    ov = circuits.full_ov_circuit(model)
    copying[role] = circuits.copying_score(ov).flatten()
    best = int(copying[role].argmax())
    record.metric(
        f"{role}_copying_max",
        copying[role][best],
        description=f"top eigenvalue copying score of a head of the {role} model ({labels(model)[best]})",
    )
    record.metric(
        f"{role}_copying_heads",
        (copying[role] > copying_threshold).sum(),
        unit="heads",
        description=f"heads of the {role} model with a copying score above {copying_threshold}",
    )
    record.metric(
        f"{role}_has_copying_head",
        float(copying[role][best] > copying_threshold),
        unit="seeds",
        description=f"1 if a head of the {role} model has a copying score above {copying_threshold}",
    )
    fig = attention.head_grid(
        ov.AB,
        token_names[role],
        token_names[role],
        diverging=True,
        title=f"Full OV circuit of every head ({role} model)",
        axis_names=("attended token", "logit of"),
    )
    record.figure(
        fig,
        f"full-ov-{role}",
        caption=f"W_E W_V W_O W_U per head of the {role} model "
        "(LayerNorm folded): rows the attended token, columns the logit it changes",
    )

# The two models may have different heads: one axis over all of them, a gap where a model has none.
heads = sorted(
    {components.parse(head) for model in folded.values() for head in labels(model)},
    key=lambda head: (head.layer, head.head),
)
by_head = {role: dict(zip(labels(folded[role]), copying[role].tolist())) for role in folded}
fig = figures.bars(
    [str(head) for head in heads],
    {f"{role} model": [by_head[role].get(str(head), float("nan")) for head in heads] for role in folded},
    title="Eigenvalue copying score of every head",
    ylabel="copying score Re(Σλ)/Σ|λ|",
    yrange=(-1, 1),
)
record.figure(fig, "copying-scores", caption="Copying score of each head's full OV circuit; 1 = pure copying")

# %% [markdown]
# ## QK circuits: where each head attends
#
# For layer-0 heads, whose input is just token plus position embedding, the positional
# QK circuit `W_pos W_Q W_K^T W_pos^T` shows attention that depends on positions only
# (figures `positional-qk-addition`, `positional-qk-induction`; keys after the query are
# masked). A previous-token head is a sub-diagonal; a lookup at a fixed offset a
# diagonal further down; in the addition model, the answer positions reading fixed
# digit positions make the staircase of [[experiments/attention-patterns]]. The
# token-token circuit of the induction model is in `token-qk-induction`.

# %%
for role, model in folded.items():
    qk = circuits.positional_qk_circuit(model).AB
    causal = torch.ones(qk.shape[-2:], dtype=torch.bool).tril()
    qk = qk.masked_fill(~causal, float("nan"))
    fig = attention.head_grid(
        qk,
        position_names[role],
        position_names[role],
        diverging=True,
        title=f"Positional QK circuit of every head ({role} model)",
    )
    record.figure(
        fig,
        f"positional-qk-{role}",
        caption=f"W_pos W_Q W_K^T W_pos^T per head of the {role} "
        "model (LayerNorm folded): the attention score from position alone; exact for layer 0",
    )

qk = circuits.full_qk_circuit(folded["induction"]).AB
record.figure(
    attention.head_grid(
        qk,
        token_names["induction"],
        token_names["induction"],
        diverging=True,
        title="Token QK circuit of every head (induction model)",
    ),
    "token-qk-induction",
    caption="W_E W_Q W_K^T W_E^T per head: the attention score from the query and key tokens alone",
)

# %% [markdown]
# ## Composition between layers
#
# How much each layer-0 head's output is read by each layer-1 head's query, key or
# value (figures `composition-addition`, `composition-induction`; the table lists the
# strongest pairs; metrics `<role>_<q|k|v>_composition_max` and `composition_baseline_<role>`,
# the mean score of random matrices of the same shapes).

# %%
rows = []
for role, model in folded.items():
    baseline = circuits.composition_baseline(model.cfg.d_model, model.cfg.d_head, seed=seed)
    record.metric(
        f"composition_baseline_{role}",
        baseline,
        description=f"mean composition score of random matrices of the {role} model's shapes",
    )
    scores = {mode: circuits.composition_scores(model, mode) for mode in circuits.MODES}
    n_heads = model.cfg.n_heads
    fig = make_subplots(rows=1, cols=3, subplot_titles=[f"{mode}-composition" for mode in circuits.MODES])
    bound = max(float(s.max()) for s in scores.values())
    for col, (mode, score) in enumerate(scores.items(), start=1):
        block = score[:-1, :, 1:, :].flatten(0, 1).flatten(1)  # writers in layers < L-1, readers after
        fig.add_trace(
            go.Heatmap(
                z=block.numpy(),
                x=labels(model)[n_heads:],
                y=labels(model)[:-n_heads],
                colorscale=figures.SEQUENTIAL,
                zmin=0,
                zmax=bound,
                showscale=col == 1,
                hovertemplate="writer %{y}<br>reader %{x}<br>%{z:.3f}<extra></extra>",
            ),
            row=1,
            col=col,
        )
        best = float(score.max())
        record.metric(
            f"{role}_{mode.lower()}_composition_max",
            best,
            description=f"strongest {mode}-composition in the {role} model "
            f"({best / baseline:.1f}× the random baseline)",
        )
        record.metric(
            f"{role}_{mode.lower()}_composition_ratio",
            best / baseline,
            description=f"strongest {mode}-composition in the {role} model over the random baseline",
        )
    fig.update_yaxes(autorange="reversed", title="writer")
    fig.update_xaxes(title="reader")
    record.figure(
        figures.style(fig, f"Composition scores ({role} model; random baseline {baseline:.3f})"),
        f"composition-{role}",
        caption=f"Q-, K- and V-composition of every earlier head into every "
        f"later one in the {role} model; random matrices score {baseline:.3f} on average",
    )
    strongest = {mode: float(score.max()) for mode, score in scores.items()}
    record.metric(
        f"{role}_k_strongest",
        float(strongest["K"] > max(strongest["Q"], strongest["V"])),
        unit="seeds",
        description=f"1 if the {role} model's strongest composition of all three modes is K-composition",
    )
    reader = int(scores["K"].flatten(2).amax(0).amax(0).argmax())  # reader of the strongest K-composition
    record.metric(
        f"{role}_k_reader_copies",
        float(copying[role][reader] > copying_threshold),
        unit="seeds",
        description=f"1 if the reader of the {role} model's strongest K-composition "
        f"({labels(model)[reader]}) copies (score above {copying_threshold})",
    )
    rows += [
        {"model": role, **row, "× baseline": row["score"] / baseline}
        for row in circuits.top_compositions(scores, top_pairs)
    ]
record.table(rows, caption="Strongest composing head pairs per mode")

# %% [markdown]
# ## Result
#
# Over the 5 seeds of the `seeds` sweep, each seed training both models (each count
# and number links to the sweep; heads are named by what they do, since their indices
# differ between seeds):
#
# * **The induction model, against the framework's prediction** (a copying head that
#   reads, through K-composition, what a layer-0 head wrote). A head
#   with a copying score above `copying_threshold` = 0.5 exists in
#   {{ metric circuits@seeds.induction_has_copying_head }} (best
#   {{ metric circuits@seeds.induction_copying_max }};
#   {{ metric circuits@seeds.induction_copying_heads }} above 0.5). K-composition is the
#   strongest of the three modes in {{ metric circuits@seeds.induction_k_strongest }}
#   ({{ metric circuits@seeds.induction_k_composition_ratio }} times the random
#   baseline, against {{ metric circuits@seeds.induction_v_composition_ratio }} for V
#   and {{ metric circuits@seeds.induction_q_composition_ratio }} for Q), and the head
#   reading the strongest K-composition is a copying head in
#   {{ metric circuits@seeds.induction_k_reader_copies }}.
# * **Copying in the addition model.** A head with a copying score above 0.5 exists in
#   {{ metric circuits@seeds.addition_has_copying_head }} (best
#   {{ metric circuits@seeds.addition_copying_max }}); where none does, no head's OV
#   circuit mainly raises the logit of the digit it attends to.
# * **Composition in the addition model.** The strongest Q-, K- and
#   V-composition of the addition model are
#   {{ metric circuits@seeds.addition_q_composition_ratio }},
#   {{ metric circuits@seeds.addition_k_composition_ratio }} and
#   {{ metric circuits@seeds.addition_v_composition_ratio }} times the random baseline
#   ({{ metric circuits@seeds.composition_baseline_addition }}); K is the strongest in
#   {{ metric circuits@seeds.addition_k_strongest }}.
#
# ## Caveats
#
# * Circuits leave out LayerNorm's division by the residual norm and all biases; with
#   LayerNorm folded they are right up to one scale per position.
# * Composition scores see only the direct path between heads: in the addition model
#   most of layer 1's input may arrive through MLP 0, which they ignore.
# * A high score says a path could carry information, not that it does: ablations and
#   attribution ([[experiments/ablations]]) test the path on data.
