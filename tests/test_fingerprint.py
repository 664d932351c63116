"""Fingerprints of lab code (lab.fingerprint) and the kernel's record of what ran (lab.executed)."""

import sys
import textwrap

from lab import executed, fingerprint

SOURCE = textwrap.dedent(
    '''
    """A module."""
    import math
    __all__ = ["scale", "Box"]
    RATE = 0.5


    def scale(x):
        """Scale x."""
        helper = lambda y: y * RATE  # a comment
        return helper(x)


    class Box:
        """A box."""
        size: int = 3

        def area(self):
            return self.size ** 2
    '''
)


def test_units_are_functions_methods_class_statements_and_the_module_own_code():
    units = fingerprint.units(SOURCE)
    assert set(units) == {"<module>", "scale", "Box", "Box.area"}
    assert units["<module>"] == "RATE = 0.5"  # no docstring, import or __all__
    assert "area" not in units["Box"] and "size: int = 3" in units["Box"]
    assert "lambda" in units["scale"] and "Scale x" not in units["scale"]


def test_docstrings_comments_and_formatting_change_no_fingerprint():
    edited = (
        SOURCE.replace('"""Scale x."""', '"""Scale x, as documented at length."""')
        .replace("# a comment", "# another comment")
        .replace("return helper(x)", "return   helper( x )\n")
        .replace('__all__ = ["scale", "Box"]', '__all__ = ["scale", "Box", "more"]')
    )
    assert fingerprint.units(edited) == fingerprint.units(SOURCE)


def test_an_edit_changes_only_its_own_unit():
    before = fingerprint.units(SOURCE)
    after = fingerprint.units(SOURCE.replace("self.size ** 2", "self.size ** 3"))
    assert [name for name in before if before[name] != after[name]] == ["Box.area"]
    after = fingerprint.units(SOURCE.replace("size: int = 3", "size: int = 4"))
    assert [name for name in before if before[name] != after[name]] == ["Box"]
    after = fingerprint.units(SOURCE.replace("RATE = 0.5", "RATE = 0.25"))
    assert [name for name in before if before[name] != after[name]] == ["<module>"]


def test_changes_name_changed_and_removed_units(tmp_path):
    (tmp_path / "m.py").write_text(SOURCE)
    recorded = fingerprint.current(["lab/m.py:scale", "lab/m.py:Box.area"], tmp_path)
    assert fingerprint.changes(recorded, tmp_path) == []
    (tmp_path / "m.py").write_text(SOURCE.replace("y * RATE", "y / RATE").replace("def area", "def surface"))
    assert fingerprint.changes(recorded, tmp_path) == ["lab/m.py:scale changed", "lab/m.py:Box.area removed"]
    (tmp_path / "m.py").unlink()
    assert fingerprint.changes(recorded, tmp_path) == ["lab/m.py:scale removed", "lab/m.py:Box.area removed"]


def test_a_modules_literal_constants_are_parts_of_their_own_and_the_rest_one_more():
    source = (
        SOURCE + "LIMIT: int = 3\nTABLE = {RATE: 1}\nSEEN = []\nSEEN.append(RATE)\nTWICE = 1\nTWICE = 2\nA, B = 1, 2\n"
    )
    parts = fingerprint.module_parts(source)
    assert set(parts) == {"<module>:RATE", "<module>:LIMIT", "<module>:SEEN", "<module>:*"}
    assert parts["<module>:RATE"] == "RATE = 0.5" and parts["<module>:LIMIT"] == "LIMIT: int = 3"
    # a value with a name in it, a name bound twice and a tuple target stay with the rest
    assert parts["<module>:*"] == "TABLE = {RATE: 1}\nSEEN.append(RATE)\nTWICE = 1\nTWICE = 2\nA, B = (1, 2)"


def _recorded_with_parts(root, source, refs):
    (root / "m.py").write_text(source)
    return fingerprint.current(
        [*refs, "lab/m.py:<module>", *(f"lab/m.py:{p}" for p in fingerprint.module_parts(source))], root
    )


MODULE_CODE = SOURCE + "\ndef limited(x):\n    return min(x, LIMIT)\n\n\nLIMIT = 3\nSPARE = 7\n"


def test_a_constant_no_code_names_stales_nothing_and_one_that_is_named_does(tmp_path):
    recorded = _recorded_with_parts(tmp_path, MODULE_CODE, ["lab/m.py:limited"])
    script = "from lab import m\nm.limited(4)\n"
    edits = [
        ("SPARE = 7\n", "SPARE = 8\nNEW = 1\n", []),  # an unused constant changed, one added
        ("SPARE = 7\n", "", []),  # an unused constant removed
        ("LIMIT = 3\n", "LIMIT = 4\n", ["lab/m.py:LIMIT changed"]),  # one that limited() reads
    ]
    for old, new, expected in edits:
        (tmp_path / "m.py").write_text(MODULE_CODE.replace(old, new))
        assert fingerprint.changes(recorded, tmp_path, script) == expected
    (tmp_path / "m.py").write_text(MODULE_CODE.replace("SPARE = 7\n", "SPARE = 7\nmin = 0\n"))  # shadows a name used
    assert fingerprint.changes(recorded, tmp_path, script) == ["lab/m.py:min added"]
    (tmp_path / "m.py").write_text(MODULE_CODE + "ORDER = sorted(TABLE)\n")  # not a literal: the rest
    assert fingerprint.changes(recorded, tmp_path, script) == ["lab/m.py:<module> changed"]
    (tmp_path / "m.py").write_text(MODULE_CODE.replace("SPARE = 7\n", "SPARE = 8\n"))
    assert fingerprint.changes(recorded, tmp_path, "x = m.SPARE\n") == ["lab/m.py:SPARE changed"]  # the script names it
    assert fingerprint.changes(recorded, tmp_path) == [
        "lab/m.py:SPARE changed"
    ]  # no script given: every constant counts
    (tmp_path / "m.py").unlink()
    assert fingerprint.changes(recorded, tmp_path, script) == ["lab/m.py:limited removed", "lab/m.py:<module> removed"]


TABLE_CODE = (
    SOURCE
    + """
SIZES: dict = Table(__name__, "SIZES", {"small": Box(1), "large": Box(9)})


def size(name):
    return SIZES[name]
"""
)


def test_a_tables_entries_are_parts_of_their_own_and_the_rest_keeps_the_table_empty():
    parts = fingerprint.module_parts(TABLE_CODE)
    assert parts["<module>:SIZES[small]"] == "'small': Box(1)" and parts["<module>:SIZES[large]"] == "'large': Box(9)"
    assert parts["<module>:*"] == "SIZES: dict = Table(__name__, 'SIZES', {})"
    assert fingerprint.is_entry("<module>:SIZES[small]") and not fingerprint.is_entry("<module>:RATE")
    # named by the name it is given (the one it notes entries under), not the variable's
    assert "<module>:SIZES[small]" in fingerprint.module_parts(TABLE_CODE.replace("SIZES: dict =", "OTHER ="))
    # a dict without Table, a key that is not a string, or a table with no name given is
    # not a table: it stays with the rest
    odd = "PLAIN = {'a': Box(1)}\nODD = Table(__name__, 'ODD', {1: Box(1)})\nBARE = Table({'a': Box(1)})\n"
    assert set(fingerprint.module_parts(SOURCE + odd)) == {
        "<module>:RATE",
        "<module>:*",
    }


def test_an_entry_stales_only_the_runs_that_read_it(tmp_path):
    (tmp_path / "m.py").write_text(TABLE_CODE)
    parts = [p for p in fingerprint.module_parts(TABLE_CODE) if not fingerprint.is_entry(p)]
    read_small = [
        "lab/m.py:size",
        "lab/m.py:<module>",
        "lab/m.py:<module>:SIZES[small]",
        *(f"lab/m.py:{p}" for p in parts),
    ]
    recorded = fingerprint.current(read_small, tmp_path)
    edits = [
        ("Box(9)", "Box(8)", []),  # an entry the run never read
        ('"large": Box(9)', '"large": Box(9), "huge": Box(99)', []),  # an entry added
        ("Box(1)", "Box(2)", ["lab/m.py:SIZES[small] changed"]),  # the entry it read
        ('"small": Box(1), ', "", ["lab/m.py:SIZES[small] removed"]),
        ("dict = Table", "dict[str, Box] = Table", ["lab/m.py:<module> changed"]),  # the table's own statement
    ]
    for old, new, expected in edits:
        assert old in TABLE_CODE
        (tmp_path / "m.py").write_text(TABLE_CODE.replace(old, new))
        assert fingerprint.changes(recorded, tmp_path, "m.size('small')") == expected
        assert fingerprint.changes(recorded, tmp_path) == expected  # without the script: the same


def test_a_table_notes_the_entries_read_and_only_those(monkeypatch):
    monkeypatch.setattr(executed, "_seen", set())
    table = executed.Table("lab.presets", "PRESETS", {"add2": 1, "tiny": 2})
    assert "add2" in table and list(table) == ["add2", "tiny"] and executed._seen == set()  # keys read no entry
    assert table["tiny"] == 2 and table.get("add2") == 1 and table.get("none", 0) == 0
    assert executed._seen == {"lab/presets.py:<module>:PRESETS[tiny]", "lab/presets.py:<module>:PRESETS[add2]"}
    executed._seen.clear()
    assert dict(table.items()) == {"add2": 1, "tiny": 2}  # every entry read
    assert len(executed._seen) == 2


def test_a_record_without_parts_is_judged_by_the_whole_module_as_before(tmp_path):
    (tmp_path / "m.py").write_text(MODULE_CODE)
    recorded = fingerprint.current(["lab/m.py:limited", "lab/m.py:<module>"], tmp_path)
    (tmp_path / "m.py").write_text(MODULE_CODE + "NEW = 1\n")
    assert fingerprint.changes(recorded, tmp_path, "") == ["lab/m.py:<module> changed"]


def test_parts_leave_the_whole_file_and_the_model_cache_key_as_they_were(tmp_path):
    (tmp_path / "m.py").write_text(MODULE_CODE)
    assert not any(":<module>:" in ref for ref in fingerprint.current(["lab/m.py"], tmp_path))


def test_a_file_ref_expands_to_its_units_and_a_class_ref_to_its_methods(tmp_path):
    (tmp_path / "m.py").write_text(SOURCE)
    assert set(fingerprint.current(["lab/m.py"], tmp_path)) == {
        "lab/m.py:<module>",
        "lab/m.py:scale",
        "lab/m.py:Box",
        "lab/m.py:Box.area",
    }
    assert fingerprint.expand(["lab/m.py:Box"], tmp_path) == ["lab/m.py:Box", "lab/m.py:Box.area"]


def test_instrumented_code_records_calls_keeps_line_numbers_and_docstrings():
    seen = set()
    namespace = {executed.HOOK: seen.add}
    exec(compile(executed.instrument(SOURCE, "m.py"), "m.py", "exec", dont_inherit=True), namespace)
    assert seen == set()  # defining is not calling
    assert namespace["scale"](2) == 1.0
    assert seen == {"lab/m.py:scale"}
    namespace["Box"]().area()
    assert seen == {"lab/m.py:scale", "lab/m.py:Box.area"}
    assert namespace["scale"].__doc__ == "Scale x."
    assert namespace["scale"].__code__.co_firstlineno == SOURCE.splitlines().index("def scale(x):") + 1
    try:
        namespace["Box"].area(None)
    except AttributeError:
        line = sys.exc_info()[2].tb_next.tb_lineno
    assert line == SOURCE.splitlines().index("        return self.size ** 2") + 1


def test_the_results_format_s_module_statements_stale_nothing_but_its_functions_do(tmp_path):
    (tmp_path / "results.py").write_text('RUN_FIELDS = ("name",)\n\n\ndef dumps(v):\n    return repr(v)\n')
    recorded = fingerprint.current(["lab/results.py:<module>", "lab/results.py:dumps"], tmp_path)
    (tmp_path / "results.py").write_text('RUN_FIELDS = ("name", "code")\n\n\ndef dumps(v):\n    return repr(v)\n')
    assert fingerprint.changes(recorded, tmp_path) == []  # a new field in run.json changes no number
    (tmp_path / "results.py").write_text('RUN_FIELDS = ("name", "code")\n\n\ndef dumps(v):\n    return str(v)\n')
    assert fingerprint.changes(recorded, tmp_path) == ["lab/results.py:dumps changed"]


def test_how_a_file_is_written_stales_nothing(tmp_path):
    """Every unit of lab/atomic.py is numberless; the same edit elsewhere is a change."""
    source = "def write_text(path, text):\n    open(path, 'w').write(text)\n"
    edited = source.replace("open(path, 'w').write(text)", "open(path, 'w').write(text)\n    return None")
    for name in ("atomic.py", "record.py"):
        (tmp_path / name).write_text(source)
    recorded = fingerprint.current(["lab/atomic.py:write_text", "lab/record.py:write_text"], tmp_path)
    for name in ("atomic.py", "record.py"):
        (tmp_path / name).write_text(edited)
    assert fingerprint.changes(recorded, tmp_path) == ["lab/record.py:write_text changed"]
