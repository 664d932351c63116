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

NAME   ?=
# Read by the recipe from the environment ("$$PARAMS"), so the quotes a user types
# inside PARAMS="..." reach the runner intact.
PARAMS ?=
export PARAMS
# GRID, like PARAMS, is read from the environment by the recipe ("$$GRID").
GRID   ?=
export GRID
SWEEP  ?=
JOBS   ?=
ENGINE ?= pool
TITLE  ?=
KIND   ?= journal
PRESET ?= add2

.PHONY: help experiment experiments sweep status reproduce new-experiment train wiki serve test test-browser bench clean \
        new-idea new-insight new-note

help:
	@echo "make experiment NAME=loss-shelf [PARAMS=\"digit=A1 seed=1\"]   run one experiment"
	@echo "make experiments                 run every stale or never-run experiment"
	@echo "make sweep NAME=... GRID=\"seed=0,1,2 lr=1e-3,3e-3\" | SWEEP=seeds [JOBS=2] [ENGINE=pool|ray]  run a grid"
	@echo "make status                      fresh / stale / failed / never run, per experiment and sweep"
	@echo "make reproduce [NAME=...] [CACHED=1]  re-run from scratch, compare every metric with run.json"
	@echo "make new-experiment NAME=...     scaffold experiments/NAME.py"
	@echo "make train PRESET=add2 [PARAMS=\"steps=2000\"]  train (or load) a model preset"
	@echo "make wiki | make serve           strict build into build/site | live server on 127.0.0.1:8000"
	@echo "make new-idea|new-insight TITLE=\"...\"   make new-note [KIND=journal|project] TITLE=\"...\""
	@echo "make test | make test-browser | make bench | make clean"

$(STAMP): pyproject.toml constraints.txt
	test -x $(PY) || $(PYTHON_SYSTEM) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[dev]'
	touch $(STAMP)

experiment: $(STAMP)
	@test -n "$(NAME)" || { echo "usage: make experiment NAME=<name> [PARAMS=\"k=v ...\"]"; $(LAB) list; exit 2; }
	$(LAB) run $(NAME) --params "$$PARAMS"

experiments: $(STAMP)
	$(LAB) run-stale

sweep: $(STAMP)
	@test -n "$(NAME)" || { echo "usage: make sweep NAME=<name> GRID=\"k=v1,v2 ...\" | SWEEP=<declared> [JOBS=2] [ENGINE=pool|ray]"; exit 2; }
	$(LAB) sweep $(NAME) --grid "$$GRID" $(if $(SWEEP),--sweep $(SWEEP)) $(if $(JOBS),--jobs $(JOBS)) --engine $(ENGINE)

status: $(STAMP)
	$(LAB) status

reproduce: $(STAMP)
	$(LAB) reproduce $(NAME) $(if $(CACHED),--cached)

new-experiment: $(STAMP)
	@test -n "$(NAME)" || { echo "usage: make new-experiment NAME=<name>"; exit 2; }
	$(LAB) new-experiment $(NAME)

train: $(STAMP)
	$(LAB) train $(PRESET) $(PARAMS)

wiki: $(STAMP)
	$(VENV)/bin/$(or $(CORE),properdocs) build --strict --clean --config-file mkdocs.yml

serve: $(STAMP)
	$(VENV)/bin/$(or $(CORE),properdocs) serve --dev-addr 127.0.0.1:8000 --config-file mkdocs.yml

new-idea new-insight: $(STAMP)
	@test -n "$(TITLE)" || { echo "usage: make $@ TITLE=\"...\""; exit 2; }
	$(LAB) new-note $(subst new-,,$@) "$(TITLE)"

new-note: $(STAMP)
	@test -n "$(TITLE)" || { echo "usage: make new-note [KIND=journal|project|insight|idea] TITLE=\"...\""; exit 2; }
	$(LAB) new-note $(KIND) "$(TITLE)"

test: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(PY) -m pytest

test-browser: $(STAMP)
	$(PY) -m pytest -m browser tests/browser

bench: $(STAMP)
	@for b in bench/bench_*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

clean:
	rm -rf build .cache .pytest_cache
	find . -name __pycache__ -prune -exec rm -rf {} +
