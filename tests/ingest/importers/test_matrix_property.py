"""Property-based: any 0/1 grid, written with or without a header row and an id column, plain or
gzipped, reads back cell for cell (the matrix layouts the README documents)."""

from __future__ import annotations

import gzip

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from slicesand.ingest.importers import ImportOptions, read_source

cells = st.sampled_from(["0", "1", "0.0", "1.0", "", "NA"])


@st.composite
def grids(draw):
    n_models = draw(st.integers(1, 4))
    n_questions = draw(st.integers(2, 7))
    grid = draw(st.lists(st.lists(cells, min_size=n_questions, max_size=n_questions), min_size=n_models,
                         max_size=n_models))
    # A bare grid whose first line or column is all missing cannot tell data from ids: keep one number.
    grid[0][0] = draw(st.sampled_from(["0", "1"]))
    return grid, draw(st.booleans()), draw(st.booleans()), draw(st.booleans()), draw(st.booleans())


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=grids())
def test_matrix_layouts_read_back_cell_for_cell(tmp_path, case):
    grid, header, ids, wide_width, packed = case
    models = [f"org/m {i}" for i in range(len(grid))]
    questions = [f"q{j}" for j in range(len(grid[0]))]
    lines = ([(["model"] if ids else []) + questions] if header else []) + \
        [([m] if ids else []) + row for m, row in zip(models, grid)]
    text = "".join(",".join(line) + "\n" for line in lines)
    path = tmp_path / ("m.csv.gz" if packed else "m.csv")
    path.write_bytes(gzip.compress(text.encode()) if packed else text.encode())
    if all(cell in ("", "NA") for row in grid for cell in row[1:]) and not header:
        return  # nothing but the one number: no layout to tell
    result = read_source(path, options=ImportOptions(matrix_orientation="rows"))
    rows = result.dump.to_pylist()
    expected = [np.nan if cell in ("", "NA") else float(cell) for row in grid for cell in row]
    got = [np.nan if r["correct"] is None else float(r["correct"]) for r in rows]
    np.testing.assert_array_equal(got, expected)
    want_models = models if ids else [f"model-{i + 1}" for i in range(len(grid))]
    want_questions = questions if header else [f"question-{j + 1}" for j in range(len(grid[0]))]
    assert [r["model"] for r in rows] == [m for m in want_models for _ in want_questions]
    assert [r["question"] for r in rows] == want_questions * len(want_models)
