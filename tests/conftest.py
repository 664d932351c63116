"""Imported before every test module: the lab first, so that its cap on the CPU
capability (``lab.CPU_CAPABILITY``) is in place before any test runs a torch operation."""

import lab  # noqa: F401
