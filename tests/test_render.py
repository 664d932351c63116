"""An executed notebook as the experiment's page."""

import nbformat
import yaml

from lab import render
from lab.results import FIGURE_MIMETYPE

# --------------------------------------------------------------------------- the page


def test_clean_text_keeps_the_last_drawing_of_each_line():
    raw = "\x1b[32mgreen\x1b[0m\r\n  0%|  |\r 50%|# |\r100%|##|\nnext\r"
    assert render.clean_text(raw) == "green\n100%|##|\nnext"


def test_shorten_keeps_head_and_tail():
    text = "\n".join(str(i) for i in range(100))
    lines = render.shorten(text, max_lines=10).split("\n")
    assert lines == ["0", "1", "2", "3", "4", "… 90 more lines …", "95", "96", "97", "98", "99"]


def test_page_folds_code_and_keeps_text_tables_and_figure_embeds():
    nb = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_raw_cell("---\ntitle: ignored, the header comes from the script\n---"),
            nbformat.v4.new_markdown_cell("# Write-up\n\nProse."),
            nbformat.v4.new_code_cell("x = 1", metadata={"tags": ["parameters"]}),
            nbformat.v4.new_code_cell(
                "show()",
                outputs=[
                    nbformat.v4.new_output("stream", name="stdout", text="hello\n"),
                    nbformat.v4.new_output(
                        "display_data",
                        data={FIGURE_MIMETYPE: {"id": "loss", "caption": "Loss per digit"}, "text/plain": "[figure]"},
                    ),
                    nbformat.v4.new_output(
                        "display_data", data={"text/markdown": "| a |\n|---|\n| 1 |\n", "text/plain": "<Markdown>"}
                    ),
                    nbformat.v4.new_output(
                        "display_data", data={"text/html": "<script>big()</script>", "text/plain": "<Figure>"}
                    ),
                    nbformat.v4.new_output("execute_result", data={"text/plain": "42"}, execution_count=1),
                ],
            ),
            nbformat.v4.new_code_cell("   "),
        ]
    )
    header = {"title": "Loss", "project": "p", "question": "why?", "links": ["ideas/x"], "jupyter": {"kernelspec": {}}}
    md = render.page(nb, header, "loss-shelf", "20260101T000000Z")
    _, front, body = md.split("---\n", 2)
    assert yaml.safe_load(front) == {
        "title": "Loss",
        "project": "p",
        "question": "why?",
        "links": ["ideas/x"],
        "experiment": "loss-shelf",
        "run_id": "20260101T000000Z",
    }
    assert body == (
        "\n# Write-up\n\nProse.\n\n"
        '??? abstract "Parameters"\n\n    ```python\n    x = 1\n    ```\n\n'
        '??? abstract "Code"\n\n    ```python\n    show()\n    ```\n\n'
        "```text\nhello\n```\n\n"
        "![[experiments/loss-shelf#loss]]\n\n*Loss per digit*\n\n"
        "| a |\n|---|\n| 1 |\n\n"
        "```text\n42\n```\n"
    )


def test_page_title_defaults_to_the_name():
    md = render.page(nbformat.v4.new_notebook(), {}, "demo", "r1")
    assert yaml.safe_load(md.split("---\n")[1]) == {"title": "demo", "experiment": "demo", "run_id": "r1"}


def test_a_loop_of_prints_makes_one_shortened_block():
    """Training prints a progress line every few steps, and the kernel sends each as its
    own stream output: the page shows them as one block, shortened, not one block each."""
    progress = [nbformat.v4.new_output("stream", name="stdout", text=f"step {i}\n") for i in range(100)]
    warning = nbformat.v4.new_output("stream", name="stderr", text="careful\n")
    cell = nbformat.v4.new_code_cell("train()", outputs=[*progress, warning, progress[0]])
    md = render.page(nbformat.v4.new_notebook(cells=[cell]), {}, "demo", "r1")
    blocks = md.split("```text\n")[1:]
    assert len(blocks) == 3  # stdout, stderr, stdout again: runs of one stream join, the order stays
    first = blocks[0].split("\n```")[0].split("\n")
    assert first[0] == "step 0" and first[-1] == "step 99"
    assert len(first) == render.MAX_OUTPUT_LINES + 1 and "… 60 more lines …" in first
    assert [b.split("\n```")[0] for b in blocks[1:]] == ["careful", "step 0"]
    assert [o.text for o in cell.outputs[:2]] == ["step 0\n", "step 1\n"]  # the notebook is left as it was
