"""The run configuration (slicesand.config) refuses values no run could use, with the option named."""

from __future__ import annotations

import pytest

from slicesand.config import MAX_DRAWS, UncertaintyOptions
from slicesand.errors import UsageError


@pytest.mark.parametrize("draws", [-1, MAX_DRAWS + 1, 10**20])
def test_bootstrap_draws_are_bounded(draws):
    with pytest.raises(UsageError, match=r"`bootstrap` must be 0 to 100,000 draws"):
        UncertaintyOptions(draws=draws)


@pytest.mark.parametrize("draws", [0, 1, MAX_DRAWS])
def test_bootstrap_draws_within_the_bounds_are_kept(draws):
    assert UncertaintyOptions(draws=draws).draws == draws
