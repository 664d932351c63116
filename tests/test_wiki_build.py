"""The wiki built end to end by `mkdocs build`, as `make wiki` does, on the fixture wiki."""

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from wiki_fixture import VAULT, add_sweep, make_vault_wiki, make_wiki

from lab import LabError, results
from lab.wiki import vault
from lab.wiki.pages import SECTIONS

# `mkdocs build …`, then a check that building imported neither torch nor TransformerLens.
MKDOCS = """
import runpy, sys
try:
    runpy.run_module("mkdocs", run_name="__main__")
finally:
    heavy = sorted({"torch", "transformer_lens"} & set(sys.modules))
    if heavy:
        print(f"building the wiki imported {heavy}", file=sys.stderr)
        sys.exit(99)
"""
ENV = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}


def mkdocs(root: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", MKDOCS, "build", *args], cwd=root, env=ENV, capture_output=True, text=True, timeout=120
    )


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("wiki")
    make_wiki(root)
    result = mkdocs(root, "--strict")
    assert result.returncode == 0, result.stderr
    return root / "build" / "site"


def test_the_plugin_imports_the_run_judgement_only_to_judge_results():
    # lab.runner.staleness (and the archive and fingerprints it reads) is imported by
    # lab.wiki.freshness.gather when there are results to judge: a vault has none.
    code = "import sys, lab.wiki.plugin; print([m for m in ('lab.runner.staleness', 'lab.fingerprint') if m in sys.modules])"
    imported = subprocess.run([sys.executable, "-c", code], env=ENV, capture_output=True, text=True, check=True)
    assert imported.stdout.strip() == "[]"


def test_strict_build_makes_every_page(built):
    for page in (
        "index.html",
        "ideas/index.html",
        "insights/index.html",
        "projects/index.html",
        "journal/index.html",
        "experiments/index.html",
        "experiments/loss-shelf/index.html",
        "insights/carry-heads/index.html",
    ):
        assert (built / page).exists(), page
    assert (built / "experiments/loss-shelf/figures/loss-curve.json").exists()


def test_one_local_plotly_and_no_cdn(built):
    assert [p.name for p in built.rglob("plotly*.js")] == ["plotly.min.js"]
    for page in built.rglob("*.html"):
        html = page.read_text()
        assert 'src="http' not in html and 'href="https://fonts' not in html, page


def test_search_finds_notes_but_not_figure_data(built):
    index = json.loads((built / "search/search_index.json").read_text())
    locations = {doc["location"] for doc in index["docs"]}
    assert {"insights/carry-heads/", "experiments/loss-shelf/"} <= locations
    text = json.dumps(index)
    assert "scatter" not in text and "digit 0" not in text


def test_backlinks_are_on_the_page_and_in_its_toc_but_not_in_search(built):
    html = (built / "experiments/loss-shelf/index.html").read_text()
    section = html.split('<h2 id="linked-from">Linked from</h2>', 1)[1].split("</ul>", 1)[0]
    assert '<a href="../../insights/carry-heads/">Two heads compute the carry</a>' in section
    assert 'href="#linked-from"' in html.split('class="md-nav md-nav--secondary"', 1)[1]
    index = json.loads((built / "search/search_index.json").read_text())
    shelf = [doc for doc in index["docs"] if doc["location"].startswith("experiments/loss-shelf/")]
    assert shelf and not any("Linked from" in doc["title"] + doc["text"] for doc in shelf)


def test_generated_pages_link_their_notes_as_the_core_would(built):
    # The generated pages' links go in after the conversion (lab.wiki.htmllinks), as do
    # a note's meta line and links: none is left a token.
    insights, home = (built / "insights/index.html").read_text(), (built / "index.html").read_text()
    assert '<a href="carry-heads/">Two heads compute the carry</a>' in insights
    assert '<a href="insights/carry-heads/">Two heads compute the carry</a>' in home
    for page in built.rglob("*.html"):
        assert "\ue000" not in page.read_text(), page
    graph = (built / "graph/index.html").read_text()  # written again: its front matter read, not shown
    assert 'class="lab-graph lab-graph--all"' in graph and "exclude: true" not in graph


def test_sidebar_holds_sections_not_pages(built):
    html = (built / "insights/carry-heads/index.html").read_text()
    nav = html.split('class="md-nav md-nav--primary"', 1)[1].split("</nav>", 1)[0]
    assert nav.count('class="md-nav__link') == len(SECTIONS)  # not one per page


def test_broken_link_fails_strict_build_with_file_and_line_and_is_marked_otherwise(tmp_path):
    make_wiki(tmp_path)
    note = tmp_path / "site/ideas/probe-carries.md"
    note.write_text(note.read_text() + "\nAlso [[no-such-note]].\n")
    strict = mkdocs(tmp_path, "--strict")
    assert strict.returncode == 1
    assert "site/ideas/probe-carries.md:13: [[no-such-note]] does not name any page" in strict.stderr
    assert mkdocs(tmp_path).returncode == 0
    html = (tmp_path / "build/site/ideas/probe-carries/index.html").read_text()
    assert 'class="lab-broken"' in html


def test_a_first_run_that_failed_gets_a_page_with_its_failure(tmp_path):
    make_wiki(tmp_path)
    folder = results.result_dir("carry-probe", tmp_path)
    for path in folder.iterdir():
        if path.name != results.FAILURE:
            path.unlink()
    result = mkdocs(tmp_path, "--strict")
    assert result.returncode == 0, result.stderr
    html = (tmp_path / "build/site/experiments/carry-probe/index.html").read_text()
    assert "The latest attempt failed" in html and "n_digits must be &gt; 0" in html
    assert "No run has succeeded yet" in html and "results of the last good run" not in html
    assert "No run of this experiment has succeeded yet" in html
    kept = (tmp_path / "build/site/experiments/loss-shelf/index.html").read_text()
    assert "No run of this experiment has succeeded yet" not in kept


def test_bad_front_matter_fails_any_build_naming_every_file_and_field(tmp_path):
    make_wiki(tmp_path)
    note = tmp_path / "site/ideas/ablate-mlp.md"
    note.write_text(
        note.read_text().replace("priority: low", "priority: urgent").replace("status: done", "status: finished")
    )
    other = tmp_path / "site/insights/carry-heads.md"
    other.write_text(other.read_text().replace("status: supported", "status: proven"))
    result = mkdocs(tmp_path)
    assert result.returncode == 1
    assert "site/ideas/ablate-mlp.md:3: field 'status' is 'finished'" in result.stderr
    assert "site/ideas/ablate-mlp.md:4: field 'priority' is 'urgent'; use one of: high, normal, low" in result.stderr
    assert "site/insights/carry-heads.md:3: field 'status' is 'proven'" in result.stderr


def test_new_note_command(tmp_path):
    lab = [sys.executable, "-m", "lab", "new-note", "insight", "Heads compute carries"]
    run = lambda: subprocess.run(
        lab,
        cwd=tmp_path,
        env={**ENV, "PYTHONPATH": str(Path(__file__).parents[1])},  # noqa: E731
        capture_output=True,
        text=True,
    )
    first, second = run(), run()
    assert first.returncode == 0 and "site/insights/heads-compute-carries.md" in first.stdout
    assert second.returncode == 2 and "already exists" in second.stderr


# --------------------------------------------------------------------------- an Obsidian vault


@pytest.fixture(scope="module")
def vault_site(tmp_path_factory) -> Path:
    """The fixture wiki with tests/fixtures/vault pointed at from mkdocs.yml, built strictly."""
    root = tmp_path_factory.mktemp("vault-wiki")
    make_vault_wiki(root)
    result = mkdocs(root, "--strict")
    assert result.returncode == 0, result.stderr
    assert "WARNING" not in result.stderr, result.stderr
    return root / "build" / "site"


def article(site: Path, page: str) -> str:
    html = (site / page / "index.html").read_text()
    return html.split('<article class="md-content__inner md-typeset">', 1)[1].split('<h2 id="linked-from">', 1)[0]


def test_vault_is_read_in_place_without_its_hidden_folders(vault_site):
    for path in (
        "vault/index.html",
        "vault/Welcome/index.html",
        "vault/Research/Carry Notes/index.html",
        "vault/Research/Name (with paren/index.html",
        "vault/Daily/2024-01-01/index.html",
        "vault/attachments/diagram.png",
        "vault/attachments/board.canvas",
    ):
        assert (vault_site / path).exists(), path
    assert not list(vault_site.rglob(".obsidian"))


def test_vault_images_render_with_sizes_and_other_files_link(vault_site):
    html = article(vault_site, "vault/Welcome")
    for img in (
        '<img class="lab-image" src="../attachments/diagram.png" alt="diagram.png">',
        '<img class="lab-image" src="../attachments/diagram.png" alt="diagram.png" width="120">',
        '<img class="lab-image" src="../attachments/diagram.png" alt="diagram.png" width="64" height="48">',
        '<img class="lab-image" src="../attachments/icons.svg#icon" alt="icons.svg">',
    ):
        assert img in html
    assert (
        'nested with a tab\n    <img class="lab-image" src="../attachments/diagram.png" alt="diagram.png" width="32"></li>'
        in html
    )
    assert html.count('<a href="../attachments/paper.pdf">paper.pdf</a>') == 2  # the link and the embed
    assert '<a href="../attachments/board.canvas">board.canvas</a>' in html


def test_vault_links_follow_obsidian(vault_site):
    html = article(vault_site, "vault/Welcome")
    assert '<a href="../#start-here">the vault\'s home</a>' in html  # the vault's index, not the lab's Home
    assert 'alias <a href="../Research/Carry%20Notes/">' in html
    assert '<a href="../Research/Carry%20Notes/#^key-claim">the claim</a>' in html
    assert '<a href="../Research/Carry%20Notes/#ablations">Carry Notes › Evidence › Ablations</a>' in html
    assert '<a href="../../insights/carry-heads/">Two heads compute the carry</a>' in html
    assert '<a href="../Research/Name%20%28with%20paren/">Name (with paren</a>' in html
    assert '<td><a href="../Research/Carry%20Notes/">the notes</a></td>' in html  # [[…\\|…]] in a table
    assert '<li>an item with an id of its own <a id="^item-id"></a></li>' in article(
        vault_site, "vault/Research/Carry Notes"
    )
    assert 'The carry is computed late in the network. <a id="^key-claim"></a>' in article(
        vault_site, "vault/Research/Carry Notes"
    )


def test_vault_transclusion_shows_the_text_with_a_link_and_stops_at_cycles(vault_site):
    embeds = article(vault_site, "vault/Welcome").split('<div class="lab-embed">')[1:]
    assert len(embeds) == 3
    assert (
        '<a class="lab-embed-source" href="../Research/Carry%20Notes/#evidence">Carry Notes › Evidence</a>' in embeds[0]
    )
    assert "Ablating the late MLP brings the shelf back." in embeds[0] and "Open questions" not in embeds[0]
    assert "<p>The carry is computed late in the network.</p>" in embeds[1] and "Evidence" not in embeds[1]
    assert '<a href="./">Welcome</a> (embedded here already)' in embeds[2]


def test_vault_callouts_become_admonitions_and_details(vault_site):
    html = article(vault_site, "vault/Welcome")
    assert '<div class="admonition note">\n<p class="admonition-title">Read this first</p>' in html
    assert '<details class="tip">\n<summary>A folded tip</summary>' in html
    assert '<details class="warning" open="open">\n<summary>An open fold</summary>' in html
    assert "[!" not in html


def test_vault_math_is_mathml_and_code_and_math_hold_no_links(vault_site):
    html = article(vault_site, "vault/Welcome")
    assert html.count('<math xmlns="http://www.w3.org/1998/Math/MathML" display="inline">') == 3
    assert '<div class="lab-math"><math xmlns="http://www.w3.org/1998/Math/MathML" display="block">' in html
    assert "$" not in re.sub(r"<math.*?</math>", "", html, flags=re.S)
    assert "<pre><code>[[indented-code-is-not-a-link]]" in html and "[[fenced-code-is-not-a-link]]" in html
    assert "not-a-link" not in "".join(re.findall(r"<a [^>]*>", html))


def test_vault_is_a_section_of_the_sidebar_and_of_home(vault_site):
    page = (vault_site / "insights/carry-heads/index.html").read_text()
    nav = page.split('class="md-nav md-nav--primary"', 1)[1].split("</nav>", 1)[0]
    assert nav.count('class="md-nav__link') == len(SECTIONS) + 1 and 'href="../../vault/"' in nav
    assert '<a href="vault/">vault</a> — 5 notes' in (vault_site / "index.html").read_text()


def test_vault_dropped_into_site_builds_strictly_too(tmp_path):
    make_wiki(tmp_path)
    shutil.copytree(VAULT, tmp_path / "site/notes")
    result = mkdocs(tmp_path, "--strict")
    assert result.returncode == 0 and "WARNING" not in result.stderr, result.stderr
    assert '<a href="../#start-here">' in article(tmp_path / "build/site", "notes/Welcome")


def copied_vault(tmp_path: Path) -> tuple[Path, Path]:
    """(wiki root, a copy of the fixture vault it points at), for tests that break the vault."""
    shutil.copytree(VAULT, tmp_path / "vault")
    make_vault_wiki(tmp_path / "wiki", tmp_path / "vault")
    return tmp_path / "wiki", tmp_path / "vault"


def vault_strict(root: Path) -> None:
    """Ask for the vault report's problems as warnings (``vault_strict: true``)."""
    config = root / "mkdocs.yml"
    config.write_text(config.read_text().replace("      vault:", "      vault_strict: true\n      vault:", 1))


def test_ambiguous_name_goes_to_the_vault_report_and_fails_strict_only_when_asked(tmp_path):
    root, copy = copied_vault(tmp_path)
    (copy / "Archive/Old").mkdir(parents=True)
    (copy / "Archive/Old/Carry Notes.md").write_text("An older copy.\n")
    warning = (
        "../vault/Welcome.md:13: [[Carry Notes]] is ambiguous: it could be vault/Archive/Old/Carry Notes.md, "
        "vault/Research/Carry Notes.md; chose vault/Research/Carry Notes.md as Obsidian does"
    )
    quiet = mkdocs(root, "--strict")
    assert quiet.returncode == 0, quiet.stderr
    assert (
        warning not in quiet.stderr
        and "vault report (vault-report.md): 8 links to a name several notes share" in quiet.stderr
    )
    report = article(root / "build/site", "vault-report")
    assert "Links to a name several notes share" in report and "Links to no note" not in report
    assert '<td><a href="../vault/Welcome/">Welcome</a></td>\n<td>13</td>' in report
    assert 'The main note is <a href="../Research/Carry%20Notes/">' in article(root / "build/site", "vault/Welcome")
    vault_strict(root)
    strict = mkdocs(root, "--strict")
    assert strict.returncode == 1 and warning in strict.stderr


def test_missing_heading_in_a_vault_is_reported_fails_strict_when_asked_and_is_marked(tmp_path):
    root, copy = copied_vault(tmp_path)
    welcome = copy / "Welcome.md"
    welcome.write_text(welcome.read_text() + "\nSee [[Carry Notes#No such heading]] and [[No such note]].\n")
    quiet = mkdocs(root, "--strict")
    assert quiet.returncode == 0, quiet.stderr
    assert "1 link to no note, 1 link to no heading or block" in quiet.stderr
    assert '<span class="lab-broken" title="&#91;&#91;Carry Notes#No such heading&#93;&#93;' in article(
        root / "build/site", "vault/Welcome"
    )
    vault_strict(root)
    strict = mkdocs(root, "--strict")
    assert strict.returncode == 1
    assert (
        "../vault/Welcome.md:75: [[Carry Notes#No such heading]]: vault/Research/Carry Notes.md has no heading "
        "'No such heading' (its headings: Carry notes, Evidence, Ablations, Open questions, Linked from)"
    ) in strict.stderr
    assert "../vault/Welcome.md:75: [[No such note]] does not name any page or file" in strict.stderr


def test_a_missing_heading_on_an_experiment_page_fails_strict_but_an_added_section_does_not(tmp_path):
    make_wiki(tmp_path)
    note = tmp_path / "site/ideas/probe-carries.md"
    note.write_text(note.read_text() + "\nSee [[loss-shelf#Metrics]], [[loss-shelf#Linked from]].\n")
    assert mkdocs(tmp_path, "--strict").returncode == 0
    note.write_text(note.read_text() + "\nAnd [[loss-shelf#No such heading]].\n")
    strict = mkdocs(tmp_path, "--strict")
    assert strict.returncode == 1
    assert "[[loss-shelf#No such heading]]: experiments/loss-shelf/index.md has no heading 'No such heading'" in (
        strict.stderr
    )


def test_a_vault_named_like_a_kind_folder_is_refused(tmp_path):
    (tmp_path / "ideas").mkdir()
    with pytest.raises(LabError, match="its name 'ideas' is already a folder"):
        list(vault.files(tmp_path / "ideas", tmp_path / "site"))


def test_reproduction_verdicts_show_on_the_page_and_in_the_table(tmp_path):
    make_wiki(tmp_path)
    verdict = {
        "run_id": "20261126T120000Z",
        "when": "2026-11-27T10:00:00+00:00",
        "commit": "fedcba9876543210",
        "dirty": False,
        "environment": {"threads": 2, "torch": "2.13.0+cpu", "cuda": None, "cpu_capability": "AVX2", "device": "cpu"},
        "cached": False,
        "tolerance": {"relative": 0.0, "why": "same environment: bit-identical"},
        "duration_s": 42.0,
        "identical": 1,
        "within": 0,
        "drifted": 1,
        "drifts": [{"metric": "final_loss", "committed": 0.05, "new": 0.06, "difference": 0.01}],
        "failure": None,
    }
    results.atomic_write_json(results.result_dir("loss-shelf", tmp_path) / results.REPRODUCTION, verdict)
    result = mkdocs(tmp_path, "--strict")
    assert result.returncode == 0, result.stderr
    site = tmp_path / "build" / "site"
    page = article(site, "experiments/loss-shelf")
    assert "Not reproduced: 1 of 2 metrics drifted" in page and "fedcba9" in page and "final_loss" in page
    table = (site / "experiments/index.html").read_text()
    assert "✗ 1/2 drifted · 2026-11-27" in table
    assert "not checked" in table  # carry-probe has no verdict


def test_sweep_points_are_found_through_their_sweep_not_in_search(tmp_path):
    make_wiki(tmp_path)
    add_sweep(tmp_path, points=2)
    for _ in ("cold", "warm"):  # the second build takes each page's HTML from the page cache
        assert mkdocs(tmp_path, "--strict").returncode == 0
    built = tmp_path / "build" / "site"
    point = "experiments/loss-shelf/sweeps/seeds/points/seed-0/"
    assert (built / point / "index.html").exists()
    locations = {
        doc["location"].split("#")[0] for doc in json.loads((built / "search/search_index.json").read_text())["docs"]
    }
    assert "experiments/loss-shelf/sweeps/seeds/" in locations and "experiments/loss-shelf/" in locations
    assert not any("/points/" in location for location in locations)
