"""lab.wiki.convert: one Markdown instance per build gives every page what the core's
own ``Page.render`` gives it (HTML, table of contents, title, anchors, links to
anchors), under both cores; identical code blocks are highlighted once."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from lab.wiki import convert

REPO = Path(__file__).resolve().parents[1]
CORES = ("properdocs", "mkdocs")
CODE = "```python\ndef carry(a, b):\n    return (a + b) // 10\n```\n"

PAGES = {
    "index.md": (
        "# Home\n\nSee [the other page](other.md#second-part) and [a heading](#notes), [by reference][ref].\n\n"
        "## Notes\n\n## Notes\n\n[ref]: other.md\n"
    ),
    "other.md": (
        "# Other\n\n## First part\n\n" + CODE + "\n## Second part { #second-part }\n\n" + CODE + "\n"
        '```python hl_lines="2"\nx = 1\ny = 2\n```\n\n```python title="carry.py"\nx = 1\n```\n\n'
        '```python linenums="3"\nx = 1\n```\n\n'
        '!!! note "A box"\n\n    With $x^2$ and `code`.\n\n'
        '??? abstract "Code"\n\n    ```python\n    def carry(a, b):\n        return (a + b) // 10\n    ```\n\n'
        '<div id="raw-anchor" markdown>\n\n*inside* [home](index.md)\n\n</div>\n\n'
        "| a | b |\n|---|---|\n| 1 | $$y$$ |\n"
    ),
    # [ref] is index.md's: here it stays text (a Markdown instance reused without reset would link it)
    "third.md": "Text first, no title, [ref].\n\n" + CODE + "\n[Other's box](other.md#first-part){ .lab-metric }\n",
}

# Every page converted by the core and by the converter (fresh pages each), side by side.
SCRIPT = """
import json, sys
core = sys.argv[1]
import importlib
importlib.import_module(core + ".__main__")  # as the core runs: ProperDocs aliases mkdocs to itself
config_mod = importlib.import_module(core + ".config")
files_mod = importlib.import_module(core + ".structure.files")
pages_mod = importlib.import_module(core + ".structure.pages")
from lab.wiki import convert

config = config_mod.load_config("mkdocs.yml")
files = files_mod.get_files(config)
converter = convert.Converter(pages_mod.Page, config.markdown_extensions, config.mdx_configs or {})
out = {"usable": converter.usable, "pages": {}}

def result(page):
    return {
        "content": page.content,
        "toc": repr([(i.title, i.id, i.level, [(c.title, c.id) for c in i.children]) for i in page.toc.items]),
        "title": page._title_from_render,
        "anchors": sorted(page.present_anchor_ids),
        "links": {f.src_uri: a for f, a in (page.links_to_anchors or {}).items()},
    }

for file in files.documentation_pages():
    mine, theirs = pages_mod.Page(None, file, config), pages_mod.Page(None, file, config)
    for page in (mine, theirs):
        page.read_source(config)
    theirs.render(config, files)
    converter.render(mine, config, files)
    out["pages"][file.src_uri] = [result(theirs), result(mine)]
out["highlighted"] = len(converter.highlighted)
print(json.dumps(out))
"""


def docs(tmp_path: Path) -> Path:
    for name, text in PAGES.items():
        (tmp_path / "docs" / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "docs" / name).write_text(text, encoding="utf-8")
    lab = yaml.safe_load((REPO / "mkdocs.yml").read_text())
    config = {"site_name": "t", "docs_dir": "docs", "theme": {"name": "material"}}
    config["markdown_extensions"] = lab["markdown_extensions"]
    (tmp_path / "mkdocs.yml").write_text(yaml.safe_dump(config))
    return tmp_path


@pytest.mark.parametrize("core", CORES)
def test_every_page_converts_as_the_core_converts_it(tmp_path, core):
    root = docs(tmp_path)
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, core],
        cwd=root,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["usable"], f"{core}'s Page.render changed: update convert.RENDERS after checking it"
    assert set(out["pages"]) == set(PAGES)
    for src, (theirs, mine) in out["pages"].items():
        assert mine == theirs, src
    other = out["pages"]["other.md"][0]
    assert other["content"].count('<span class="k">def</span>') == 3  # the fixture does highlight
    assert 'id="raw-anchor"' in other["content"] and "raw-anchor" in other["anchors"]
    assert out["pages"]["index.md"][0]["links"]["other.md"] == {"second-part": "other.md#second-part"}
    assert "no title, [ref]." in out["pages"]["third.md"][0]["content"]
    # the plain block (three pages, and in the box) once, the hl_lines one; title and linenums are not kept
    assert out["highlighted"] == 2


class Counting:
    """A stand-in for superfences' highlight, counting its calls."""

    def __init__(self) -> None:
        self.calls = 0
        self.highlight_ext = type("Ext", (), {"pygments_code_block": 0})()

    def highlight(self, src="", language="", options=None, md=None, **kwargs):  # noqa: ANN001, ANN201
        self.calls += 1
        self.highlight_ext.pygments_code_block += 1
        return f"<pre>{language}:{src}:{sorted((options or {}).items())}</pre>"


def test_a_block_seen_before_is_not_highlighted_again():
    owner, kept = Counting(), {}

    def call(src: str, **options: str) -> str:
        return convert._kept(owner.highlight, owner, kept, src=src, language="python", options=options, classes=[])

    first = call("x = 1")
    assert call("x = 1") == first and owner.calls == 1
    assert owner.highlight_ext.pygments_code_block == 2  # still counted, as the core counts
    assert call("x = 2") != first and owner.calls == 2
    assert call("x = 1", hl_lines="1") != first and owner.calls == 3
    call("x = 1", title="a.py")
    call("x = 1", title="a.py")
    assert owner.calls == 5  # a title may be stashed HTML: never kept


def test_another_render_is_not_stood_in_for():
    from mkdocs.structure.pages import Page

    class Changed(Page):
        def render(self, config, files):  # noqa: ANN001, ANN201
            return super().render(config, files)

    assert convert.Converter(Page, [], {}).usable
    assert not convert.Converter(Changed, [], {}).usable
