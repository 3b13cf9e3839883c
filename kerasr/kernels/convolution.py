"""N-d convolution (1D, 2D and 3D through one implementation): forward, input gradient
and weight gradient, with strides, dilation, explicit padding and groups.

Every array is channels_last and 5-D: a 1D or 2D convolution is a 3D one with singleton
leading spatial axes (the views cost nothing). Inputs ``x`` are (N, D, H, W, C), kernels
``w`` Keras's (KD, KH, KW, C // groups, F), outputs (N, OD, OH, OW, F). Output channels
[g * F/groups, (g + 1) * F/groups) read input channels [g * C/groups, (g + 1) * C/groups).
Padding is given as the number of zeros before each spatial axis (``pad``); the output
sizes say where the windows stop, so "valid", "same" and "causal" are all one geometry
(worked out in ``kerasr.ops.convolution``).

How the work is done: matrix products on BLAS, the copies around them in Numba, over the
batch in chunks of samples. Two formulations:
- im2col side: ``_im2col`` copies every window into a row of an (output positions, taps *
  channels) matrix, one GEMM with the (taps * channels, filters) kernel gives the output;
  backward, the same GEMMs transposed, ``_col2im`` adding the column gradients back.
- Output side: one GEMM of the input (input positions, channels) with the
  (channels, taps * filters) tap kernels, then ``_gather_taps`` sums each output's taps;
  backward, ``_spread_taps`` lays the output gradient out per input position and tap, and
  two GEMMs give dx and dw.
``output_side`` takes whichever has the smaller matrices: im2col for the MNIST convnet (few
channels in), the output side for IMDB's first conv1d (128-wide embeddings into 32 filters).
Two drivers:
- Chunked, for one group (``conv_activation_forward`` / ``_backward``: every convolution of
  the book): chunks of samples run in parallel (``chunk_count``), each its rows, its GEMM
  (``np.dot`` inside the kernel, on SciPy's BLAS held to one thread, see ``_blas.py``), bias
  and activation while the chunk is in cache (``_forward_chunks``,
  ``_forward_taps_chunks``); backward likewise dz, per-chunk partial weight and bias
  gradients (added in chunk order) and the chunk's input gradient.
- ``conv_forward`` / ``conv_backward``, for groups and transposed convolutions: serial
  copies around numpy's GEMMs, in chunks within ``COLUMN_BUDGET`` elements. With one input
  channel the im2col matrix is built transposed, (taps, positions), by
  ``_im2col_transposed`` (7x faster copies).
Direct loops lost 10-25x to the GEMMs on the book's shapes (see the entry points).
"""

import numba
import numpy as np

from ._jit import even_chunk, njit_helper, njit_pair, prange, sum_in_chunk_order
from .activations import LINEAR, backward_1d, forward_1d

# Elements of one chunk's matrix (16 MiB in float32): the MNIST convnet's batch of 64 fits in
# one chunk, whose im2col columns the weight gradient then reuses; IMDB's conv1d (57M
# elements through im2col, 14M on the output side) goes through in chunks. Budgets from
# 2^18 to 2^23 timed within 10% of each other.
COLUMN_BUDGET = 1 << 22


# ---------------------------------------------------------------------- im2col / col2im


@njit_helper
def _inside_range(size, out_n, stride, offset):
    """[lo, hi): the outputs o with 0 <= o * stride + offset < size."""
    lo = 0 if offset >= 0 else (-offset + stride - 1) // stride
    last = size - 1 - offset
    hi = 0 if last < 0 else min(out_n, last // stride + 1)
    return min(lo, hi), hi


@njit_helper
def bias_activation_rows(z, bias, code, alpha, out):
    """z += bias (none when empty), then out = f(z), on a chunk's (rows, F) block."""
    if bias.shape[0] > 0:
        for i in range(z.shape[0]):
            row = z[i]
            for f in range(row.shape[0]):
                row[f] += bias[f]
    forward_1d(z.reshape(-1), code, alpha, out.reshape(-1))


@njit_helper
def _chunk_dz(g, z, a, code, alpha, r0, r1, db_parts, c):
    """dz = g * f'(z) over rows [r0, r1), in scratch of its own; db_parts[c] its column sums
    (unless db_parts is empty)."""
    dz = np.empty((r1 - r0, g.shape[1]), dtype=g.dtype)
    backward_1d(z[r0:r1].reshape(-1), a[r0:r1].reshape(-1), g[r0:r1].reshape(-1), code,
                alpha, dz.reshape(-1))
    if db_parts.shape[0] > 0:
        _column_sums(dz, db_parts[c])
    return dz


@njit_helper
def _column_sums(rows, out):
    """out[f] = sum of rows[:, f], rows in order."""
    for f in range(out.shape[0]):
        out[f] = 0
    for i in range(rows.shape[0]):
        row = rows[i]
        for f in range(out.shape[0]):
            out[f] += row[f]


def _im2col(x, ksize, strides, dilation, pad, out_size, groups, cols):
    # cols: (groups, N * OD * OH * OW, KD * KH * KW * C // groups), columns in the order
    # of Keras's kernel (taps, then channels), so kernel.reshape(-1, F) multiplies it.
    # For each output line (n, od, oh) and tap, the outputs along W whose input lies
    # inside are one range: no bounds test per element, and the loop over that range
    # runs with constant strides (a run of C channels each) even when C is 1.
    n_samples, size_d, size_h, size_w, channels = x.shape
    kd, kh, kw = ksize
    sd, sh, sw = strides
    dd, dh, dw = dilation
    pd, ph, pw = pad
    od_n, oh_n, ow_n = out_size
    cg = channels // groups
    n_cols = kd * kh * kw * cg
    n_rows = cols.shape[1]
    xf = x.reshape(-1)
    cf = cols.reshape(-1)
    if groups == 1 and sw == 1 and dw == 1 and channels >= 4:
        # One group, stride and dilation 1 along W: the kw taps of one kernel row read
        # kw * C consecutive input values, copied as one run, and each row of cols is
        # written in order. Taps outside the input (padding) are handled one by one,
        # only at the ends of a line. Runs are copied through views indexed from 0 (see
        # _col2im): 2.5 ms -> 0.85 ms for the MNIST convnet's second convolution at batch
        # 128. For C < 4 the runs are too short: the general loop below, one tap at a time
        # along W, was 2x faster for C = 1.
        span = kw * channels
        # outputs whose kw taps all lie inside: 0 <= ow - pw and ow - pw + kw - 1 < size_w
        full_lo = min(pw, ow_n)
        full_hi = max(full_lo, min(ow_n, size_w - kw + 1 + pw))
        for n in prange(n_samples):  # each sample fills its own rows
            for od in range(od_n):
                for oh in range(oh_n):
                    row0 = ((n * od_n + od) * oh_n + oh) * ow_n
                    for ow in range(ow_n):
                        at = (row0 + ow) * n_cols
                        for a in range(kd):
                            i_d = od * sd - pd + a * dd
                            for b in range(kh):
                                i_h = oh * sh - ph + b * dh
                                if not (0 <= i_d < size_d and 0 <= i_h < size_h):
                                    for t in range(span):
                                        cf[at + t] = 0
                                elif full_lo <= ow < full_hi:
                                    src = (((n * size_d + i_d) * size_h + i_h) * size_w
                                           + ow - pw) * channels
                                    run_in = xf[src:src + span]
                                    run_out = cf[at:at + span]
                                    for t in range(span):
                                        run_out[t] = run_in[t]
                                else:
                                    line = ((n * size_d + i_d) * size_h + i_h) * size_w
                                    for c in range(kw):
                                        i_w = ow - pw + c
                                        dst = at + c * channels
                                        if 0 <= i_w < size_w:
                                            src = (line + i_w) * channels
                                            for t in range(channels):
                                                cf[dst + t] = xf[src + t]
                                        else:
                                            for t in range(channels):
                                                cf[dst + t] = 0
                                at += span
        return cols
    for n in prange(n_samples):  # each sample fills its own rows
        for od in range(od_n):
            for oh in range(oh_n):
                row0 = ((n * od_n + od) * oh_n + oh) * ow_n
                for g in range(groups):
                    plane = (g * n_rows + row0) * n_cols
                    col = 0
                    for a in range(kd):
                        i_d = od * sd - pd + a * dd
                        for b in range(kh):
                            i_h = oh * sh - ph + b * dh
                            line_inside = 0 <= i_d < size_d and 0 <= i_h < size_h
                            line = ((n * size_d + i_d) * size_h + i_h) * size_w
                            for c in range(kw):
                                offset = c * dw - pw
                                lo, hi = _inside_range(size_w, ow_n, sw, offset)
                                if not line_inside:
                                    lo, hi = 0, 0
                                for ow in range(lo):
                                    at = plane + ow * n_cols + col
                                    for t in range(cg):
                                        cf[at + t] = 0
                                src0 = (line + offset) * channels + g * cg
                                if cg == 1:  # no inner loop of one element (2.5x faster)
                                    at = plane + col
                                    step = sw * channels  # channels == groups here
                                    run_out = cf[at + lo * n_cols:at + hi * n_cols:n_cols]
                                    run_in = xf[src0 + lo * step:src0 + hi * step:step]
                                    for k in range(hi - lo):
                                        run_out[k] = run_in[k]
                                else:
                                    for ow in range(lo, hi):
                                        at = plane + ow * n_cols + col
                                        src = src0 + ow * sw * channels
                                        for t in range(cg):
                                            cf[at + t] = xf[src + t]
                                for ow in range(hi, ow_n):
                                    at = plane + ow * n_cols + col
                                    for t in range(cg):
                                        cf[at + t] = 0
                                col += cg
    return cols


def _col2im(dcols, ksize, strides, dilation, pad, out_size, groups, dx):
    # The adjoint of _im2col: dx (N, D, H, W, C) = sum of the column entries that copied
    # each input element. Each sample zeroes and accumulates its own slice of dx, in a
    # fixed order (deterministic whatever the thread count).
    n_samples, size_d, size_h, size_w, channels = dx.shape
    kd, kh, kw = ksize
    sd, sh, sw = strides
    dd, dh, dw = dilation
    pd, ph, pw = pad
    od_n, oh_n, ow_n = out_size
    cg = channels // groups
    n_cols = kd * kh * kw * cg
    n_rows = dcols.shape[1]
    per_sample = size_d * size_h * size_w * channels
    xf = dx.reshape(-1)
    cf = dcols.reshape(-1)
    for n in prange(n_samples):
        # Through views indexed from 0: with a flat index of unknown sign, Numba's
        # negative-index wraparound test in the loop keeps LLVM from vectorising it
        # (3x slower copies here and in _im2col).
        sample = xf[n * per_sample:(n + 1) * per_sample]
        for t in range(per_sample):
            sample[t] = 0
        for od in range(od_n):
            for oh in range(oh_n):
                row0 = ((n * od_n + od) * oh_n + oh) * ow_n
                for g in range(groups):
                    plane = (g * n_rows + row0) * n_cols
                    col = 0
                    for a in range(kd):
                        i_d = od * sd - pd + a * dd
                        for b in range(kh):
                            i_h = oh * sh - ph + b * dh
                            if 0 <= i_d < size_d and 0 <= i_h < size_h:
                                line = ((n * size_d + i_d) * size_h + i_h) * size_w
                                for c in range(kw):
                                    offset = c * dw - pw
                                    lo, hi = _inside_range(size_w, ow_n, sw, offset)
                                    at0 = plane + col + c * cg
                                    dst0 = (line + offset) * channels + g * cg
                                    if cg == 1:
                                        step = sw * channels
                                        run_in = cf[at0 + lo * n_cols:at0 + hi * n_cols:n_cols]
                                        run_out = xf[dst0 + lo * step:dst0 + hi * step:step]
                                        for k in range(hi - lo):
                                            run_out[k] += run_in[k]
                                    else:
                                        for ow in range(lo, hi):
                                            at = at0 + ow * n_cols
                                            dst = dst0 + ow * sw * channels
                                            run_in = cf[at:at + cg]
                                            run_out = xf[dst:dst + cg]
                                            for t in range(cg):
                                                run_out[t] += run_in[t]
                            col += kw * cg
    return dx


def _gather_taps(y, ksize, strides, dilation, pad, out_size, groups, in_size, out):
    # The output-side product: y (groups, N * D * H * W, KD * KH * KW * F/groups) holds, for
    # every input position, its contribution to each tap and filter (x @ kernel); an output
    # sums the contributions of the taps of its window that lie inside the input.
    # out (N * OD * OH * OW, F). Each sample writes its own rows.
    size_d, size_h, size_w = in_size
    kd, kh, kw = ksize
    sd, sh, sw = strides
    dd, dh, dw = dilation
    pd, ph, pw = pad
    od_n, oh_n, ow_n = out_size
    filters = out.shape[1]
    fg = filters // groups
    n_in = y.shape[1]
    n_cols = y.shape[2]
    positions = od_n * oh_n * ow_n
    n_samples = out.shape[0] // positions
    yf = y.reshape(-1)
    for n in prange(n_samples):
        for od in range(od_n):
            for oh in range(oh_n):
                for ow in range(ow_n):
                    row = ((n * od_n + od) * oh_n + oh) * ow_n + ow
                    acc = out[row]
                    for f in range(filters):
                        acc[f] = 0
                    tap = 0
                    for a in range(kd):
                        i_d = od * sd - pd + a * dd
                        for b in range(kh):
                            i_h = oh * sh - ph + b * dh
                            for c in range(kw):
                                i_w = ow * sw - pw + c * dw
                                if (0 <= i_d < size_d and 0 <= i_h < size_h
                                        and 0 <= i_w < size_w):
                                    position = ((n * size_d + i_d) * size_h + i_h) * size_w + i_w
                                    for g in range(groups):
                                        src = (g * n_in + position) * n_cols + tap * fg
                                        for f in range(fg):
                                            acc[g * fg + f] += yf[src + f]
                                tap += 1
    return out


def _spread_taps(dz, ksize, strides, dilation, pad, out_size, groups, in_size, cols):
    # The adjoint of _gather_taps: cols (groups, N * D * H * W, KD * KH * KW * F/groups)
    # gets, at each input position and tap, the gradient of the one output whose window
    # puts that tap there (0 where there is none). dz (N * OD * OH * OW, F).
    size_d, size_h, size_w = in_size
    kd, kh, kw = ksize
    sd, sh, sw = strides
    dd, dh, dw = dilation
    pd, ph, pw = pad
    od_n, oh_n, ow_n = out_size
    filters = dz.shape[1]
    fg = filters // groups
    n_in = cols.shape[1]
    n_cols = cols.shape[2]
    positions = od_n * oh_n * ow_n
    per_sample = size_d * size_h * size_w
    n_samples = dz.shape[0] // positions
    cf = cols.reshape(-1)
    for n in prange(n_samples):  # each sample fills its own rows
        for g in range(groups):
            start = (g * n_in + n * per_sample) * n_cols
            for t in range(start, start + per_sample * n_cols):
                cf[t] = 0
        for od in range(od_n):
            for oh in range(oh_n):
                for ow in range(ow_n):
                    g_row = dz[((n * od_n + od) * oh_n + oh) * ow_n + ow]
                    tap = 0
                    for a in range(kd):
                        i_d = od * sd - pd + a * dd
                        for b in range(kh):
                            i_h = oh * sh - ph + b * dh
                            for c in range(kw):
                                i_w = ow * sw - pw + c * dw
                                if (0 <= i_d < size_d and 0 <= i_h < size_h
                                        and 0 <= i_w < size_w):
                                    position = ((n * size_d + i_d) * size_h + i_h) * size_w + i_w
                                    for g in range(groups):
                                        dst = (g * n_in + position) * n_cols + tap * fg
                                        for f in range(fg):
                                            cf[dst + f] = g_row[g * fg + f]
                                tap += 1
    return cols


def _im2col_transposed(x, ksize, strides, dilation, pad, out_size, cols_t):
    # _im2col's matrix transposed, for one channel and one group: cols_t (taps, >= N * OD *
    # OH * OW) C-contiguous, row ``tap`` holding that tap's input for every output (columns
    # from N * OD * OH * OW on are left alone). Along W each (sample, od, oh, tap) is one
    # run of consecutive outputs, copied with constant strides: for the MNIST convnet's
    # first convolution (batch 64) 0.06 ms against 0.44 ms for _im2col's one-column-at-a-
    # time copies, and BLAS multiplies either layout equally fast (0.28 ms).
    n_samples, size_d, size_h, size_w, _ = x.shape
    kd, kh, kw = ksize
    sd, sh, sw = strides
    dd, dh, dw = dilation
    pd, ph, pw = pad
    od_n, oh_n, ow_n = out_size
    xf = x.reshape(-1)
    tap = 0
    for a in range(kd):
        for b in range(kh):
            for c in range(kw):
                dst = cols_t[tap]
                offset = c * dw - pw
                lo, hi = _inside_range(size_w, ow_n, sw, offset)
                for n in prange(n_samples):  # each sample fills its own columns
                    for od in range(od_n):
                        i_d = od * sd - pd + a * dd
                        for oh in range(oh_n):
                            i_h = oh * sh - ph + b * dh
                            at = ((n * od_n + od) * oh_n + oh) * ow_n
                            run_out = dst[at:at + ow_n]
                            if not (0 <= i_d < size_d and 0 <= i_h < size_h):
                                for k in range(ow_n):
                                    run_out[k] = 0
                                continue
                            for k in range(lo):
                                run_out[k] = 0
                            src0 = ((n * size_d + i_d) * size_h + i_h) * size_w + offset
                            if sw == 1:
                                run_in = xf[src0 + lo:src0 + hi]
                                for k in range(hi - lo):
                                    run_out[lo + k] = run_in[k]
                            else:
                                run_in = xf[src0 + lo * sw:src0 + hi * sw:sw]
                                for k in range(hi - lo):
                                    run_out[lo + k] = run_in[k]
                            for k in range(hi, ow_n):
                                run_out[k] = 0
                tap += 1
    return cols_t


def _forward_chunks(x, w2, bias, code, alpha, ksize, strides, dilation, pad, out_size,
                    n_chunks, cols, z, a):
    # One group. Each of the n_chunks chunks of samples (see chunk_count), while in cache:
    # its im2col rows, one GEMM (np.dot on the kernels' BLAS, one thread: see _blas.py),
    # bias and activation.
    # cols (N * positions, taps * C) keeps the rows for the weight gradient, or is empty
    # (0 rows): each chunk then uses scratch of its own. z gets x * w + bias, a = f(z)
    # (a may be z). bias may be empty (no bias).
    n_samples = x.shape[0]
    positions = out_size[0] * out_size[1] * out_size[2]
    n_cols = w2.shape[0]
    keep = cols.shape[0] > 0
    for c in prange(n_chunks):  # each chunk its own rows
        lo, hi = even_chunk(c, n_samples, n_chunks)
        r0, r1 = lo * positions, hi * positions
        if keep:
            block = cols[r0:r1]
        else:
            block = np.empty((r1 - r0, n_cols), dtype=x.dtype)
        conv_rows(x[lo:hi], w2, bias, code, alpha, ksize, strides, dilation, pad, out_size,
                  block, z[r0:r1], a[r0:r1])
    return a


@njit_helper
def conv_rows(x, w2, bias, code, alpha, ksize, strides, dilation, pad, out_size, block, z, a):
    """One chunk of samples x through the im2col side, serially: block (rows, taps * C) gets
    the im2col rows, z (rows, F) = block @ w2 + bias, a = f(z) (a may be z)."""
    _im2col_serial(x, ksize, strides, dilation, pad, out_size, 1,
                   block.reshape(1, block.shape[0], block.shape[1]))
    np.dot(block, w2, z)
    bias_activation_rows(z, bias, code, alpha, a)


@njit_helper
def conv_taps_rows(x, tap_kernel, bias, code, alpha, ksize, strides, dilation, pad, out_size,
                   z, a):
    """One chunk of samples x through the output side, serially: the input rows times the
    (C, taps * F) tap kernel, each output row of z summing its window's taps, + bias;
    a = f(z) (a may be z)."""
    n_samples, size_d, size_h, size_w, channels = x.shape
    rows_in = n_samples * size_d * size_h * size_w
    y = np.empty((rows_in, tap_kernel.shape[1]), dtype=x.dtype)
    np.dot(x.reshape(rows_in, channels), tap_kernel, y)
    _gather_taps_serial(y.reshape(1, rows_in, tap_kernel.shape[1]), ksize, strides, dilation,
                        pad, out_size, 1, (size_d, size_h, size_w), z)
    bias_activation_rows(z, bias, code, alpha, a)


def _backward_chunks(g, z, a, code, alpha, w2, x, cols, ksize, strides, dilation, pad,
                     out_size, n_chunks, dx, dw_parts, db_parts):
    # The adjoint of _forward_chunks, chunk by chunk: dz = g * f'(z) in the chunk's own
    # scratch (used while in cache); a partial bias gradient (db_parts, or empty) and a
    # partial weight gradient (dw_parts, or empty; from the kept cols, or rows rebuilt from
    # x when cols is empty) per chunk; dx (or empty) = col2im(dz w2^T) for the chunk's own
    # samples. The caller adds the partials in chunk order (chunks depend on the shapes
    # only: serial and parallel agree bit for bit).
    positions = out_size[0] * out_size[1] * out_size[2]
    n_samples = g.shape[0] // positions
    n_cols = w2.shape[0]
    need_dx = dx.shape[0] > 0
    need_dw = dw_parts.shape[0] > 0
    for c in prange(n_chunks):
        lo, hi = even_chunk(c, n_samples, n_chunks)
        r0, r1 = lo * positions, hi * positions
        dz_block = _chunk_dz(g, z, a, code, alpha, r0, r1, db_parts, c)
        if need_dw:
            if cols.shape[0] > 0:
                block = cols[r0:r1]
            else:
                block = np.empty((r1 - r0, n_cols), dtype=g.dtype)
                _im2col_serial(x[lo:hi], ksize, strides, dilation, pad, out_size, 1,
                               block.reshape(1, r1 - r0, n_cols))
            np.dot(block.T, dz_block, dw_parts[c])
        if need_dx:
            dcols = np.empty((r1 - r0, n_cols), dtype=g.dtype)
            np.dot(dz_block, w2.T, dcols)
            _col2im_serial(dcols.reshape(1, r1 - r0, n_cols), ksize, strides, dilation, pad,
                           out_size, 1, dx[lo:hi])


def _forward_taps_chunks(x, tap_kernel, bias, code, alpha, ksize, strides, dilation, pad,
                         out_size, n_chunks, z, a):
    # The output side, one group, chunk by chunk (see _forward_chunks): the chunk's input
    # rows times the (C, taps * F) tap kernel, each output summing its window's taps.
    n_samples = x.shape[0]
    positions = out_size[0] * out_size[1] * out_size[2]
    for c in prange(n_chunks):  # each chunk its own rows
        lo, hi = even_chunk(c, n_samples, n_chunks)
        r0, r1 = lo * positions, hi * positions
        conv_taps_rows(x[lo:hi], tap_kernel, bias, code, alpha, ksize, strides, dilation, pad,
                       out_size, z[r0:r1], a[r0:r1])
    return a


def _backward_taps_chunks(g, z, a, code, alpha, tap_kernel, x, ksize, strides, dilation, pad,
                          out_size, n_chunks, dx, dw_parts, db_parts):
    # The adjoint of _forward_taps_chunks (see _backward_chunks): per chunk dz, its spread
    # over input positions and taps, dx = spread @ tap_kernel^T and a partial
    # dw (C, taps * F) = x^T @ spread.
    n_samples, size_d, size_h, size_w, channels = x.shape
    in_positions = size_d * size_h * size_w
    positions = out_size[0] * out_size[1] * out_size[2]
    n_cols = tap_kernel.shape[1]
    x2 = x.reshape(n_samples * in_positions, channels)
    need_dx = dx.shape[0] > 0
    need_dw = dw_parts.shape[0] > 0
    for c in prange(n_chunks):
        lo, hi = even_chunk(c, n_samples, n_chunks)
        r0, r1 = lo * positions, hi * positions
        rows_in = (hi - lo) * in_positions
        dz_block = _chunk_dz(g, z, a, code, alpha, r0, r1, db_parts, c)
        if not (need_dx or need_dw):
            continue
        spread = np.empty((rows_in, n_cols), dtype=g.dtype)
        _spread_taps_serial(dz_block, ksize, strides, dilation, pad, out_size, 1,
                            (size_d, size_h, size_w), spread.reshape(1, rows_in, n_cols))
        if need_dx:
            np.dot(spread, tap_kernel.T,
                   dx.reshape(n_samples * in_positions, channels)[lo * in_positions:
                                                                  hi * in_positions])
        if need_dw:
            np.dot(x2[lo * in_positions:hi * in_positions].T, spread, dw_parts[c])


_im2col_serial, _im2col_parallel = njit_pair(_im2col)
_forward_taps_chunks_serial, _forward_taps_chunks_parallel = njit_pair(
    _forward_taps_chunks)
_backward_taps_chunks_serial, _backward_taps_chunks_parallel = njit_pair(
    _backward_taps_chunks)
_forward_chunks_serial, _forward_chunks_parallel = njit_pair(_forward_chunks)
_backward_chunks_serial, _backward_chunks_parallel = njit_pair(_backward_chunks)
_col2im_serial, _col2im_parallel = njit_pair(_col2im)
_im2col_transposed_serial, _im2col_transposed_parallel = njit_pair(_im2col_transposed)
_gather_taps_serial, _gather_taps_parallel = njit_pair(_gather_taps)
_spread_taps_serial, _spread_taps_parallel = njit_pair(_spread_taps)


# ------------------------------------------------------------------------ entry points
#
# Threading, measured on the 2-core box (MNIST convnet, batch 64, float32, forward, median ms;
# machine otherwise idle):             conv 28x28x1->32   13x13x32->64   5x5x64->64
#   prange over chunks, np.dot in Numba,
#     its BLAS held to 1 thread (_blas.py)     0.7             1.5            0.25  <- chunked
#   serial copies + 2-thread BLAS GEMM         0.8             3.0            0.4   <- others
#   prange copies + 1-thread BLAS GEMM         0.9             6.0            0.5
#   prange copies + 2-thread BLAS GEMM         8.0             8.0            8.0
#   prange over chunks, BLAS not held          8.0             8.0            8.0
#   direct loops, prange over the batch        4.4            43             6.4
# With two pools awake, Numba's and OpenBLAS's spinning threads take each other's core
# (8 ms = two scheduler ticks; see _jit.py). The chunked kernels keep one pool: Numba's
# threads each run whole chunks, their GEMMs on one BLAS thread. The dense layers between
# them keep off numpy's two-thread BLAS for the same reason (kernels/matmul.py). The other
# paths (groups, the output side, transposed convolutions) call the serial copies around
# numpy's GEMMs; their parallel variants are there for callers without BLAS.
# Whole layers, forward + backward with bias and relu: the three convolutions 6.6 ms per
# batch of 64 chunked (15 ms before); IMDB's conv1d (batch 128, 500 x 128 -> 32, k = 7)
# 88 ms on the output side, 258 ms through im2col.


class Geometry:
    """Where the windows of one convolution lie, on the 5-D channels_last views: kernel
    taps ``ksize``, ``strides``, ``dilation``, zeros ``pad`` before each spatial axis, the
    output's spatial size ``out_size`` and the number of ``groups``."""

    __slots__ = ("ksize", "strides", "dilation", "pad", "out_size", "groups")

    def __init__(self, ksize, strides, dilation, pad, out_size, groups=1):
        self.ksize = tuple(int(v) for v in ksize)
        self.strides = tuple(int(v) for v in strides)
        self.dilation = tuple(int(v) for v in dilation)
        self.pad = tuple(int(v) for v in pad)
        self.out_size = tuple(int(v) for v in out_size)
        self.groups = int(groups)

    @property
    def positions(self):
        return self.out_size[0] * self.out_size[1] * self.out_size[2]

    def args(self):
        return self.ksize, self.strides, self.dilation, self.pad, self.out_size, self.groups


def _chunks(n_samples, per_sample):
    """Sample ranges whose column matrices hold at most COLUMN_BUDGET elements (fixed by
    the shapes alone, so the weight gradient sums its chunks in the same order every run)."""
    step = max(1, COLUMN_BUDGET // max(per_sample, 1))
    return [(lo, min(lo + step, n_samples)) for lo in range(0, n_samples, step)]


def output_side(geometry, in_positions, channels, filters):
    """True when the output-side matrices (input positions x taps * filters) are smaller
    than im2col's (output positions x taps * channels): e.g. IMDB's conv1d of 128-wide
    embeddings into 32 filters (4x fewer elements, 2x faster)."""
    return in_positions * filters < geometry.positions * channels


def _group_kernels(w, groups):
    """im2col side: the (taps * C/groups, F/groups) matrix of each group (views of ``w``)."""
    w2 = w.reshape(-1, w.shape[-1])
    fg = w.shape[-1] // groups
    return [w2[:, g * fg:(g + 1) * fg] for g in range(groups)]


def _tap_kernels(w, groups):
    """Output side: the (C/groups, taps * F/groups) matrix of each group."""
    taps, cg, filters = w.shape[0] * w.shape[1] * w.shape[2], w.shape[3], w.shape[4]
    fg = filters // groups
    w3 = w.reshape(taps, cg, filters)
    return [np.ascontiguousarray(w3[:, :, g * fg:(g + 1) * fg].transpose(1, 0, 2)).reshape(
        cg, taps * fg) for g in range(groups)]


def tap_kernel_of(w):
    """The output side's (C, taps * F) kernel of a one-group convolution kernel w."""
    return _tap_kernels(w, 1)[0]


def _sizes(shape):
    """(batch, spatial positions, channels) of a 5-D shape, and its spatial sizes."""
    return shape[0], shape[1] * shape[2] * shape[3], shape[4], tuple(shape[1:4])


def transposed_columns(channels, groups):
    """True when im2col builds its matrix transposed (taps, positions): one channel and one
    group, e.g. the MNIST convnet's first convolution (see _im2col_transposed)."""
    return channels == 1 and groups == 1


def _column_buffer(groups, rows, n_cols, dtype, transposed):
    """Storage for one chunk's im2col columns, seen as (groups, rows, n_cols)."""
    if transposed:
        return np.empty((1, n_cols, rows), dtype).transpose(0, 2, 1)
    return np.empty((groups, rows, n_cols), dtype)


def _fill_columns(x, geometry, buffer, transposed):
    """The im2col columns of the samples x into ``buffer`` (from _column_buffer with the
    same ``transposed``); returns the (groups, rows, n_cols) view of the rows filled."""
    rows = x.shape[0] * geometry.positions
    if transposed:
        _im2col_transposed_serial(x, *geometry.args()[:5], buffer[0].T)
    else:
        _im2col_serial(x, *geometry.args(), buffer[:, :rows])
    return buffer[:, :rows]


def conv_forward(x, w, geometry, keep_columns=True):
    """(z, columns): z (N * OD * OH * OW, F), the convolution of x (N, D, H, W, C) by w
    (KD, KH, KW, C/groups, F), C-contiguous; columns, the im2col matrix, when the batch was
    one chunk and ``keep_columns`` (hand it to ``conv_weight_grad``), else None."""
    n_samples, in_positions, channels, in_size = _sizes(x.shape)
    groups, positions = geometry.groups, geometry.positions
    filters = w.shape[-1]
    fg, cg = filters // groups, channels // groups
    n_taps = w.shape[0] * w.shape[1] * w.shape[2]
    z = np.empty((n_samples * positions, filters), dtype=x.dtype)
    if output_side(geometry, in_positions, channels, filters):
        # z = taps summed from x @ [kernel of each tap]
        x2 = x.reshape(-1, channels)
        kernels = _tap_kernels(w, groups)
        chunks = _chunks(n_samples, in_positions * n_taps * filters)
        buffer = np.empty((groups, (chunks[0][1] - chunks[0][0]) * in_positions, n_taps * fg),
                          x.dtype)
        for lo, hi in chunks:
            rows = (hi - lo) * in_positions
            y = buffer[:, :rows]
            for g in range(groups):
                np.matmul(x2[lo * in_positions:hi * in_positions, g * cg:(g + 1) * cg],
                          kernels[g], out=y[g])
            _gather_taps_serial(y, *geometry.args(), in_size,
                                z[lo * positions:hi * positions])
        return z, None
    chunks = _chunks(n_samples, positions * n_taps * channels)
    kernels = _group_kernels(w, groups)
    transposed = transposed_columns(channels, groups)
    buffer = _column_buffer(groups, (chunks[0][1] - chunks[0][0]) * positions, n_taps * cg,
                            x.dtype, transposed)
    for lo, hi in chunks:
        cols = _fill_columns(x[lo:hi], geometry, buffer, transposed)
        if groups == 1:
            np.matmul(cols[0], kernels[0], out=z[lo * positions:hi * positions])
        else:
            for g in range(groups):
                z[lo * positions:hi * positions, g * fg:(g + 1) * fg] = cols[g] @ kernels[g]
    kept = buffer if keep_columns and len(chunks) == 1 else None
    return z, kept


def conv_backward(dz, geometry, input_shape, kernel_shape, w=None, x=None, columns=None):
    """(dx, dw) of the convolution for the output gradient dz (rows, F), in one pass over
    the batch chunks: dx (N, D, H, W, C) when the kernel ``w`` is given, dw (KD, KH, KW,
    C/groups, F) when the input ``x`` is given (else None).

    im2col side: dx = col2im(dz @ kernel^T), dw = columns^T @ dz (``columns`` from
    ``conv_forward``, or rebuilt). Output side: dz spread over the input positions and taps
    once, then dx = spread @ tap kernels^T and dw = x^T @ spread. dw sums its chunks in order.
    """
    n_samples, in_positions, channels, in_size = _sizes(input_shape)
    groups, positions = geometry.groups, geometry.positions
    filters = kernel_shape[-1]
    fg, cg = filters // groups, channels // groups
    n_taps = kernel_shape[0] * kernel_shape[1] * kernel_shape[2]
    dz = np.ascontiguousarray(dz.reshape(-1, filters))
    dx = np.empty(input_shape, dtype=dz.dtype) if w is not None else None
    x2 = x.reshape(-1, channels) if x is not None else None
    on_output_side = output_side(geometry, in_positions, channels, filters)
    if on_output_side:
        kernels = _tap_kernels(w, groups) if w is not None else None
        n_cols = n_taps * fg
        chunks = _chunks(n_samples, in_positions * n_taps * filters)
        buffer = np.empty((groups, (chunks[0][1] - chunks[0][0]) * in_positions, n_cols),
                          dz.dtype)
        sums = np.empty((groups, cg, n_cols), dtype=dz.dtype)
    else:
        kernels = _group_kernels(w, groups) if w is not None else None
        n_cols = n_taps * cg
        chunks = _chunks(n_samples, positions * n_cols * groups)
        if columns is not None and len(chunks) != 1:
            columns = None
        size = (groups, (chunks[0][1] - chunks[0][0]) * positions, n_cols)
        transposed = transposed_columns(channels, groups)
        buffer = None if x is None else (columns if columns is not None else _column_buffer(
            *size, dz.dtype, transposed))
        dcols = np.empty(size, dz.dtype) if w is not None else None
        sums = np.empty((n_cols, filters), dtype=dz.dtype)
    for index, (lo, hi) in enumerate(chunks):
        dz_chunk = dz[lo * positions:hi * positions]
        if on_output_side:
            in_rows = slice(lo * in_positions, hi * in_positions)
            spread = buffer[:, :(hi - lo) * in_positions]
            _spread_taps_serial(dz_chunk, *geometry.args(), in_size, spread)
            if w is not None:
                target = dx.reshape(-1, channels)[in_rows]
                if groups == 1:
                    np.matmul(spread[0], kernels[0].T, out=target)
                else:
                    for g in range(groups):
                        target[:, g * cg:(g + 1) * cg] = spread[g] @ kernels[g].T
            if x is not None:
                for g in range(groups):
                    part = x2[in_rows, g * cg:(g + 1) * cg].T @ spread[g]
                    if index == 0:
                        sums[g] = part
                    else:
                        sums[g] += part
            continue
        rows = (hi - lo) * positions
        if x is not None:
            cols = buffer[:, :rows] if columns is not None else _fill_columns(
                x[lo:hi], geometry, buffer, transposed)
            for g in range(groups):
                part = cols[g].T @ dz_chunk[:, g * fg:(g + 1) * fg]
                if index == 0:
                    sums[:, g * fg:(g + 1) * fg] = part
                else:
                    sums[:, g * fg:(g + 1) * fg] += part
        if w is not None:
            chunk_dcols = dcols[:, :rows]
            for g in range(groups):
                np.matmul(dz_chunk[:, g * fg:(g + 1) * fg], kernels[g].T, out=chunk_dcols[g])
            _col2im_serial(chunk_dcols, *geometry.args(), dx[lo:hi])
    dw = None
    if x is not None:
        if on_output_side:
            # (groups, C/groups, taps, F/groups) -> (taps, C/groups, groups, F/groups)
            dw = np.ascontiguousarray(
                sums.reshape(groups, cg, n_taps, fg).transpose(2, 1, 0, 3)).reshape(kernel_shape)
        else:
            dw = sums.reshape(kernel_shape)
    return dx, dw


# Chunked path (one group, im2col side): samples per chunk so that a chunk's im2col rows
# stay within CHUNK_ELEMENTS (1 MiB in float32, about L2), and at least MIN_CHUNKS chunks
# so that two (or more) threads share the work evenly. A function of the shapes only: the
# weight gradient's partial sums then add up in the same order on any thread count.
CHUNK_ELEMENTS = 1 << 18
MIN_CHUNKS = 8


def chunked(geometry):
    """True when the chunked kernels run this convolution (one group, either side)."""
    return geometry.groups == 1


def chunk_count(n_samples, per_sample):
    """Chunks for a convolution whose im2col rows take ``per_sample`` elements per sample:
    a multiple of MIN_CHUNKS (as far as the batch allows), enough that a chunk's rows hold
    about CHUNK_ELEMENTS at most (within one sample). Chunk c takes samples [c * N // n,
    (c + 1) * N // n): sizes differ by one at most. Threads take equal runs of chunks
    (Numba's static schedule), so a count divisible by 2, 4 and 8 keeps them evenly loaded
    (10 chunks of 7 samples and one of 1 left a thread 20% idle)."""
    needed = -(-n_samples * max(per_sample, 1) // CHUNK_ELEMENTS)
    return max(1, min(n_samples, MIN_CHUNKS * -(-needed // MIN_CHUNKS)))


def chunk_variant(pair):
    """The parallel dispatcher of a chunked kernel's (serial, parallel) pair when Numba has
    more than one thread."""
    return pair[1] if numba.get_num_threads() > 1 else pair[0]


def conv_activation_forward(x, w, bias, code, alpha, geometry, keep_columns, keep_preactivation):
    """(a, z, columns) for one group (``chunked``): z = conv(x, w) + bias as (N * positions,
    F) rows, a = f(z) (the same array as z unless ``keep_preactivation``), columns the
    im2col rows for ``conv_activation_backward`` when ``keep_columns`` and the im2col side
    runs it (else None). ``bias`` may be None; ``code``/``alpha`` as in kernels.activations.
    The side: ``output_side``."""
    n_samples, in_positions, channels, _ = _sizes(x.shape)
    positions = geometry.positions
    filters = w.shape[-1]
    z = np.empty((n_samples * positions, filters), x.dtype)
    a = np.empty_like(z) if keep_preactivation else z
    bias = np.empty(0, x.dtype) if bias is None else bias
    if output_side(geometry, in_positions, channels, filters):
        tap_kernel = tap_kernel_of(w)
        chunk_variant((_forward_taps_chunks_serial, _forward_taps_chunks_parallel))(
            x, tap_kernel, bias, code, float(alpha), *geometry.args()[:5],
            chunk_count(n_samples, in_positions * tap_kernel.shape[1]), z, a)
        return a, z, None
    w2 = np.ascontiguousarray(w.reshape(-1, filters))
    n_cols = w2.shape[0]
    cols = np.empty((n_samples * positions if keep_columns else 0, n_cols), x.dtype)
    chunk_variant((_forward_chunks_serial, _forward_chunks_parallel))(
        x, w2, bias, code, float(alpha), *geometry.args()[:5],
        chunk_count(n_samples, positions * n_cols), cols, z, a)
    return a, z, (cols if keep_columns else None)


def conv_activation_backward(g, z, a, code, alpha, w, x, columns, geometry, need_dx, need_dw,
                             need_db):
    """(dx, dw, db) for ``conv_activation_forward``'s output gradient g (rows, F); each None
    unless asked for. ``columns`` from the forward pass, or None (rebuilt from x)."""
    n_samples, in_positions, channels, _ = _sizes(x.shape)
    positions = geometry.positions
    filters = w.shape[-1]
    dtype = g.dtype
    g = np.ascontiguousarray(g.reshape(-1, filters))
    dx = np.empty(x.shape if need_dx else (0,) + x.shape[1:], dtype)
    if output_side(geometry, in_positions, channels, filters):
        tap_kernel = tap_kernel_of(w)
        n_chunks = chunk_count(n_samples, in_positions * tap_kernel.shape[1])
        dw_parts = np.empty((n_chunks if need_dw else 0,) + tap_kernel.shape, dtype)
        db_parts = np.empty((n_chunks if need_db else 0, filters), dtype)
        chunk_variant((_backward_taps_chunks_serial, _backward_taps_chunks_parallel))(
            g, z, a, code, float(alpha), tap_kernel, x, *geometry.args()[:5], n_chunks, dx,
            dw_parts, db_parts)
        # (C, taps, F) -> Keras's (taps, C, F)
        dw = (np.ascontiguousarray(sum_in_chunk_order(dw_parts).reshape(channels, -1, filters)
                                   .transpose(1, 0, 2)).reshape(w.shape) if need_dw else None)
    else:
        w2 = np.ascontiguousarray(w.reshape(-1, filters))
        n_cols = w2.shape[0]
        n_chunks = chunk_count(n_samples, positions * n_cols)
        dw_parts = np.empty((n_chunks if need_dw else 0, n_cols, filters), dtype)
        db_parts = np.empty((n_chunks if need_db else 0, filters), dtype)
        cols = columns if columns is not None else np.empty((0, n_cols), dtype)
        chunk_variant((_backward_chunks_serial, _backward_chunks_parallel))(
            g, z, a, code, float(alpha), w2, x, cols, *geometry.args()[:5], n_chunks, dx,
            dw_parts, db_parts)
        dw = sum_in_chunk_order(dw_parts).reshape(w.shape) if need_dw else None
    return dx if need_dx else None, dw, sum_in_chunk_order(db_parts) if need_db else None


def chunked_input_grad(g, w, geometry, input_shape):
    """dx (``input_shape``) of a one-group convolution by w for its output gradient g
    (rows, F), on the chunked kernels: the forward pass of a transposed convolution."""
    g = np.ascontiguousarray(g.reshape(-1, w.shape[-1]))
    shape_only = np.empty(input_shape, g.dtype)  # only its shape is read: no dw asked
    return conv_activation_backward(g, g, g, LINEAR, 0.0, w, shape_only, None, geometry,
                                    need_dx=True, need_dw=False, need_db=False)[0]


def chunked_weight_grad(x, g, w, geometry, columns=None):
    """dw of a one-group convolution of x by w (for its shape) for the output gradient g,
    on the chunked kernels; ``columns`` from ``conv_activation_forward`` of x, or None."""
    g = np.ascontiguousarray(g.reshape(-1, w.shape[-1]))
    return conv_activation_backward(g, g, g, LINEAR, 0.0, w, x, columns, geometry,
                                    need_dx=False, need_dw=True, need_db=False)[1]


def conv_input_grad(dz, w, geometry, input_shape):
    """dx (N, D, H, W, C) of the convolution by w for the output gradient dz (rows, F)."""
    return conv_backward(dz, geometry, input_shape, w.shape, w=w)[0]


def conv_weight_grad(x, dz, geometry, kernel_shape, columns=None):
    """dw (KD, KH, KW, C/groups, F) of the convolution of x for the output gradient dz."""
    return conv_backward(dz, geometry, x.shape, kernel_shape, x=x, columns=columns)[1]
