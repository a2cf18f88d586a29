"""Table cells read as prose, not as Python: yes/no, shapes, lists; long settings tables fold in two."""

import pytest

from hwlib.tables import markdown_table, settings_table, shape


@pytest.mark.parametrize("value,text", [
    (True, "yes"), (False, "no"), ((1,), "1"), ((1, 8, 8), "1 × 8 × 8"), ([16, 32], "16, 32"),
    (0.0012345, "0.001234"), (None, "—"), (3, "3"), ("a|b", "a\\|b"),
])
def test_cells_are_written_for_a_reader(value, text):
    assert markdown_table([{"v": value}]).splitlines()[2] == f"| {text} |"


def test_shape():
    assert shape((3, 32, 32)) == "3 × 32 × 32" and shape([1]) == "1"


def test_short_settings_table_has_one_setting_per_row():
    text = settings_table({"dataset": "digits", "batchnorm": True})
    assert text.splitlines() == ["| setting | value |", "|---|---|", "| dataset | digits |", "| batchnorm | yes |"]


def test_long_settings_table_reads_down_two_halves():
    settings = {f"s{i}": i for i in range(7)}
    lines = settings_table(settings).splitlines()
    assert lines[0] == "| setting | value | setting | value |"
    assert lines[2:] == ["| s0 | 0 | s4 | 4 |", "| s1 | 1 | s5 | 5 |", "| s2 | 2 | s6 | 6 |", "| s3 | 3 |  |  |"]


def test_settings_table_has_no_python_debris():
    text = settings_table({"flag": True, "shape": (1,), "widths": [4, 8], "lr": 1e-3, "name": "x", "n": 2, "k": 0})
    for debris in ("True", "False", "(1,)", "[", "]"):
        assert debris not in text
