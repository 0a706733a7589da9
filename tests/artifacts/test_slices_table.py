"""A slices table is checked as it is read: what no slicing makes is refused (exit 3) naming the
column and the row, before a fit or a forecast would turn it into a wrong number."""

from __future__ import annotations

import re

import pytest

from slicesand.artifacts.slices_table import read_slices
from slicesand.errors import InputDataError
from tests.cli.shell_helpers import slicesand

HEADER = "model,flops,accuracy,tc_brier,group_1,group_2\n"
ROWS = ["a,1e20,0.30,-0.50,-0.20,-0.80\n", "b,1e21,0.40,-0.45,-0.15,-0.75\n", "c,1e22,0.50,-0.40,-0.10,-0.70\n"]


def _table(tmp_path, rows):
    path = tmp_path / "slices.csv"
    path.write_text(HEADER + "".join(rows))
    return path


@pytest.mark.parametrize("row, problem", [
    ("a,1e23,0.60,-0.35,-0.05,-0.65\n", "column 'model', row 4: model 'a' is listed twice (first at row 1)"),
    ("d,,0.60,-0.35,-0.05,-0.65\n", "column 'flops', row 4: FLOPs must be a positive, finite number"),
    ("d,-5,0.60,-0.35,-0.05,-0.65\n", "column 'flops', row 4: FLOPs must be a positive, finite number"),
    ("d,inf,0.60,-0.35,-0.05,-0.65\n", "column 'flops', row 4: FLOPs must be a positive, finite number"),
    (",1e23,0.60,-0.35,-0.05,-0.65\n", "column 'model', row 4: a model needs a name"),
    ("d,1e23,1.5,-0.35,-0.05,-0.65\n", "column 'accuracy', row 4: an accuracy lies in [0, 1]"),
    ("d,1e23,0.60,-0.35,-inf,-0.65\n", "column 'group_1', row 4: a TC Brier score lies in [-1, 0]"),
    ("d,1e23,0.60,-0.35,0.5,-0.65\n", "column 'group_1', row 4: a TC Brier score lies in [-1, 0]"),
    ("d,1e23,0.60,-1.5,-0.05,-0.65\n", "column 'tc_brier', row 4: a TC Brier score lies in [-1, 0]"),
])
def test_what_no_slicing_makes_is_refused_naming_column_and_row(tmp_path, row, problem):
    with pytest.raises(InputDataError, match="^" + re.escape(f"{tmp_path / 'slices.csv'}: {problem}")):
        read_slices(_table(tmp_path, [*ROWS, row]))


def test_empty_scores_and_accuracies_are_unknown_not_wrong(tmp_path):
    # A name of spaces is a name, as both slicing engines read it (`slice` writes such a table: review)
    table = read_slices(_table(tmp_path, [*ROWS, "d,1e23,,-0.35,,-0.65\n", "e,1e24,1,0,-1,0\n", " ,1e25,1,0,-1,0\n"]))
    assert table.frame["group_1"].isna().sum() == 1 and table.frame["accuracy"].isna().sum() == 1


def test_predict_refuses_a_repeated_model_in_one_line_and_writes_nothing(tmp_path):
    path = _table(tmp_path, [*ROWS, "d,1e23,0.6,-0.35,-0.05,-0.65\n", "d,1e23,0.6,-0.35,-0.05,-0.65\n"])
    result = slicesand("fit", path, "--cut", "1e22", "-q", "-o", tmp_path / "fit.json")
    assert result.returncode == 3 and not (tmp_path / "fit.json").exists()
    assert result.stderr.decode() == (f"error: {path}: column 'model', row 5: model 'd' is listed twice (first at "
                                      f"row 4); found 'd' (hint: a slices table has one row a model)\n")
