"""What the runner relies on in papermill and IPython beyond their documented interfaces,
one test per piece (``lab.runner.execute``, its last section): an upgrade that changes
one of them fails here, instead of silently degrading the failure report.

The two pieces read from a notebook papermill executed (``metadata.papermill``'s
``start_time`` and ``duration``) are checked on real runs in test_runner_runs.py.
"""

import subprocess
import sys
import textwrap

import nbformat

from lab import render
from lab.runner import execute


def ipython_traceback(*cells: str) -> str:
    """The traceback IPython shows when the last of ``cells`` raises, as a kernel sends it."""
    code = textwrap.dedent(f"""
        from IPython.core.interactiveshell import InteractiveShell
        shell = InteractiveShell.instance()
        shown = []
        shell._showtraceback = lambda etype, evalue, stb: shown.append("\\n".join(stb))
        for cell in {list(cells)!r}:
            shell.run_cell(cell, store_history=True)
        print(shown[-1])
    """)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return render.clean_text(done.stdout)


def test_failing_line_is_read_from_ipythons_cell_frame():
    traceback = ipython_traceback("x = 1\ny = 2\nraise ValueError('boom')\n")
    assert execute.failing_line(traceback) == 3


def test_failing_line_is_the_failing_cells_not_the_called_functions():
    traceback = ipython_traceback("def f():\n    return 1 / 0\n", "a = 1\nf()\n")
    assert "Cell In[1]" in traceback  # the function's frame is there too, but later
    assert execute.failing_line(traceback) == 2


def test_failing_line_is_none_without_a_cell_frame():
    assert execute.failing_line("DeadKernelError: Kernel died") is None


def test_error_report_reads_papermills_execution_error():
    papermill = execute.import_papermill()
    err = papermill.PapermillExecutionError(
        cell_index=3,
        exec_count=3,
        source="raise ValueError('boom')",
        ename="ValueError",
        evalue="boom",
        traceback=["\x1b[31mValueError\x1b[39m  Traceback", "Cell In[3], line 1"],
    )
    assert execute.error_report(err) == ("ValueError", "boom", "ValueError  Traceback\nCell In[3], line 1")


def test_error_report_of_a_dead_kernel():
    from nbclient.exceptions import DeadKernelError

    assert execute.error_report(DeadKernelError("Kernel died")) == ("DeadKernelError", "Kernel died", "Kernel died")


def test_papermill_imports_without_loading_pyarrow():
    code = (
        "import sys; from lab.runner import execute; pm = execute.import_papermill(); "
        "print('pyarrow' in sys.modules, callable(pm.execute_notebook))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "False True\n"  # the stub is gone, and papermill works without HDFS


def test_last_started_cell_and_durations_read_papermills_metadata():
    meta = [
        {"papermill": {"start_time": "t0", "duration": 0.5}},
        {"papermill": {"start_time": "t1", "duration": None}},
        {"papermill": {"start_time": None, "duration": None}},
    ]
    nb = nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_markdown_cell("# x")]
        + [nbformat.v4.new_code_cell(f"x = {i}", metadata=m) for i, m in enumerate(meta)]
    )
    nb = nbformat.from_dict(nb)
    assert execute.last_started_cell(nb) == 2
    assert execute.cell_durations(nb) == [
        {"index": 1, "duration_s": 0.5},
        {"index": 2, "duration_s": None},
        {"index": 3, "duration_s": None},
    ]


def test_a_failure_shows_the_summary_and_the_last_frames_not_the_whole_traceback():
    from lab.runner import report

    traceback = ipython_traceback(
        "import json\ndef f(x):\n    return g(x)\ndef g(x):\n    return json.loads(x)\n", "a = 1\nf('{')\n"
    )
    failure = {"source": "f('{')", "exception": "JSONDecodeError", "message": "Expecting value", "notebook": "x"}
    shown = report.failure_lines(failure, "experiments/x.py:9", traceback).splitlines()
    assert shown[:3] == ["experiments/x.py:9", "    f('{')", "JSONDecodeError: Expecting value"]
    assert shown[3] == "  last 4 frames of the traceback (most recent last):"
    frames = shown[4:]
    # the cells' last frame (the call into json), then json's own three down to where it raised
    assert frames[0] == "    Cell In[1], line 5, in g(x): return json.loads(x)"
    assert "json/__init__.py:346, in loads(" in frames[1] and frames[1].endswith(": return _default_decoder.decode(s)")
    assert frames[3].endswith(": obj, end = self.scan_once(s, idx)")
    assert len(shown) == 8  # not the 30-odd lines of the traceback
    assert len(traceback.splitlines()) > 25
