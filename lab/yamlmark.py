"""Where a YAML error is: the line to name in ``file:line``, for the experiment header
(``lab.runner.scripts``) and the notes' front matter (``lab.wiki.notes``).

PyYAML reports the point where it gave up, which for the common slips is the line
*after* the mistake: a key without its ``:``, a ``[`` or a quote never closed, is
found only at the next line or the end of the text. Its ``context_mark`` (where the
key, list or string began) is then the line the user has to fix.
"""

from __future__ import annotations

import yaml


def error_line(err: yaml.YAMLError) -> int | None:
    """The 0-based line of the YAML text to blame for ``err``, or None if it has no mark."""
    problem = getattr(err, "problem_mark", None)
    context = getattr(err, "context_mark", None)
    if problem is None:
        return context.line if context else None
    # PyYAML gave up at a later line than the one that opened the construct (the
    # start of the next line, or the end of the text): the opening line is the slip.
    if context is not None and context.line < problem.line:
        return context.line
    return problem.line


def describe(err: yaml.YAMLError) -> str:
    """What is wrong, in PyYAML's words, with what it was reading when it gave up."""
    problem = getattr(err, "problem", None) or str(err).splitlines()[0]
    context = getattr(err, "context", None)
    return f"{problem} ({context})" if context else problem
