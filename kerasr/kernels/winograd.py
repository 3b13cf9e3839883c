"""Winograd's minimal filtering F(2x2, 3x3) for 3x3 convolutions with stride and dilation 1:
each 2x2 block of outputs from a 4x4 tile of input in 16 products per channel and filter
instead of 36 (Lavin & Gray, "Fast Algorithms for Convolutional Neural Networks", 2016).

    Y = A^T [ (G g G^T) . (B^T d B) ] A

g the 3x3 kernel of one (channel, filter), d a 4x4 input tile (tiles step by 2), the
product elementwise and summed over channels: 16 matrix products (tiles, C) @ (C, F), one
per tile position k = 4 i + j. B^T, G and A^T are the F(2, 3) matrices below.

The transforms are separable: pairs (input) and triples (output) of rows added, first along
W then along H, each a loop with one output and two or three inputs along contiguous memory
(channels, or whole tiles x filters planes) that LLVM vectorises; arrays are indexed
directly, not through views made per tile (each costs a reference count: 13 us a sample
against 3 for the MNIST convnet's second convolution, whose products take 17).

Used for inference only (``conv_pool.py``): the rounding differs from the direct sum in the
last bits (float32: about 1e-6 relative), and the training step keeps the im2col rows that
its weight gradient reuses.
"""

import numpy as np

from ._jit import njit_helper
from .convolution import bias_activation_rows

# F(2, 3): B^T = [[1, 0, -1, 0], [0, 1, 1, 0], [0, -1, 1, 0], [0, 1, 0, -1]],
# G = [[1, 0, 0], [1/2, 1/2, 1/2], [1/2, -1/2, 1/2], [0, 0, 1]],
# A^T = [[1, 1, 1, 0], [0, 1, -1, -1]].
_G = np.array([[1.0, 0.0, 0.0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0.0, 0.0, 1.0]])

# Computed outputs (2x2 per tile) that must land in the output for the method to pay: the
# MNIST convnet's 11x11 output uses 121 of 144 (its 3x3 third convolution, 9 of 16, ran no
# faster than im2col).
MIN_USED_FRACTION = 0.75
# Channels in: with fewer the 16 products are too thin (one channel: 17 GFLOP/s).
MIN_CHANNELS = 8


def applies(geometry, channels):
    """True for a one-group 2D 3x3 convolution with stride and dilation 1, enough input
    channels and little of the last tiles wasted."""
    if (geometry.ksize != (1, 3, 3) or geometry.strides != (1, 1, 1)
            or geometry.dilation != (1, 1, 1) or geometry.groups != 1
            or geometry.out_size[0] != 1 or channels < MIN_CHANNELS):
        return False
    _, out_h, out_w = geometry.out_size
    computed = 4 * ((out_h + 1) // 2) * ((out_w + 1) // 2)
    return out_h * out_w >= MIN_USED_FRACTION * computed


def filter_transform(w):
    """U = G g G^T of each (channel, filter) of the (1, 3, 3, C, F) kernel w, as (16 * C, F)
    in w's dtype: row k * C + c holds tile position k = 4 i + j (computed in float64)."""
    _, _, _, channels, filters = w.shape
    u = np.empty((16, channels * filters), w.dtype)
    _filter_transform(np.ascontiguousarray(w).reshape(3, 3, channels * filters), u)
    return u.reshape(16 * channels, filters)


@njit_helper
def _filter_transform(g, u):
    # u[4 i + j] = (G g G^T)[i, j] for every column of g (3, 3, n), in float64: G g row by
    # row into t (4, 3, n), then (.) G^T (np.einsum took 0.2 ms of a 4 ms MNIST predict
    # batch; these loops 0.01)
    n = g.shape[2]
    t = np.empty((4, 3, n))
    for b in range(3):
        for q in range(n):
            t[0, b, q] = g[0, b, q]
        for q in range(n):
            t[1, b, q] = 0.5 * (np.float64(g[0, b, q]) + g[1, b, q] + g[2, b, q])
        for q in range(n):
            t[2, b, q] = 0.5 * (np.float64(g[0, b, q]) - g[1, b, q] + g[2, b, q])
        for q in range(n):
            t[3, b, q] = g[2, b, q]
    for i in range(4):
        for q in range(n):
            u[4 * i, q] = t[i, 0, q]
        for q in range(n):
            u[4 * i + 1, q] = 0.5 * (t[i, 0, q] + t[i, 1, q] + t[i, 2, q])
        for q in range(n):
            u[4 * i + 2, q] = 0.5 * (t[i, 0, q] - t[i, 1, q] + t[i, 2, q])
        for q in range(n):
            u[4 * i + 3, q] = t[i, 2, q]


@njit_helper
def _pad_chunk(x, pad_h, pad_w, xp):
    # xp (S, Hp, Wp, C) = x (S, 1, H, W, C) with pad_h / pad_w zeros before, zeros after.
    n_samples, _, size_h, size_w, channels = x.shape
    for n in range(n_samples):
        for i in range(xp.shape[1]):
            h = i - pad_h
            for j in range(xp.shape[2]):
                w = j - pad_w
                if 0 <= h < size_h and 0 <= w < size_w:
                    for c in range(channels):
                        xp[n, i, j, c] = x[n, 0, h, w, c]
                else:
                    for c in range(channels):
                        xp[n, i, j, c] = 0


# The loops below index the arrays directly: views made per tile (line[2 * tx], ...) cost
# a reference count each, which took most of the time (13 us a sample against 2).


@njit_helper
def _input_transform(xp, tiles_h, tiles_w, e, v):
    # V = B^T d B: along W into e (S, Hp, 4, tiles_w * C), then along H into
    # v (16, S * tiles_h, tiles_w * C), whose plane k is the (tiles, C) matrix of position k.
    n_samples, rows, _, channels = xp.shape
    for n in range(n_samples):
        for h in range(rows):
            for tx in range(tiles_w):
                w0 = 2 * tx
                q0 = tx * channels
                for c in range(channels):
                    e[n, h, 0, q0 + c] = xp[n, h, w0, c] - xp[n, h, w0 + 2, c]
                for c in range(channels):
                    e[n, h, 1, q0 + c] = xp[n, h, w0 + 1, c] + xp[n, h, w0 + 2, c]
                for c in range(channels):
                    e[n, h, 2, q0 + c] = xp[n, h, w0 + 2, c] - xp[n, h, w0 + 1, c]
                for c in range(channels):
                    e[n, h, 3, q0 + c] = xp[n, h, w0 + 1, c] - xp[n, h, w0 + 3, c]
    run = e.shape[3]
    for n in range(n_samples):
        for ty in range(tiles_h):
            h0 = 2 * ty
            line = n * tiles_h + ty
            for j in range(4):
                for q in range(run):
                    v[j, line, q] = e[n, h0, j, q] - e[n, h0 + 2, j, q]
                for q in range(run):
                    v[4 + j, line, q] = e[n, h0 + 1, j, q] + e[n, h0 + 2, j, q]
                for q in range(run):
                    v[8 + j, line, q] = e[n, h0 + 2, j, q] - e[n, h0 + 1, j, q]
                for q in range(run):
                    v[12 + j, line, q] = e[n, h0 + 1, j, q] - e[n, h0 + 3, j, q]


@njit_helper
def _output_transform(m, s, tiles_h, tiles_w, out_h, out_w, z):
    # Y = A^T M A: along H over whole planes (tiles * F each), m (16, .) into s (8, .), then
    # along W, each output straight into its row of z (N * OH * OW, F) if it lies inside.
    size = m.shape[1]
    for j in range(4):
        for q in range(size):
            s[j, q] = m[j, q] + m[4 + j, q] + m[8 + j, q]
        for q in range(size):
            s[4 + j, q] = m[4 + j, q] - m[8 + j, q] - m[12 + j, q]
    filters = z.shape[1]
    s3 = s.reshape(8, size // filters, filters)
    n_samples = s3.shape[1] // (tiles_h * tiles_w)
    for n in range(n_samples):
        for ty in range(tiles_h):
            for a in range(2):
                oy = 2 * ty + a
                if oy >= out_h:
                    continue
                for tx in range(tiles_w):
                    t = (n * tiles_h + ty) * tiles_w + tx
                    row = (n * out_h + oy) * out_w + 2 * tx
                    for f in range(filters):
                        z[row, f] = s3[4 * a, t, f] + s3[4 * a + 1, t, f] + s3[4 * a + 2, t, f]
                    if 2 * tx + 1 < out_w:
                        for f in range(filters):
                            z[row + 1, f] = (s3[4 * a + 1, t, f] - s3[4 * a + 2, t, f]
                                             - s3[4 * a + 3, t, f])


@njit_helper
def winograd_rows(x, u, bias, code, alpha, pad, out_size, z, a):
    """One chunk of samples x (S, 1, H, W, C) through F(2x2, 3x3), serially: z (S * OH * OW,
    F) = conv(x, w) + bias with u = filter_transform(w), a = f(z) (a may be z); ``pad`` and
    ``out_size`` as Geometry's (3 each, the leading ones unused)."""
    n_samples, _, _, _, channels = x.shape
    filters = u.shape[1]
    out_h, out_w = out_size[1], out_size[2]
    tiles_h, tiles_w = (out_h + 1) // 2, (out_w + 1) // 2
    tiles = n_samples * tiles_h * tiles_w
    xp = np.empty((n_samples, 2 * tiles_h + 2, 2 * tiles_w + 2, channels), x.dtype)
    _pad_chunk(x, pad[1], pad[2], xp)
    e = np.empty((n_samples, xp.shape[1], 4, tiles_w * channels), x.dtype)
    v = np.empty((16, tiles, channels), x.dtype)
    _input_transform(xp, tiles_h, tiles_w, e, v.reshape(16, n_samples * tiles_h,
                                                        tiles_w * channels))
    m = np.empty((16, tiles, filters), x.dtype)
    u3 = u.reshape(16, channels, filters)
    for k in range(16):
        np.dot(v[k], u3[k], m[k])
    s = np.empty((8, tiles * filters), x.dtype)
    _output_transform(m.reshape(16, tiles * filters), s, tiles_h, tiles_w, out_h, out_w, z)
    bias_activation_rows(z, bias, code, alpha, a)
