"""Depthwise convolution: forward, input gradient and weight gradient.

Public entry points take channels-last arrays with 2 spatial axes: x (batch, H, W, C), the
kernel in Keras's layout (KH, KW, C, M) with M the depth multiplier, and the output (batch, OH,
OW, C*M) whose channel c*M + m is input channel c convolved with filter m. A 1-D convolution
is the same with H = KH = 1. Padding is given as the zeros before each axis (`ph`, `pw`);
taps that fall outside the input are skipped (they would read zeros).

Direct loops, not im2col + GEMM: a depthwise convolution does only KH*KW multiply-adds per
output element and never mixes channels, so there is no matrix product for BLAS to speed up.
Inside the kernels the multiplier axis comes before the channel axis ((M, C) where Keras has
(C, M)), so that every innermost loop runs over contiguous channels from index 0 and
vectorises: with Keras's interleaved order the M > 1 forward pass ran 7x slower. The entry
points transpose to and from Keras's order (no copy when M = 1, the usual case).

Threads (2-core box, §7.3's six separable layers at batch 32, forward + both gradients with
the pointwise GEMMs in between; medians of quiet runs): serial kernels + multi-threaded BLAS
97 ms, prange kernels + multi-threaded BLAS 130-160 ms, serial kernels + 1-thread BLAS
115 ms, prange kernels + 1-thread BLAS 77 ms. With BLAS multi-threaded, as the project runs
it, the serial variant wins, so the entry points keep the shared `pick` threshold (parallel
only for very large work).
"""

import numpy as np

from ._jit import dtype_const, njit_pair, pick, prange


def _depthwise_forward(x, w, sh, sw, dh, dw, ph, pw, out):
    # x (N, H, W, C), w (KH, KW, M, C), out (N, OH, OW, M, C)
    n_batch, height, width, channels = x.shape
    k_h, k_w, mult = w.shape[0], w.shape[1], w.shape[2]
    out_h, out_w = out.shape[1], out.shape[2]
    for n in prange(n_batch):  # each thread writes its own samples
        for oh in range(out_h):
            for ow in range(out_w):
                for m in range(mult):
                    for c in range(channels):
                        out[n, oh, ow, m, c] = 0
                for kh in range(k_h):
                    ih = oh * sh + kh * dh - ph
                    if ih < 0 or ih >= height:
                        continue
                    for kw in range(k_w):
                        iw = ow * sw + kw * dw - pw
                        if iw < 0 or iw >= width:
                            continue
                        for m in range(mult):
                            for c in range(channels):
                                out[n, oh, ow, m, c] += x[n, ih, iw, c] * w[kh, kw, m, c]
    return out


def _depthwise_backward_input(g, w, sh, sw, dh, dw, ph, pw, dx):
    # g (N, OH, OW, M, C), w (KH, KW, M, C), dx (N, H, W, C)
    n_batch, height, width, channels = dx.shape
    k_h, k_w, mult = w.shape[0], w.shape[1], w.shape[2]
    out_h, out_w = g.shape[1], g.shape[2]
    for n in prange(n_batch):  # each thread scatters into its own samples only
        for ih in range(height):
            for iw in range(width):
                for c in range(channels):
                    dx[n, ih, iw, c] = 0
        for oh in range(out_h):
            for ow in range(out_w):
                for kh in range(k_h):
                    ih = oh * sh + kh * dh - ph
                    if ih < 0 or ih >= height:
                        continue
                    for kw in range(k_w):
                        iw = ow * sw + kw * dw - pw
                        if iw < 0 or iw >= width:
                            continue
                        for m in range(mult):
                            for c in range(channels):
                                dx[n, ih, iw, c] += g[n, oh, ow, m, c] * w[kh, kw, m, c]
    return dx


def _depthwise_backward_weight(x, g, sh, sw, dh, dw, ph, pw, partial, dk):
    # x (N, H, W, C), g (N, OH, OW, M, C), partial (N, KH, KW, M, C), dk (KH, KW, M, C).
    # Parallel over the batch: each thread sums its samples' gradients into their own
    # partial[n], which are then added in sample order (no shared sum; the same result
    # serial or parallel, and shorter float32 sums). Splitting over channel blocks instead
    # measured 3-4x slower: inner loops over a channel sub-range do not vectorise.
    n_batch, height, width, channels = x.shape
    k_h, k_w, mult = dk.shape[0], dk.shape[1], dk.shape[2]
    out_h, out_w = g.shape[1], g.shape[2]
    for n in prange(n_batch):
        part = partial[n]
        for kh in range(k_h):
            for kw in range(k_w):
                for m in range(mult):
                    for c in range(channels):
                        part[kh, kw, m, c] = 0
        for oh in range(out_h):
            for ow in range(out_w):
                for kh in range(k_h):
                    ih = oh * sh + kh * dh - ph
                    if ih < 0 or ih >= height:
                        continue
                    for kw in range(k_w):
                        iw = ow * sw + kw * dw - pw
                        if iw < 0 or iw >= width:
                            continue
                        for m in range(mult):
                            for c in range(channels):
                                part[kh, kw, m, c] += x[n, ih, iw, c] * g[n, oh, ow, m, c]
    for kh in range(k_h):
        for kw in range(k_w):
            for m in range(mult):
                for c in range(channels):
                    acc = dtype_const(dk, 0.0)
                    for n in range(n_batch):
                        acc += partial[n, kh, kw, m, c]
                    dk[kh, kw, m, c] = acc
    return dk


_depthwise_forward_serial, _depthwise_forward_parallel = njit_pair(_depthwise_forward)
_depthwise_backward_input_serial, _depthwise_backward_input_parallel = njit_pair(
    _depthwise_backward_input
)
_depthwise_backward_weight_serial, _depthwise_backward_weight_parallel = njit_pair(
    _depthwise_backward_weight
)


# ------------------------------------------------------------ entry points


def _geometry(strides, dilation, pads):
    (sh, sw), (dh, dw), (ph, pw) = strides, dilation, pads
    return int(sh), int(sw), int(dh), int(dw), int(ph), int(pw)


def _multiplier_major(array, lead, channels, mult):
    """`array` viewed as lead + (C, M) (Keras's order) -> contiguous lead + (M, C)."""
    split = array.reshape(lead + (channels, mult))
    if mult == 1:
        return np.ascontiguousarray(split).reshape(lead + (1, channels))
    return np.ascontiguousarray(np.swapaxes(split, -1, -2))


def _keras_order(array, into):
    """Contiguous lead + (M, C) -> `into` (C-contiguous, lead + (C*M,) or lead + (C, M))."""
    lead, (mult, channels) = array.shape[:-2], array.shape[-2:]
    np.copyto(into.reshape(lead + (channels, mult)), np.swapaxes(array, -1, -2))
    return into


def depthwise_forward(x, kernel, strides, dilation, pads, out):
    """out (batch, OH, OW, C*M) = depthwise convolution of x (batch, H, W, C) with kernel
    (KH, KW, C, M); `strides`, `dilation` and `pads` (zeros before each axis) are pairs."""
    k_h, k_w, channels, mult = kernel.shape
    w = _multiplier_major(kernel, (k_h, k_w), channels, mult)
    x = np.ascontiguousarray(x)
    fn = pick((_depthwise_forward_serial, _depthwise_forward_parallel), out.size)
    if mult == 1 and out.flags.c_contiguous:
        fn(x, w, *_geometry(strides, dilation, pads), out.reshape(out.shape[:3] + (1, channels)))
        return out
    result = np.empty(out.shape[:3] + (mult, channels), dtype=out.dtype)
    fn(x, w, *_geometry(strides, dilation, pads), result)
    return _keras_order(result, out)


def depthwise_backward_input(g, kernel, strides, dilation, pads, dx):
    """dx (batch, H, W, C): gradient of the input from the output gradient g (batch, OH, OW,
    C*M)."""
    k_h, k_w, channels, mult = kernel.shape
    fn = pick((_depthwise_backward_input_serial, _depthwise_backward_input_parallel), g.size)
    return fn(_multiplier_major(g, g.shape[:3], channels, mult),
              _multiplier_major(kernel, (k_h, k_w), channels, mult),
              *_geometry(strides, dilation, pads), dx)


def depthwise_backward_weight(x, g, strides, dilation, pads, dk):
    """dk (KH, KW, C, M): gradient of the kernel from the input x and the output gradient g."""
    k_h, k_w, channels, mult = dk.shape
    partial = np.empty((x.shape[0], k_h, k_w, mult, channels), dtype=dk.dtype)
    result = np.empty((k_h, k_w, mult, channels), dtype=dk.dtype)
    fn = pick((_depthwise_backward_weight_serial, _depthwise_backward_weight_parallel), g.size)
    fn(np.ascontiguousarray(x), _multiplier_major(g, g.shape[:3], channels, mult),
       *_geometry(strides, dilation, pads), partial, result)
    return _keras_order(result, dk)
