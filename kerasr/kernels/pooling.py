"""Pooling and upsampling, forward and backward, channels_last.

Windowed pooling and nearest upsampling are rank-generic: 1-D and 2-D inputs come in as
3-D views with singleton leading spatial axes, (batch, d, h, w, channels). Global pooling
and k-max pooling take a (batch, steps, channels) view. Every kernel loops over the batch
with ``prange`` (each thread writes its own samples, backward kernels zero and accumulate
their own samples' gradients), and keeps the channels innermost, where the memory is
contiguous and the loops vectorise.

Threading: the public functions take the parallel variant from ``PARALLEL_MIN_ELEMENTS``
(2^16) when Numba has more than one thread. Pooling sits between convolutions, whose
chunked kernels run on Numba's threads with their BLAS held to one thread (see
``convolution.py``), so no second thread pool is awake beside it. Measured on the 2-core
box, max pooling 2x2 forward + backward, float32, batch 64 (medians, ms):

    (64, 26, 26, 32)           serial   parallel     (64, 11, 11, 64)   serial   parallel
    alone                        1.0    0.5-0.6                          0.3     0.15
    after a 2-thread GEMM        2.4    4-11                             0.8     0.6-2.7
    after a 1-thread GEMM        2.4    1.3-1.5                          0.8     0.6

(The middle row is why kernels next to numpy's two-thread GEMMs stay serial, see
``_jit.PARALLEL_MIN_ELEMENTS``.)
"""

import math

import numba
import numpy as np

from ._jit import dtype_const, njit_helper, njit_pair, prange

# k-max pooling keeps a sorted top-k buffer per column up to this k (O(steps) on typical
# data); above it, one stable argsort per column is cheaper.
_KMAX_INSERTION_MAX_K = 32


# ---------------------------------------------------------------- windowed pooling


@njit_helper
def _window(o, stride, pad, pool, size):
    """[lo, hi): the inputs of output o's window that lie inside an axis of ``size``."""
    start = o * stride - pad
    return max(start, 0), min(start + pool, size)


@njit_helper
def _tiles_2x2(x, pool, strides, pad, out):
    """True for 2x2 windows with stride 2 and no padding, every window inside the input:
    the max pooling kernels' fast path."""
    return (pool[0] == 1 and pool[1] == 2 and pool[2] == 2 and strides[0] == 1
            and strides[1] == 2 and strides[2] == 2 and pad[0] == 0 and pad[1] == 0
            and pad[2] == 0 and out.shape[1] <= x.shape[1] and 2 * out.shape[2] <= x.shape[2]
            and 2 * out.shape[3] <= x.shape[3])


@njit_helper
def _max_pool_2x2_line(x, out, arg, n, od, oh):
    # One output line of 2x2 / stride 2 pooling, windows all inside: the four rows of a
    # window compared channel by channel in registers, selects instead of branches (the
    # loop over channels vectorises), each result stored once. Same rule as the general
    # loop: the first maximum in window order wins ties, a NaN is taken and then kept.
    # (26 x 26 x 32 float32, batch 128: 0.79 -> 0.57 ms; float64 about even.)
    channels = x.shape[4]
    h_in, w_in = x.shape[2], x.shape[3]
    best = out[n, od, oh]
    where = arg[n, od, oh]
    top = x[n, od, 2 * oh]
    bottom = x[n, od, 2 * oh + 1]
    for ow in range(out.shape[3]):
        p00 = (od * h_in + 2 * oh) * w_in + 2 * ow
        p10 = p00 + w_in
        r00, r01 = top[2 * ow], top[2 * ow + 1]
        r10, r11 = bottom[2 * ow], bottom[2 * ow + 1]
        b_out = best[ow]
        w_out = where[ow]
        for c in range(channels):
            m = r00[c]
            at = p00
            v = r01[c]
            take = (v > m) | ((v != v) & (m == m))
            m = v if take else m
            at = p00 + 1 if take else at
            v = r10[c]
            take = (v > m) | ((v != v) & (m == m))
            m = v if take else m
            at = p10 if take else at
            v = r11[c]
            take = (v > m) | ((v != v) & (m == m))
            m = v if take else m
            at = p10 + 1 if take else at
            b_out[c] = m
            w_out[c] = at


def _max_pool_forward(x, pool, strides, pad, out, arg):
    n_batch, d_in, h_in, w_in, channels = x.shape
    d_out, h_out, w_out = out.shape[1], out.shape[2], out.shape[3]
    neg_inf = dtype_const(x, -np.inf)
    if _tiles_2x2(x, pool, strides, pad, out):
        for n in prange(n_batch):
            for od in range(d_out):
                for oh in range(h_out):
                    _max_pool_2x2_line(x, out, arg, n, od, oh)
        return out, arg
    for n in prange(n_batch):
        for od in range(d_out):
            d_lo, d_hi = _window(od, strides[0], pad[0], pool[0], d_in)
            for oh in range(h_out):
                h_lo, h_hi = _window(oh, strides[1], pad[1], pool[1], h_in)
                for ow in range(w_out):
                    w_lo, w_hi = _window(ow, strides[2], pad[2], pool[2], w_in)
                    best = out[n, od, oh, ow]
                    where = arg[n, od, oh, ow]
                    first = (d_lo * h_in + h_lo) * w_in + w_lo
                    for c in range(channels):
                        best[c] = neg_inf
                        where[c] = first
                    for d in range(d_lo, d_hi):
                        for h in range(h_lo, h_hi):
                            for w in range(w_lo, w_hi):
                                row = x[n, d, h, w]
                                position = (d * h_in + h) * w_in + w
                                for c in range(channels):
                                    v = row[c]
                                    # The first maximum in window order wins ties (as
                                    # TensorFlow); a NaN is taken and then kept.
                                    if v > best[c] or (math.isnan(v) and not math.isnan(best[c])):
                                        best[c] = v
                                        where[c] = position
    return out, arg


@njit_helper
def _max_2x2_values_line(x, out, n, od, oh):
    # _max_pool_2x2_line without the positions, for inference (same rule: a NaN is kept).
    channels = x.shape[4]
    best = out[n, od, oh]
    top = x[n, od, 2 * oh]
    bottom = x[n, od, 2 * oh + 1]
    for ow in range(out.shape[3]):
        r00, r01 = top[2 * ow], top[2 * ow + 1]
        r10, r11 = bottom[2 * ow], bottom[2 * ow + 1]
        b_out = best[ow]
        for c in range(channels):
            m = r00[c]
            v = r01[c]
            m = v if (v > m) | ((v != v) & (m == m)) else m
            v = r10[c]
            m = v if (v > m) | ((v != v) & (m == m)) else m
            v = r11[c]
            m = v if (v > m) | ((v != v) & (m == m)) else m
            b_out[c] = m


def _max_pool_values(x, pool, strides, pad, out):
    # _max_pool_forward without the argmax, for inference: no int32 array written beside
    # the values, and the 2x2 windows' loop free of the position selects.
    n_batch, d_in, h_in, w_in, channels = x.shape
    d_out, h_out, w_out = out.shape[1], out.shape[2], out.shape[3]
    neg_inf = dtype_const(x, -np.inf)
    if _tiles_2x2(x, pool, strides, pad, out):
        for n in prange(n_batch):
            for od in range(d_out):
                for oh in range(h_out):
                    _max_2x2_values_line(x, out, n, od, oh)
        return out
    for n in prange(n_batch):
        for od in range(d_out):
            d_lo, d_hi = _window(od, strides[0], pad[0], pool[0], d_in)
            for oh in range(h_out):
                h_lo, h_hi = _window(oh, strides[1], pad[1], pool[1], h_in)
                for ow in range(w_out):
                    w_lo, w_hi = _window(ow, strides[2], pad[2], pool[2], w_in)
                    best = out[n, od, oh, ow]
                    for c in range(channels):
                        best[c] = neg_inf
                    for d in range(d_lo, d_hi):
                        for h in range(h_lo, h_hi):
                            for w in range(w_lo, w_hi):
                                row = x[n, d, h, w]
                                for c in range(channels):
                                    v = row[c]
                                    m = best[c]
                                    best[c] = v if (v > m) | ((v != v) & (m == m)) else m
    return out


def _max_pool_backward(g, arg, dx):
    # g, arg: (batch, output positions, channels); dx: (batch, input positions, channels).
    n_batch, n_out, channels = g.shape
    per_sample = dx.shape[1] * channels
    # Flat per-sample views: the zeroing vectorises (10-15% faster than dx[n, s, c]).
    for n in prange(n_batch):
        sample = dx[n].reshape(-1)
        for t in range(per_sample):
            sample[t] = 0
        g_n = g[n]
        arg_n = arg[n]
        for p in range(n_out):
            g_row = g_n[p]
            arg_row = arg_n[p]
            for c in range(channels):
                sample[arg_row[c] * channels + c] += g_row[c]
    return dx


def _avg_pool_forward(x, pool, strides, pad, out):
    n_batch, d_in, h_in, w_in, channels = x.shape
    d_out, h_out, w_out = out.shape[1], out.shape[2], out.shape[3]
    one = dtype_const(x, 1.0)
    for n in prange(n_batch):
        for od in range(d_out):
            d_lo, d_hi = _window(od, strides[0], pad[0], pool[0], d_in)
            for oh in range(h_out):
                h_lo, h_hi = _window(oh, strides[1], pad[1], pool[1], h_in)
                for ow in range(w_out):
                    w_lo, w_hi = _window(ow, strides[2], pad[2], pool[2], w_in)
                    acc = out[n, od, oh, ow]
                    for c in range(channels):
                        acc[c] = 0
                    for d in range(d_lo, d_hi):
                        for h in range(h_lo, h_hi):
                            for w in range(w_lo, w_hi):
                                row = x[n, d, h, w]
                                for c in range(channels):
                                    acc[c] += row[c]
                    # Padded entries do not count ("same" borders average fewer values).
                    scale = one / ((d_hi - d_lo) * (h_hi - h_lo) * (w_hi - w_lo))
                    for c in range(channels):
                        acc[c] *= scale
    return out


def _avg_pool_backward(g, pool, strides, pad, dx):
    n_batch, d_in, h_in, w_in, channels = dx.shape
    d_out, h_out, w_out = g.shape[1], g.shape[2], g.shape[3]
    one = dtype_const(g, 1.0)
    for n in prange(n_batch):
        for d in range(d_in):
            for h in range(h_in):
                for w in range(w_in):
                    for c in range(channels):
                        dx[n, d, h, w, c] = 0
        for od in range(d_out):
            d_lo, d_hi = _window(od, strides[0], pad[0], pool[0], d_in)
            for oh in range(h_out):
                h_lo, h_hi = _window(oh, strides[1], pad[1], pool[1], h_in)
                for ow in range(w_out):
                    w_lo, w_hi = _window(ow, strides[2], pad[2], pool[2], w_in)
                    scale = one / ((d_hi - d_lo) * (h_hi - h_lo) * (w_hi - w_lo))
                    grow = g[n, od, oh, ow]
                    for d in range(d_lo, d_hi):
                        for h in range(h_lo, h_hi):
                            for w in range(w_lo, w_hi):
                                row = dx[n, d, h, w]
                                for c in range(channels):
                                    row[c] += grow[c] * scale
    return dx


# ---------------------------------------------------------------- global pooling


def _global_max_forward(x, out, arg):
    n_batch, steps, channels = x.shape
    neg_inf = dtype_const(x, -np.inf)
    for n in prange(n_batch):
        best = out[n]
        where = arg[n]
        for c in range(channels):
            best[c] = neg_inf
            where[c] = 0
        for s in range(steps):
            row = x[n, s]
            for c in range(channels):
                v = row[c]
                if v > best[c] or (math.isnan(v) and not math.isnan(best[c])):
                    best[c] = v
                    where[c] = s
    return out, arg


def _global_max_backward(g, arg, dx):
    n_batch, steps, channels = dx.shape
    for n in prange(n_batch):
        for s in range(steps):
            for c in range(channels):
                dx[n, s, c] = 0
        for c in range(channels):
            dx[n, arg[n, c], c] = g[n, c]
    return dx


def _global_avg_forward(x, out):
    n_batch, steps, channels = x.shape
    scale = dtype_const(x, 1.0) / steps
    for n in prange(n_batch):
        acc = out[n]
        for c in range(channels):
            acc[c] = 0
        for s in range(steps):
            row = x[n, s]
            for c in range(channels):
                acc[c] += row[c]
        for c in range(channels):
            acc[c] *= scale
    return out


def _global_avg_backward(g, dx):
    n_batch, steps, channels = dx.shape
    scale = dtype_const(g, 1.0) / steps
    for n in prange(n_batch):
        for s in range(steps):
            for c in range(channels):
                dx[n, s, c] = g[n, c] * scale
    return dx


# ---------------------------------------------------------------- k-max pooling over time


def _k_max_forward(x, k, out, idx):
    n_batch, steps, channels = x.shape
    for n in prange(n_batch):
        values = np.empty(k, dtype=x.dtype)
        times = np.empty(k, dtype=np.int64)
        column = np.empty(steps, dtype=x.dtype)
        for c in range(channels):
            if k <= _KMAX_INSERTION_MAX_K:
                # A buffer of the k largest so far, by decreasing value; an equal later
                # value goes behind the earlier ones, so ties keep the earliest steps.
                count = 0
                for t in range(steps):
                    v = x[n, t, c]
                    if count == k and not v > values[k - 1]:
                        continue
                    i = count if count < k else k - 1
                    while i > 0 and values[i - 1] < v:
                        values[i] = values[i - 1]
                        times[i] = times[i - 1]
                        i -= 1
                    values[i] = v
                    times[i] = t
                    if count < k:
                        count += 1
            else:
                for t in range(steps):
                    column[t] = -x[n, t, c]
                order = np.argsort(column, kind="mergesort")  # stable: ties keep time order
                for j in range(k):
                    times[j] = order[j]
            # Back to time order (insertion sort: k is small or the indices nearly sorted).
            for j in range(1, k):
                t = times[j]
                i = j
                while i > 0 and times[i - 1] > t:
                    times[i] = times[i - 1]
                    i -= 1
                times[i] = t
            for j in range(k):
                idx[n, j, c] = times[j]
                out[n, j, c] = x[n, times[j], c]
    return out, idx


def _k_max_backward(g, idx, dx):
    n_batch, steps, channels = dx.shape
    k = g.shape[1]
    for n in prange(n_batch):
        for t in range(steps):
            for c in range(channels):
                dx[n, t, c] = 0
        for j in range(k):
            for c in range(channels):
                dx[n, idx[n, j, c], c] = g[n, j, c]  # the k steps of a column are distinct
    return dx


# ---------------------------------------------------------------- upsampling


def _upsample_nearest_forward(x, size, out):
    n_batch, d_out, h_out, w_out, channels = out.shape
    for n in prange(n_batch):
        for od in range(d_out):
            d = od // size[0]
            for oh in range(h_out):
                h = oh // size[1]
                for ow in range(w_out):
                    row = x[n, d, h, ow // size[2]]
                    target = out[n, od, oh, ow]
                    for c in range(channels):
                        target[c] = row[c]
    return out


def _upsample_nearest_backward(g, size, dx):
    n_batch, d_in, h_in, w_in, channels = dx.shape
    for n in prange(n_batch):
        for d in range(d_in):
            for h in range(h_in):
                for w in range(w_in):
                    acc = dx[n, d, h, w]
                    for c in range(channels):
                        acc[c] = 0
                    for i in range(d * size[0], (d + 1) * size[0]):
                        for j in range(h * size[1], (h + 1) * size[1]):
                            for l in range(w * size[2], (w + 1) * size[2]):
                                row = g[n, i, j, l]
                                for c in range(channels):
                                    acc[c] += row[c]
    return dx


def _upsample_bilinear_forward(x, y0, y1, fy, x0, x1, fx, out):
    # Output row i mixes input rows y0[i] and y1[i] with weights 1 - fy[i] and fy[i];
    # columns likewise (the coordinates are computed by the caller).
    n_batch, h_out, w_out, channels = out.shape
    one = dtype_const(x, 1.0)
    for n in prange(n_batch):
        for i in range(h_out):
            wy1 = fy[i]
            wy0 = one - wy1
            for j in range(w_out):
                wx1 = fx[j]
                wx0 = one - wx1
                a = x[n, y0[i], x0[j]]
                b = x[n, y0[i], x1[j]]
                c_ = x[n, y1[i], x0[j]]
                d = x[n, y1[i], x1[j]]
                target = out[n, i, j]
                for c in range(channels):
                    target[c] = wy0 * (wx0 * a[c] + wx1 * b[c]) + wy1 * (wx0 * c_[c] + wx1 * d[c])
    return out


def _upsample_bilinear_backward(g, y0, y1, fy, x0, x1, fx, dx):
    n_batch, h_in, w_in, channels = dx.shape
    h_out, w_out = g.shape[1], g.shape[2]
    one = dtype_const(g, 1.0)
    for n in prange(n_batch):
        for h in range(h_in):
            for w in range(w_in):
                for c in range(channels):
                    dx[n, h, w, c] = 0
        for i in range(h_out):
            wy1 = fy[i]
            wy0 = one - wy1
            for j in range(w_out):
                wx1 = fx[j]
                wx0 = one - wx1
                grow = g[n, i, j]
                a = dx[n, y0[i], x0[j]]
                b = dx[n, y0[i], x1[j]]
                c_ = dx[n, y1[i], x0[j]]
                d = dx[n, y1[i], x1[j]]
                for c in range(channels):
                    gc = grow[c]
                    a[c] += wy0 * wx0 * gc
                    b[c] += wy0 * wx1 * gc
                    c_[c] += wy1 * wx0 * gc
                    d[c] += wy1 * wx1 * gc
    return dx


_max_pool_forward_serial, _max_pool_forward_parallel = njit_pair(_max_pool_forward)
_max_pool_backward_serial, _max_pool_backward_parallel = njit_pair(_max_pool_backward)
_max_pool_values_serial, _max_pool_values_parallel = njit_pair(_max_pool_values)
_avg_pool_forward_serial, _avg_pool_forward_parallel = njit_pair(_avg_pool_forward)
_avg_pool_backward_serial, _avg_pool_backward_parallel = njit_pair(_avg_pool_backward)
_global_max_forward_serial, _global_max_forward_parallel = njit_pair(_global_max_forward)
_global_max_backward_serial, _global_max_backward_parallel = njit_pair(_global_max_backward)
_global_avg_forward_serial, _global_avg_forward_parallel = njit_pair(_global_avg_forward)
_global_avg_backward_serial, _global_avg_backward_parallel = njit_pair(_global_avg_backward)
_k_max_forward_serial, _k_max_forward_parallel = njit_pair(_k_max_forward)
_k_max_backward_serial, _k_max_backward_parallel = njit_pair(_k_max_backward)
_upsample_nearest_forward_serial, _upsample_nearest_forward_parallel = njit_pair(
    _upsample_nearest_forward)
_upsample_nearest_backward_serial, _upsample_nearest_backward_parallel = njit_pair(
    _upsample_nearest_backward)
_upsample_bilinear_forward_serial, _upsample_bilinear_forward_parallel = njit_pair(
    _upsample_bilinear_forward)
_upsample_bilinear_backward_serial, _upsample_bilinear_backward_parallel = njit_pair(
    _upsample_bilinear_backward)


# ---------------------------------------------------------------- public entry points

PARALLEL_MIN_ELEMENTS = 1 << 16


def pick(pair, n_elements):
    """The parallel dispatcher of ``pair`` from PARALLEL_MIN_ELEMENTS on (see the top)."""
    return pair[1] if n_elements >= PARALLEL_MIN_ELEMENTS and numba.get_num_threads() > 1 \
        else pair[0]


def _triple(values):
    return tuple(int(v) for v in values)


def pool_geometry(spatial, pool, strides, padding):
    """(output sizes, padding before) per spatial axis, by TensorFlow's rules.

    "valid": out = (n - pool) // stride + 1; "same": out = ceil(n / stride), padded by
    max((out - 1) * stride + pool - n, 0) in total, the smaller half before.
    """
    out, before = [], []
    for n, p, s in zip(spatial, pool, strides):
        if padding == "valid":
            o = (n - p) // s + 1
            before.append(0)
        else:
            o = -(-n // s)
            before.append(max((o - 1) * s + p - n, 0) // 2)
        out.append(o)
    return tuple(out), tuple(before)


def max_pool_forward(x, pool, strides, pad, out, arg):
    """Max over windows of the 5-D channels_last x; arg (int32, shaped as out) gets the
    flat spatial index (d * H + h) * W + w of each maximum."""
    kernel = pick((_max_pool_forward_serial, _max_pool_forward_parallel), x.size)
    return kernel(x, _triple(pool), _triple(strides), _triple(pad), out, arg)


def max_pool_values(x, pool, strides, pad, out):
    """``max_pool_forward``'s values alone, for inference (no gradient to route)."""
    kernel = pick((_max_pool_values_serial, _max_pool_values_parallel), x.size)
    return kernel(x, _triple(pool), _triple(strides), _triple(pad), out)


def max_pool_backward(g, arg, dx):
    """dx (batch, input positions, channels) = the gradients g (batch, output positions,
    channels) added at their maxima arg."""
    kernel = pick((_max_pool_backward_serial, _max_pool_backward_parallel), dx.size)
    return kernel(g, arg, dx)


def avg_pool_forward(x, pool, strides, pad, out):
    """Mean over the windows' entries inside the input (5-D channels_last)."""
    kernel = pick((_avg_pool_forward_serial, _avg_pool_forward_parallel), x.size)
    return kernel(x, _triple(pool), _triple(strides), _triple(pad), out)


def avg_pool_backward(g, pool, strides, pad, dx):
    kernel = pick((_avg_pool_backward_serial, _avg_pool_backward_parallel), dx.size)
    return kernel(g, _triple(pool), _triple(strides), _triple(pad), dx)


def global_max_forward(x, out, arg):
    """out[n, c] = max over steps of x (batch, steps, channels); arg the first step of it."""
    kernel = pick((_global_max_forward_serial, _global_max_forward_parallel), x.size)
    return kernel(x, out, arg)


def global_max_backward(g, arg, dx):
    kernel = pick((_global_max_backward_serial, _global_max_backward_parallel), dx.size)
    return kernel(g, arg, dx)


def global_avg_forward(x, out):
    kernel = pick((_global_avg_forward_serial, _global_avg_forward_parallel), x.size)
    return kernel(x, out)


def global_avg_backward(g, dx):
    kernel = pick((_global_avg_backward_serial, _global_avg_backward_parallel), dx.size)
    return kernel(g, dx)


def k_max_forward(x, k, out, idx):
    """The k largest values of each (sample, channel) column of x (batch, steps, channels)
    in time order; idx (int64) gets their steps. Ties keep the earliest steps."""
    kernel = pick((_k_max_forward_serial, _k_max_forward_parallel), x.size)
    return kernel(x, int(k), out, idx)


def k_max_backward(g, idx, dx):
    kernel = pick((_k_max_backward_serial, _k_max_backward_parallel), dx.size)
    return kernel(g, idx, dx)


def upsample_nearest_forward(x, size, out):
    """Repeats each entry of the 5-D channels_last x size[i] times along spatial axis i."""
    kernel = pick((_upsample_nearest_forward_serial, _upsample_nearest_forward_parallel),
                  out.size)
    return kernel(x, _triple(size), out)


def upsample_nearest_backward(g, size, dx):
    kernel = pick((_upsample_nearest_backward_serial, _upsample_nearest_backward_parallel),
                  g.size)
    return kernel(g, _triple(size), dx)


def bilinear_coordinates(n_in, factor, dtype):
    """(lower index, upper index, weight of the upper) per output index, half-pixel centers
    as TensorFlow's resize: source = (i + 0.5) / factor - 0.5, clamped to the input."""
    source = (np.arange(n_in * factor, dtype=np.float64) + 0.5) / factor - 0.5
    floor = np.floor(source)
    lower = np.clip(floor, 0, n_in - 1).astype(np.int64)
    upper = np.clip(np.ceil(source), 0, n_in - 1).astype(np.int64)
    return lower, upper, (source - floor).astype(dtype)


def upsample_bilinear_forward(x, coords_h, coords_w, out):
    """Bilinear resize of the 4-D channels_last x; coords from `bilinear_coordinates`."""
    kernel = pick((_upsample_bilinear_forward_serial, _upsample_bilinear_forward_parallel),
                  out.size)
    return kernel(x, *coords_h, *coords_w, out)


def upsample_bilinear_backward(g, coords_h, coords_w, dx):
    kernel = pick((_upsample_bilinear_backward_serial, _upsample_bilinear_backward_parallel),
                  g.size)
    return kernel(g, *coords_h, *coords_w, dx)
