"""Shared fixtures."""

import pytest

from kerasr import k_set_floatx


@pytest.fixture
def float64():
    """Layers and weights made in the test compute in float64 (for gradient checks)."""
    k_set_floatx("float64")
    yield
    k_set_floatx("float32")


@pytest.fixture(params=["serial", "parallel"])
def chunk_kernel_variant(request, monkeypatch):
    """The chunked convolution kernels' serial or parallel compilation, whatever the thread
    count."""
    from kerasr.kernels import convolution
    index = 0 if request.param == "serial" else 1
    monkeypatch.setattr(convolution, "chunk_variant", lambda pair: pair[index])
    return request.param


@pytest.fixture(params=["im2col", "output_side"])
def conv_side(request, monkeypatch):
    """im2col rows times the kernel, or the input times the tap kernels (the output side),
    whichever the size rule would pick."""
    from kerasr.kernels import convolution
    monkeypatch.setattr(convolution, "output_side", lambda *args: request.param == "output_side")
    return request.param
