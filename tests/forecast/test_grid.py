"""slicesand.forecast.predict.parse_grid: START:STOP:N, log-spaced, bounded."""

import numpy as np
import pytest

from slicesand.errors import UsageError
from slicesand.forecast.predict import MAX_GRID_POINTS, parse_grid


def test_grid_is_log_spaced_and_inclusive():
    np.testing.assert_allclose(parse_grid("1e21:1e25:5"), [1e21, 1e22, 1e23, 1e24, 1e25])


@pytest.mark.parametrize("text", ["1e21:1e25", "a:b:c", "1e25:1e21:5", "0:1e21:5", "1e21:1e25:1",
                                  f"1e21:1e25:{MAX_GRID_POINTS + 1}"])
def test_bad_or_huge_grids_are_usage_errors(text):
    with pytest.raises(UsageError, match="`grid`"):
        parse_grid(text)


def test_the_largest_grid_is_accepted():
    assert parse_grid(f"1e21:1e25:{MAX_GRID_POINTS}").size == MAX_GRID_POINTS
