# The lab's user interface. Every target that needs Python creates .venv on first
# use (pip, pinned by pyproject.toml + constraints.txt); later runs install nothing.

PYTHON_SYSTEM ?= python3.11
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
LAB    := $(PY) -m lab

# No network at run time: models are built natively, never fetched from a hub.
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export NO_MKDOCS_2_WARNING := 1
export PYTHONDONTWRITEBYTECODE := 1

# Recipes that run Python start it with `exec`: the recipe's shell then *is* the
# program, so a SIGTERM to make (a timeout, `kill`) reaches it, which stops what it
# started (a kernel, a sweep's points) before make exits. A shell in between would
# die and leave the program running.

NAME   ?=
# Read by the recipe from the environment ("$$PARAMS"), so the quotes a user types
# inside PARAMS="..." reach the runner intact.
PARAMS ?=
export PARAMS
# GRID, like PARAMS, is read from the environment by the recipe ("$$GRID").
GRID   ?=
export GRID
SWEEP  ?=   # a sweep declared in the script's header; with GRID, the name of that ad-hoc sweep
CONFIRM ?=  # CONFIRM=1: run a grid past the points a sweep runs unconfirmed
JOBS   ?=
ENGINE ?= pool
TITLE  ?=
WHY    ?=  # make archive: why the results are kept as a record (read from the environment, like PARAMS)
export WHY
KIND   ?= journal
PRESET ?= add2

.PHONY: help experiment experiments refresh costs sweep status reproduce archive check-inputs new-experiment train wiki serve test test-browser bench clean notebook \
        new-idea new-insight new-note

help:
	@echo "make experiment NAME=loss-shelf [PARAMS=\"digit=A1 seed=1\"]   run one experiment"
	@echo "make experiments [NAME=...]      run every stale or never-run experiment (or only NAME); ALLOW_DIRTY=1 publishes uncommitted code"
	@echo "make sweep NAME=... GRID=\"seed=0,1,2 lr=1e-3,3e-3\" [SWEEP=name] | SWEEP=seeds [JOBS=2] [ENGINE=pool|ray] [CONFIRM=1]  run a grid"
	@echo "make refresh [PLAN=1]            run everything stale (experiments, then declared sweeps) with a plan and an ETA; resumable"
	@echo "make costs                       seconds per phase (kernel, training, evaluation, analysis, page) and a full refresh's estimate"
	@echo "make status                      fresh / stale / failed / never run, per experiment and sweep"
	@echo "make reproduce [NAME=...] [CACHED=1]  re-run from scratch, compare every metric with run.json"
	@echo "make reproduce NAME=... SWEEP=... [POINT=...]  an archived sweep's points, at their commit"
	@echo "make archive NAME=... [SWEEP=...] WHY=\"...\" [UNDO=1]  keep results as a record of their commit"
	@echo "make check-inputs NAME=... [SWEEP=...]  runs made from uncommitted changes: are their inputs a commit's?"
	@echo "make new-experiment NAME=...     scaffold experiments/NAME.py"
	@echo "make notebook NAME=... [PORT=8888]  open it in JupyterLab, the .venv as kernel (installs JupyterLab once)"
	@echo "make train PRESET=add2 [PARAMS=\"steps=2000\"]  train (or load) a model preset"
	@echo "make wiki | make serve           strict build into build/site | live server on 127.0.0.1:8000"
	@echo "make new-idea|new-insight TITLE=\"...\" [PROJECT=...]   make new-note [KIND=journal|project] TITLE=\"...\""
	@echo "make test | make test-browser | make bench | make clean"

# pip shows its progress: the first install downloads torch and takes minutes.
$(STAMP): pyproject.toml constraints.txt
	test -x $(PY) || $(PYTHON_SYSTEM) -m venv $(VENV)
	$(PY) -m pip install --disable-pip-version-check --progress-bar on -c constraints.txt -e '.[dev]'
	touch $(STAMP)

# JupyterLab is the optional `notebook` extra, installed by the first `make notebook`
# (make test never needs it). The override opens a jupytext script as a notebook.
NOTEBOOK_STAMP := $(VENV)/.notebook-installed
LAB_SETTINGS   := $(VENV)/share/jupyter/lab/settings
$(NOTEBOOK_STAMP): $(STAMP)
	$(PY) -m pip install --disable-pip-version-check --progress-bar on -c constraints.txt -e '.[dev,notebook]'
	mkdir -p $(LAB_SETTINGS)
	echo '{"@jupyterlab/docmanager-extension:plugin": {"defaultViewers": {"python": "Jupytext Notebook"}}}' \
	  > $(LAB_SETTINGS)/overrides.json
	touch $(NOTEBOOK_STAMP)

notebook: $(NOTEBOOK_STAMP)
	@test -n "$(NAME)" || { echo "usage: make notebook NAME=<name> [PORT=8888]"; exit 2; }
	exec $(LAB) notebook $(NAME) $(if $(PORT),--port $(PORT))

experiment: $(STAMP)
	@test -n "$(NAME)" || { echo "usage: make experiment NAME=<name> [PARAMS=\"k=v ...\"]"; $(LAB) list; exit 2; }
	exec $(LAB) run $(NAME) --params "$$PARAMS"

experiments: $(STAMP)
	exec $(LAB) run-stale $(NAME)

sweep: $(STAMP)
	@test -n "$(NAME)" || { echo "usage: make sweep NAME=<name> GRID=\"k=v1,v2 ...\" [SWEEP=<name>] | SWEEP=<declared> [JOBS=2] [ENGINE=pool|ray] [CONFIRM=1]"; exit 2; }
	exec $(LAB) sweep $(NAME) --grid "$$GRID" $(if $(SWEEP),$(if $(GRID),--name,--sweep) $(SWEEP)) \
	  $(if $(JOBS),--jobs $(JOBS)) --engine $(ENGINE) $(if $(CONFIRM),--yes)

refresh: $(STAMP)
	exec $(LAB) refresh $(if $(PLAN),--plan)

costs: $(STAMP)
	exec $(LAB) costs

status: $(STAMP)
	exec $(LAB) status

reproduce: $(STAMP)
	exec $(LAB) reproduce $(NAME) $(if $(CACHED),--cached) $(if $(SWEEP),--sweep $(SWEEP)) $(if $(POINT),--point $(POINT))

check-inputs: $(STAMP)
	@test -n "$(NAME)" || { echo "usage: make check-inputs NAME=<name> [SWEEP=<sweep>]"; exit 2; }
	exec $(LAB) check-inputs $(NAME) $(if $(SWEEP),--sweep $(SWEEP))

archive: $(STAMP)
	@test -n "$(NAME)" || { echo "usage: make archive NAME=<name> [SWEEP=<sweep>] WHY=\"...\" [UNDO=1]"; exit 2; }
	exec $(LAB) archive $(NAME) $(if $(SWEEP),--sweep $(SWEEP)) --why "$$WHY" $(if $(UNDO),--undo)

new-experiment: $(STAMP)
	@test -n "$(NAME)" || { echo "usage: make new-experiment NAME=<name>"; exit 2; }
	$(LAB) new-experiment $(NAME)

train: $(STAMP)
	exec $(LAB) train $(PRESET) $(PARAMS)

# A strict build into a temporary folder, swapped in only when it succeeds: a failed
# build keeps the last good build/site (lab/wiki/build.py runs the core in-process).
wiki: $(STAMP)
	exec $(PY) -m lab.wiki.build --core $(or $(CORE),properdocs) --site-dir build/site --config-file mkdocs.yml

serve: $(STAMP)
	exec $(VENV)/bin/$(or $(CORE),properdocs) serve --dirty --dev-addr 127.0.0.1:8000 --config-file mkdocs.yml

new-idea new-insight: $(STAMP)
	@test -n "$(TITLE)" || { echo "usage: make $@ TITLE=\"...\""; exit 2; }
	$(LAB) new-note $(subst new-,,$@) "$(TITLE)" $(if $(PROJECT),--project "$(PROJECT)")

new-note: $(STAMP)
	@test -n "$(TITLE)" || { echo "usage: make new-note [KIND=journal|project|insight|idea] TITLE=\"...\""; exit 2; }
	$(LAB) new-note $(KIND) "$(TITLE)" $(if $(PROJECT),--project "$(PROJECT)")

test: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	exec $(PY) -m pytest

test-browser: $(STAMP)
	exec $(PY) -m pytest -m browser tests/browser

# One target per bench, so that each runs under `exec` (a shell loop would not pass
# a SIGTERM on); make runs them in order and stops at the first that fails.
BENCHES := $(sort $(wildcard bench/bench_*.py))
bench: $(BENCHES:%=%.run)

.PHONY: $(BENCHES:%=%.run)
$(BENCHES:%=%.run): $(STAMP)
	@echo "== $(basename $@)"
	@exec $(PY) $(basename $@)

clean:
	rm -rf build .cache .pytest_cache
	find . -name __pycache__ -prune -exec rm -rf {} +
