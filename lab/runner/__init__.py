"""Run experiments headless and keep their results: ``make experiment NAME=... PARAMS=...``.

One module per concern, in the order a run meets them:

- ``scripts``: read ``experiments/NAME.py`` (header, checks, parameters cell) without running it;
- ``params``: parse ``k=v`` overrides against the defaults, and call the header's checks;
- ``staleness``: the input hash of a run and where each experiment stands (``status``);
- ``execute``: the fresh kernel and papermill (the only module importing papermill,
  jupytext or nbclient, and the one place relying on their internals);
- ``publish``: assemble the result directory and swap it in; keep a failure;
- ``provenance``: git commit and package versions;
- ``run``: the orchestrator of one run, which builds the run and failure records;
- ``reproduce``: re-run with the committed parameters elsewhere and compare the metrics;
- ``commands``: what ``python -m lab`` calls, the only layer that prints.

Nothing here imports torch, and papermill only once a kernel is needed, so ``list``
and ``status`` stay fast.
"""
