"""Shared fixtures."""

import pytest

from kerasr import k_set_floatx


@pytest.fixture
def float64():
    """Layers and weights made in the test compute in float64 (for gradient checks)."""
    k_set_floatx("float64")
    yield
    k_set_floatx("float32")
