"""A sweep's grid: values split and parsed like make experiment's, points, ids, checks.

No kernel starts here: everything is checked before a sweep runs anything.
"""

import shutil
import sys
import types

import pytest
from runner_fixture import FIXTURES, make_root

from lab import LabError, cli
from lab.runner import execute, grid, scripts


@pytest.fixture
def root(tmp_path):
    root = make_root(tmp_path)
    shutil.copy(FIXTURES / "grid.py", root / "experiments" / "grid.py")
    return root


@pytest.fixture
def demo(root):
    return scripts.read_script("demo", root)


@pytest.mark.parametrize(
    "text, values",
    [
        ("0,1,2", ["0", "1", "2"]),
        ("[1, 2],[3]", ["[1, 2]", "[3]"]),
        ("{'a': 1, 'b': 2},{'a': 3}", ["{'a': 1, 'b': 2}", "{'a': 3}"]),
        ("'x,y',z", ["'x,y'", "z"]),
        ("1e-3, 3e-3", ["1e-3", "3e-3"]),
    ],
)
def test_values_split_on_commas_outside_brackets_and_quotes(text, values):
    assert grid.split_values(text) == values


def test_grid_values_parse_as_their_defaults_types(demo):
    parsed = grid.parse_grid(["seed=0,1", "scale=1e-3,2", "widths=[1, 2],[3]", "label=a b,c"], demo)
    assert parsed == {"seed": [0, 1], "scale": [0.001, 2.0], "widths": [[1, 2], [3]], "label": ["a b", "c"]}
    assert [type(v) for v in parsed["scale"]] == [float, float]


@pytest.mark.parametrize(
    "items, message",
    [
        (["seed=0,x"], r"seed='x' is not a whole number like the default 0 \(experiments/demo.py:14\)"),
        (["nope=1,2"], r"demo has no parameter 'nope'; its parameters: seed = 0"),
        (["seed=0,1", "seed=2"], r"parameter seed is given twice"),
        (["seed=0,,1"], r"'seed=0,,1': an empty value"),
        (["seed"], r"parameter 'seed' has no value: write seed=VALUE"),
        ([], r"no grid: give parameters with their values \(seed=0,1,2\) or --sweep NAME"),
    ],
)
def test_bad_grids_get_make_experiments_messages(demo, items, message):
    with pytest.raises(LabError, match=message) as err:
        grid.parse_grid(items, demo)
    assert err.value.code == 2


def test_points_are_the_cartesian_product_first_parameter_slowest():
    assert grid.points({"lr": [0.1, 0.2], "seed": [0, 1, 2]}) == [
        {"lr": 0.1, "seed": 0},
        {"lr": 0.1, "seed": 1},
        {"lr": 0.1, "seed": 2},
        {"lr": 0.2, "seed": 0},
        {"lr": 0.2, "seed": 1},
        {"lr": 0.2, "seed": 2},
    ]


def test_point_ids_name_the_varying_values_readably():
    g = {"seed": [0, 1], "lr": [0.003, 0.01], "steps": [100]}
    names = grid.varying(g)
    assert names == ["lr", "seed"]  # steps does not vary: it tells no point apart
    assert grid.point_id({"seed": 1, "lr": 0.003, "steps": 100}, names) == "lr-0.003_seed-1"
    widths = grid.point_id({"widths": [1, 2]}, ["widths"])
    assert widths.startswith("widths-") and len(widths) == len("widths-") + 8  # a short hash
    assert widths != grid.point_id({"widths": [2, 1]}, ["widths"])


def test_an_ad_hoc_sweep_is_named_after_its_parameters_so_a_grown_grid_keeps_its_name():
    assert grid.grid_id({"seed": [0, 1, 2]}) == "seed"
    assert grid.grid_id({"seed": [0, 1, 2, 3]}) == "seed"  # a value added: the same sweep
    assert grid.grid_id({"seed": [0, 1], "lr": [0.001, 0.003]}) == "lr-seed"
    assert grid.grid_id({"lr": [0.003], "seed": [5]}) == "lr-seed"  # in any order
    assert grid.grid_id({"n_Points": [1], "seed": [0]}) == "n_points-seed"  # lower-case: a valid id
    names = {f"parameter_{i}": [0] for i in range(10)}
    long = grid.grid_id(names)
    assert len(long) <= grid.MAX_ID and grid.check_sweep_id(long) == long
    assert long != grid.grid_id({**names, "other": [0]})  # shortened with a hash of the names
    with pytest.raises(LabError, match="not a sweep id"):
        grid.check_sweep_id("lr-0.1")


def test_a_grid_past_the_limit_is_refused_unconfirmed_before_its_points_are_made(root, monkeypatch, capsys):
    monkeypatch.chdir(root)
    monkeypatch.setattr(grid, "points", lambda *a: pytest.fail("the points were made"))
    seeds = ",".join(map(str, range(10_000)))

    assert cli.main(["sweep", "grid", f"seed={seeds}", "lr=0.1,0.2"]) == 2

    assert capsys.readouterr().err == (
        "error: the grid makes 20,000 points (10,000 values of seed x 2 values of lr), more than the 1,000 "
        "a sweep runs unconfirmed: add CONFIRM=1 (--yes) to run them all\n"
    )
    assert not (root / "build").exists() and not (root / "site").exists()
    assert grid.check_size({"seed": list(range(grid.MAX_POINTS))}, confirmed=False) == grid.MAX_POINTS
    assert grid.check_size({"seed": list(range(10_000))}, confirmed=True) == 10_000


def test_an_ad_hoc_grid_may_not_take_a_declared_sweeps_name(root, monkeypatch, capsys):
    monkeypatch.chdir(root)
    assert cli.main(["sweep", "grid", "seed=7", "--name", "seeds"]) == 2
    assert capsys.readouterr().err == (
        "error: 'seeds' is a sweep declared in experiments/grid.py with another grid: run it with SWEEP=seeds "
        "alone, or give this grid another name (SWEEP=... with GRID=)\n"
    )
    assert not (root / "build").exists() and not (root / "site").exists()


def test_named_sweeps_come_from_the_header_typed(root):
    script = scripts.read_script("grid", root)
    assert grid.declared(script) == ["seeds", "rates"]
    assert grid.named_grid(script, "rates") == {"lr": [0.05, 0.2], "seed": [0, 1]}
    with pytest.raises(LabError, match=r"experiments/grid.py declares no sweep 'nope'; it declares: seeds, rates"):
        grid.named_grid(script, "nope")


def test_a_named_sweep_with_a_bad_value_names_the_script_and_sweep(root):
    path = root / "experiments" / "grid.py"
    path.write_text(path.read_text().replace("seeds: {seed: [0, 1, 2]}", "seeds: {seed: [0, one]}"))
    script = scripts.read_script("grid", root)
    with pytest.raises(LabError, match=r"experiments/grid.py: sweep 'seeds': seed='one' is not a whole number"):
        grid.named_grid(script, "seeds")


def positive(scale):
    if scale <= 0:
        raise LabError(f"scale={scale!r}: must be positive")


def test_every_point_is_checked_before_any_kernel_starts(root, monkeypatch, capsys):
    """The header's checks run on every point, with make experiment's message and exit code 2."""
    import lab

    fake = types.ModuleType("lab.checks")
    fake.positive = positive
    monkeypatch.setitem(sys.modules, "lab.checks", fake)
    monkeypatch.setattr(lab, "checks", fake, raising=False)
    text = (root / "experiments" / "demo.py").read_text()
    (root / "experiments" / "checked.py").write_text(
        text.replace("# links: [ideas/runner]\n", '# links: [ideas/runner]\n# checks: ["positive(scale)"]\n')
    )
    monkeypatch.chdir(root)
    monkeypatch.setattr(execute, "execute", lambda *a, **k: pytest.fail("a kernel was started"))

    assert cli.main(["sweep", "checked", "seed=0,1", "scale=1,-0.5"]) == 2
    assert capsys.readouterr().err == (
        "error: experiments/checked.py: positive(scale=-0.5): scale=-0.5: must be positive\n"
    )
    assert not (root / "build").exists() and not (root / "site").exists()


def test_a_grid_and_a_named_sweep_together_are_refused(root, monkeypatch, capsys):
    monkeypatch.chdir(root)
    assert cli.main(["sweep", "grid", "seed=0,1", "--sweep", "seeds"]) == 2
    assert "give a grid or --sweep seeds, not both" in capsys.readouterr().err


def test_a_malformed_sweep_record_stops_the_sweep_in_one_line_before_any_point(root, monkeypatch, capsys):
    from lab.runner import engines

    path = root / "site" / "experiments" / "grid" / "sweeps" / "seed" / "sweep.json"
    path.parent.mkdir(parents=True)
    path.write_text("{}")
    monkeypatch.chdir(root)
    monkeypatch.setattr(engines, "run_pool", lambda *a: pytest.fail("a point was started"))

    assert cli.main(["sweep", "grid", "seed=0,1"]) == 2

    assert capsys.readouterr().err == (
        f"error: {path}: not a sweep record: name, sweep, grid, updated, points, aggregates, figures missing\n"
    )
    assert path.read_text() == "{}"  # left for the user to look at
