"""A convolution (bias, activation) and the pooling after it as one kernel, for inference.

Each chunk of samples runs the convolution into scratch of its own (``conv_rows`` or
``conv_taps_rows`` from ``convolution.py``, or Winograd's F(2x2, 3x3) from ``winograd.py``)
and pools it from there while it is in cache: the convolution's full output never goes to
memory and back. In the MNIST convnet's predict (batch 128) the first convolution writes
11 MB that its pooling reads again; fused, only the 2.7 MB of pooled values are written.
Winograd's products took its second convolution from 2.9 to 2.1 ms.

There is no backward: a training step needs the convolution's output (and the pooling's
maxima) for the gradient, so it runs the two ops apart. Without Winograd the values are
those of the two ops run apart, bit for bit (each output row of the convolution is computed
the same way in any chunk, and pooling only compares or averages them); with it, the same
to rounding (float32: about 1e-6 relative).
"""

import numpy as np

from . import activations, convolution, winograd
from ._jit import even_chunk, njit_pair, prange
from .activations import LINEAR
from .convolution import bias_activation_rows, conv_rows, conv_taps_rows
from .pooling import _avg_pool_forward_serial, _max_pool_values_serial
from .winograd import winograd_rows


# How a chunk is convolved: im2col rows times the kernel, the input times the tap kernel
# (convolution.output_side), or Winograd's F(2x2, 3x3) (winograd.applies).
IM2COL, OUTPUT_SIDE, WINOGRAD = 0, 1, 2


def _conv_pool_chunks(x, kernel, method, bias, code, alpha, after_pool, ksize, strides, dilation,
                      pad, out_size, n_chunks, pool_max, pool, pool_strides, pool_pad, out):
    # kernel: the (taps * C, F) matrix (IM2COL), the (C, taps * F) tap kernel (OUTPUT_SIDE)
    # or the (16 * C, F) transformed kernel (WINOGRAD). out (N, PD, PH, PW, F) gets each
    # chunk's pooled values. after_pool: bias and activation on the pooled values (exact
    # for max pooling when activations.commutes_with_max), a quarter of the work for 2x2.
    n_samples = x.shape[0]
    positions = out_size[0] * out_size[1] * out_size[2]
    filters = out.shape[4]
    if after_pool:
        conv_bias, conv_code = np.empty(0, dtype=bias.dtype), LINEAR
    else:
        conv_bias, conv_code = bias, code
    for c in prange(n_chunks):  # each chunk its own samples
        lo, hi = even_chunk(c, n_samples, n_chunks)
        z = np.empty(((hi - lo) * positions, filters), dtype=x.dtype)
        if method == OUTPUT_SIDE:
            conv_taps_rows(x[lo:hi], kernel, conv_bias, conv_code, alpha, ksize, strides,
                           dilation, pad, out_size, z, z)
        elif method == WINOGRAD:
            winograd_rows(x[lo:hi], kernel, conv_bias, conv_code, alpha, pad, out_size, z, z)
        else:
            block = np.empty((z.shape[0], kernel.shape[0]), dtype=x.dtype)
            conv_rows(x[lo:hi], kernel, conv_bias, conv_code, alpha, ksize, strides, dilation,
                      pad, out_size, block, z, z)
        z5 = z.reshape((hi - lo, out_size[0], out_size[1], out_size[2], filters))
        pooled = out[lo:hi]
        if pool_max:
            _max_pool_values_serial(z5, pool, pool_strides, pool_pad, pooled)
        else:
            _avg_pool_forward_serial(z5, pool, pool_strides, pool_pad, pooled)
        if after_pool:
            rows = pooled.reshape((pooled.size // filters, filters))
            bias_activation_rows(rows, bias, code, alpha, rows)
    return out


_conv_pool_chunks_serial, _conv_pool_chunks_parallel = njit_pair(_conv_pool_chunks)


def conv_pool_forward(x, w, bias, code, alpha, geometry, pool_max, pool, pool_strides, pool_pad,
                      pool_out_size):
    """pool(f(conv(x, w) + bias)) for one group (``convolution.chunked``): x (N, D, H, W, C)
    and w (KD, KH, KW, C, F) C-contiguous, ``geometry`` the convolution's
    (``convolution.Geometry``); max pooling when ``pool_max``, else average, over windows
    ``pool`` with ``pool_strides`` and ``pool_pad`` zeros before (3 each) into an output of
    spatial size ``pool_out_size``. ``bias`` may be None; ``code``/``alpha`` as in
    kernels.activations. Returns (N, PD, PH, PW, F)."""
    n_samples, in_d, in_h, in_w, channels = x.shape
    in_positions = in_d * in_h * in_w
    filters = w.shape[-1]
    bias = np.empty(0, x.dtype) if bias is None else bias
    out = np.empty((n_samples,) + tuple(pool_out_size) + (filters,), x.dtype)
    if winograd.applies(geometry, channels):
        method, kernel = WINOGRAD, winograd.filter_transform(w)
        tiles = ((geometry.out_size[1] + 1) // 2) * ((geometry.out_size[2] + 1) // 2)
        scratch = 16 * tiles * (channels + 2 * filters)  # tile planes in, out and sums
    elif convolution.output_side(geometry, in_positions, channels, filters):
        method, kernel = OUTPUT_SIDE, convolution.tap_kernel_of(w)
        scratch = in_positions * kernel.shape[1]
    else:
        method, kernel = IM2COL, np.ascontiguousarray(w.reshape(-1, filters))
        scratch = geometry.positions * kernel.shape[0]
    # Chunks by the scratch of a sample, its convolution's output rows included, weighed by
    # measurement (MNIST convnet, batch 128): im2col chunks a quarter of the unfused
    # convolution's (64 chunks: 1.0-1.1 ms, 16: 1.3), Winograd's twice (32 chunks: 2.0 ms,
    # 64-128: 2.1; its 16 products want rows).
    weight = {IM2COL: 4.0, OUTPUT_SIDE: 1.0, WINOGRAD: 0.5}[method]
    n_chunks = convolution.chunk_count(
        n_samples, int(weight * (scratch + geometry.positions * filters)))
    variant = convolution.chunk_variant((_conv_pool_chunks_serial, _conv_pool_chunks_parallel))
    after_pool = bool(pool_max) and activations.commutes_with_max(code, alpha)
    return variant(x, kernel, method, bias, code, float(alpha), after_pool,
                   *geometry.args()[:5], n_chunks, bool(pool_max), tuple(int(v) for v in pool),
                   tuple(int(v) for v in pool_strides), tuple(int(v) for v in pool_pad), out)
