# ---
# title: EXPERIMENT_TITLE
# project: n-digit-addition
# question: What does this experiment ask, in one line?
# links: []
# checks: []
# ---

# %% [markdown]
# # EXPERIMENT_TITLE
#
# **Question.** What this experiment asks, and why it matters.
#
# **Method.** How it answers: the model, the data, what is measured. Name what
# TransformerLens does and what the lab adds.
#
# Run it with `make experiment NAME=EXPERIMENT_NAME PARAMS="n_points=500 seed=1"`.
# Parameters the lab can check before a kernel starts go in the header's `checks`,
# e.g. `checks: ["model(preset, overrides)", "carry_digit(digit, preset, overrides)"]`
# (`lab.checks`).

# %% tags=["parameters"]
seed = 0  # random seed
n_points = 200  # how many samples to draw

# %%
import numpy as np
import plotly.graph_objects as go

from lab import record

rng = np.random.default_rng(seed)
x = rng.normal(size=n_points)
y = 2.0 * x + rng.normal(scale=0.5, size=n_points)

# %% [markdown]
# ## A first result
#
# Each metric gets a stable name, each figure a stable id: pages and notes cite them.

# %%
fig = go.Figure(go.Scatter(x=x, y=y, mode="markers"))
fig.update_layout(xaxis_title="x", yaxis_title="y")
record.figure(fig, "scatter", caption="y against x")

slope = np.polyfit(x, y, 1)[0]
record.metric("slope", slope, description="least-squares slope of y on x")

# %% [markdown]
# ## Result
#
# The finding in sentences, citing the numbers: the slope is
# {{ metric EXPERIMENT_NAME.slope }}. Notes embed figures with
# `![[experiments/EXPERIMENT_NAME#scatter]]`.
#
# ## Caveats
#
# What the result does not show, and what could change it.
