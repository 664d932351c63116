""" "Did you mean …?" for a mistyped name: experiments, parameters, metrics, sweeps, presets.

One place for the wording, so every message that refuses a name offers the closest
ones the same way (difflib's ratio, the standard library's: no dependency). Kept out
of the research wing: no experiment's kernel imports it.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

CUTOFF = 0.6  # difflib's default: 'digit-ac' finds 'digit-acc', 'zzz' finds nothing


def close(word: str, choices: Iterable[str], n: int = 3) -> list[str]:
    """The ``n`` choices closest to ``word``, best first (case ignored), or none."""
    choices = list(choices)
    by_lower = {c.lower(): c for c in choices}
    return [by_lower[m] for m in difflib.get_close_matches(word.lower(), list(by_lower), n=n, cutoff=CUTOFF)]


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """``" (did you mean 'x'?)"`` (or ``'x' or 'y'``) to follow the refused name, or
    ``""``: a message without a close name reads as it did."""
    found = close(word, choices)
    return f" (did you mean {' or '.join(repr(c) for c in found)}?)" if found else ""


def listing(choices: Iterable[str], limit: int = 12) -> str:
    """The choices as a comma list, cut at ``limit`` with a count of the rest: a list of
    40 metrics after a typo helps less than the closest three and a hint of the others."""
    choices = list(choices)
    if not choices:
        return "none"
    shown = ", ".join(choices[:limit])
    return shown + (f", … ({len(choices) - limit} more)" if len(choices) > limit else "")
