"""A failed cell as the terminal shows it: the one-line summary first, then the last
frames of the traceback, one line each. The whole traceback stays in the kept failed
notebook (its cell's error output), where Jupyter shows it with the code around each
frame: twenty lines of IPython frames before the summary bury the line that matters.
"""

from __future__ import annotations

import re

FRAMES = 3  # the last frames shown: where it raised, and the two calls that led there
WIDTH = 160  # a frame's header is cut here: library signatures run to hundreds of characters

# IPython's frame headers: "Cell In[2], line 5, in f(x)" and "File ~/x.py:346, in loads(s, ...)"
_HEADER = re.compile(r"^(Cell In\[\d+\], line \d+|File \S+:\d+)(, in .*)?$")
# The line that raised within a frame: "----> 5     return g(x)" or "--> 346     return ..."
_ARROW = re.compile(r"^-*>\s*\d+\s?(.*)$")


def last_frames(traceback: str, n: int = FRAMES) -> list[str]:
    """The last ``n`` frames of an IPython traceback as ``header: code`` lines, led by the
    last frame in the notebook's own cells when those are all library frames."""
    frames: list[list[str]] = []
    for line in traceback.splitlines():
        if _HEADER.match(line.strip()):
            frames.append([line.strip(), ""])
        elif frames and not frames[-1][1] and (arrow := _ARROW.match(line.strip())):
            frames[-1][1] = arrow[1].strip()
    chosen = frames[-n:]
    cells = [frame for frame in frames if frame[0].startswith("Cell In")]
    if cells and cells[-1] not in chosen:  # the experiment's own last call into the library leads
        chosen = [cells[-1], *chosen]
    shown = []
    for header, code in chosen:
        header = header if len(header) <= WIDTH else header[: WIDTH - 1] + "…"
        shown.append(f"{header}: {code}" if code else header)
    return shown


def failure_lines(failure: dict, where: str, traceback: str) -> str:
    """What a failed run or sweep point prints after ``error: … failed``: the place and
    its line, the summary, then the last frames (none when the traceback has no frames,
    as when the kernel died)."""
    lines = [where] + ([f"    {failure['source']}"] if failure["source"] else [])
    lines.append(f"{failure['exception']}: {failure['message']}")
    frames = last_frames(traceback)
    if frames:
        lines.append(f"  last {len(frames)} frame{'s' if len(frames) > 1 else ''} of the traceback (most recent last):")
        lines += [f"    {frame}" for frame in frames]
    return "\n".join(lines)
