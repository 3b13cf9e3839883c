"""ConvLSTM recurrence (Keras 3 ConvLSTM2D cell), forward and backward through time.

The input convolution of every step is done beforehand as one batched convolution (see
``kerasr.ops.conv_lstm``); these kernels run only the recurrence, for the whole sequence:

    z_t = zx[src] + bias + conv_same(h_{t-1} * m, U)     (columns i, f, c, o; F each)
    i, f, o = ra(z_i), ra(z_f), ra(z_o); g = act(z_c)
    c_t = f * c_{t-1} + i * g;  h_t = o * act(c_t)

``src`` is the input step of processing step t (T-1-t with go_backwards). The recurrent
convolution is "same" padded with stride 1 and no dilation (Keras's recurrent_conv), done
per step as im2col + one GEMM (``np.dot`` on scipy's BLAS inside the kernel).

Arrays (channels_last, spatial positions flattened, P = rows * cols of the state):
  zx (B, T, P, 4F) input projections; u2 (K * F, 4F) the recurrent kernel (kh, kw, F, 4F)
  reshaped, K = kh * kw taps; u4 (4, K * F, F) its gate blocks (contiguous, used with
  per-gate recurrent dropout masks); rmask (G, B, P, F): G = 0 no recurrent dropout, 1 one
  mask for all gates, 4 one per gate (Keras 3's ConvLSTM cell draws four); mask (B, T) bool
  over input steps. States hs, cs (T + 1, B, P, F) in processing order (hs[0] the initial
  state), gates (T, B, P, 4F) after their activations, ys (B, T, P, F) the outputs.

Masked steps carry both states unchanged; their output is the previous output (zeros before
the first) or zeros with ``zero_output``. Every derivative is taken from activated values
(tanh' = 1 - a^2, sigmoid' = a (1 - a), hard_sigmoid' = 1/6 and hard_sigmoid_keras2' = 0.2
inside (0, 1), relu' = [a > 0]), so pre-activations are not kept.

Threading and speed. Each step is im2col of h_{t-1} + one GEMM (np.dot inside the kernel, on
scipy's OpenBLAS), its backward the same GEMMs transposed + col2im. Batch rows never meet in
the recurrence, so the kernels run chunks of rows (fixed by the batch size alone) each over
the whole sequence, in a prange loop in the parallel variant; the recurrent kernel's gradient
is summed per chunk, then in chunk order, so serial and parallel give identical results.
The entry points run the parallel variant when Numba has more than one thread. First
measured (session 2) under load on the 2-core box, neither variant won consistently; since
kerasr holds the kernels' BLAS to one thread (``_blas.py``), a whole training step of a
ConvLSTM2D(16, 3x3, "same") over 10 steps of 32x32x1, batch 32, -> flatten -> dense 1 runs
at 123 samples/s parallel against 70 serial (54 before the hold), predict 267 against 179
(121); with the input convolution on the chunked kernels too, 155 and 407. What was clear,
per step (minimum of 9-15):
- im2col + GEMM beats direct loops (each output row accumulating 4F-wide rows of U, no BLAS)
  when BLAS is held to one thread: B=8 32x32 F=16 forward 3.2 vs 5.4 ms, backward 5.2 vs
  18 ms; B=4 64x64 F=32 forward 14 vs 43 ms, backward 27 vs 137 ms.
- With OpenBLAS's default two threads it is the two pools (numpy's OpenBLAS for the input
  convolution, scipy's under Numba's np.dot) and the other load that cost: a whole training
  step of B=8 32x32 F=16 took 3.1 s median with both pools at 2 threads against 0.25 s with
  both held to one (threadpoolctl). Since then kerasr holds scipy's to one thread at import
  (``_blas.py``) and the input convolution runs on it too (see above).
The gate loops run one vectorisable loop per activation block, float32 through the shared
rational tanh/sigmoid of recurrent_common (no scalar libm calls), float64 through the exact
functions.
"""

import numba
import numpy as np

from ._jit import dtype_const, njit_helper, njit_pair, prange, sum_in_chunk_order
from .recurrent_common import (
    activate,
    batch_chunks,
    chunk_bounds,
    times_derivative,
)


@njit_helper
def _im2col_same(h, rmask, gate, rows, cols_n, kh, kw, cols):
    """cols (B * P, K * F): row (b, y, x), column (a, c, f) = h[b, y + a - ph, x + c - pw, f]
    (times the recurrent dropout mask of ``gate`` when rmask has one), 0 outside."""
    batch, positions, filters = h.shape
    ph = (kh - 1) // 2
    pw = (kw - 1) // 2
    use_mask = rmask.shape[0] > 0
    for b in range(batch):
        for y in range(rows):
            for x in range(cols_n):
                row = cols[b * positions + y * cols_n + x]
                for a in range(kh):
                    yi = y + a - ph
                    for c in range(kw):
                        xi = x + c - pw
                        at = (a * kw + c) * filters
                        if 0 <= yi < rows and 0 <= xi < cols_n:
                            src = h[b, yi * cols_n + xi]
                            if use_mask:
                                m = rmask[gate, b, yi * cols_n + xi]
                                for f in range(filters):
                                    row[at + f] = src[f] * m[f]
                            else:
                                for f in range(filters):
                                    row[at + f] = src[f]
                        else:
                            for f in range(filters):
                                row[at + f] = 0
    return cols


@njit_helper
def _col2im_same_add(dcols, rmask, gate, rows, cols_n, kh, kw, dh):
    """The adjoint of _im2col_same, added into dh (B, P, F)."""
    batch, positions, filters = dh.shape
    ph = (kh - 1) // 2
    pw = (kw - 1) // 2
    use_mask = rmask.shape[0] > 0
    for b in range(batch):
        for y in range(rows):
            for x in range(cols_n):
                row = dcols[b * positions + y * cols_n + x]
                for a in range(kh):
                    yi = y + a - ph
                    if yi < 0 or yi >= rows:
                        continue
                    for c in range(kw):
                        xi = x + c - pw
                        if xi < 0 or xi >= cols_n:
                            continue
                        at = (a * kw + c) * filters
                        dst = dh[b, yi * cols_n + xi]
                        if use_mask:
                            m = rmask[gate, b, yi * cols_n + xi]
                            for f in range(filters):
                                dst[f] += row[at + f] * m[f]
                        else:
                            for f in range(filters):
                                dst[f] += row[at + f]
    return dh


@njit_helper
def _recurrent_projection(h, rmask, u2, u4, rows, cols_n, kh, kw, cols, part, zh):
    """zh (B * P, 4F) = conv_same(h * mask, U), through cols (B * P, K * F)."""
    filters = h.shape[2]
    if rmask.shape[0] <= 1:
        _im2col_same(h, rmask, 0, rows, cols_n, kh, kw, cols)
        np.dot(cols, u2, zh)
        return zh
    for gate in range(4):
        _im2col_same(h, rmask, gate, rows, cols_n, kh, kw, cols)
        np.dot(cols, u4[gate], part)
        for r in range(zh.shape[0]):
            for f in range(filters):
                zh[r, gate * filters + f] = part[r, f]
    return zh


def _forward(zx, bias, u2, u4, h0, c0, mask, rmask, rows, cols_n, kh, kw, backwards,
             zero_output, act_code, ract_code, n_chunks, chunk_rows, hs, cs, gates, ys):
    """Runs the whole sequence; fills hs, cs, gates and ys (see the module docstring). Each
    chunk of batch rows runs every step on its own (rows never meet in the recurrence)."""
    batch, steps, positions, four_f = zx.shape
    filters = four_f // 4
    zero = dtype_const(zx, 0.0)
    for chunk in prange(n_chunks):
        lo, hi = chunk_bounds(chunk, chunk_rows, batch)
        n = hi - lo
        cols = np.empty((n * positions, kh * kw * filters), dtype=zx.dtype)
        part = np.empty((n * positions, filters), dtype=zx.dtype)
        zh = np.empty((n * positions, four_f), dtype=zx.dtype)
        ac = np.empty(filters, dtype=zx.dtype)
        chunk_mask = rmask[:, lo:hi]
        for b in range(lo, hi):
            for p in range(positions):
                for f in range(filters):
                    hs[0, b, p, f] = h0[b, p, f]
                    cs[0, b, p, f] = c0[b, p, f]
        for t in range(steps):
            src = steps - 1 - t if backwards else t
            _recurrent_projection(hs[t, lo:hi], chunk_mask, u2, u4, rows, cols_n, kh, kw, cols,
                                  part, zh)
            for b in range(lo, hi):
                on = mask[b, src]
                for p in range(positions):
                    zrow = zh[(b - lo) * positions + p]
                    xrow = zx[b, src, p]
                    grow = gates[t, b, p]
                    h_prev = hs[t, b, p]
                    c_prev = cs[t, b, p]
                    h_new = hs[t + 1, b, p]
                    c_new = cs[t + 1, b, p]
                    y = ys[b, t, p]
                    if on:
                        for j in range(four_f):
                            zrow[j] += xrow[j] + bias[j]
                        activate(zrow, 0, 2 * filters, ract_code)
                        activate(zrow, 2 * filters, 3 * filters, act_code)
                        activate(zrow, 3 * filters, four_f, ract_code)
                        for j in range(four_f):
                            grow[j] = zrow[j]
                        for f in range(filters):
                            c = zrow[filters + f] * c_prev[f] + zrow[f] * zrow[2 * filters + f]
                            c_new[f] = c
                            ac[f] = c
                        activate(ac, 0, filters, act_code)
                        for f in range(filters):
                            h = zrow[3 * filters + f] * ac[f]
                            h_new[f] = h
                            y[f] = h
                    else:
                        for f in range(four_f):
                            grow[f] = zero
                        for f in range(filters):
                            c_new[f] = c_prev[f]
                            h_new[f] = h_prev[f]
                            if zero_output or t == 0:
                                y[f] = zero
                            else:
                                y[f] = ys[b, t - 1, p, f]
    return ys


def _backward(dys, dh_t, dc_t, hs, cs, gates, u2, u4, mask, rmask, rows, cols_n, kh, kw,
              backwards, zero_output, act_code, ract_code, n_chunks, chunk_rows, dzx, du_parts,
              du4_parts, dh0, dc0):
    """Backpropagation through time, chunk by chunk. dys (B, T, P, F) the gradient of the
    outputs (processing order), dh_t, dc_t of the final states. Fills dzx (B, T, P, 4F) at the
    input steps, dh0, dc0, and each chunk's share of the recurrent kernel's gradient:
    du_parts (n_chunks, K * F, 4F) or, with per-gate recurrent masks, du4_parts
    (n_chunks, 4, K * F, F) (summed in chunk order by the caller; the other is left alone)."""
    batch, steps, positions, four_f = dzx.shape
    filters = four_f // 4
    zero = dtype_const(dzx, 0.0)
    per_gate = rmask.shape[0] == 4
    n_taps = kh * kw * filters
    for chunk in prange(n_chunks):
        lo, hi = chunk_bounds(chunk, chunk_rows, batch)
        n = hi - lo
        n_rows = n * positions
        cols = np.empty((n_rows, n_taps), dtype=dzx.dtype)
        dcols = np.empty((n_rows, n_taps), dtype=dzx.dtype)
        dz = np.empty((n_rows, four_f), dtype=dzx.dtype)
        dz_gate = np.empty((n_rows, filters), dtype=dzx.dtype)
        du_step = np.empty((n_taps, four_f), dtype=dzx.dtype)
        du_part = np.empty((n_taps, filters), dtype=dzx.dtype)
        carry = np.zeros((n, positions, filters), dtype=dzx.dtype)
        ac = np.empty(filters, dtype=dzx.dtype)
        g_h = np.empty(filters, dtype=dzx.dtype)
        g_c = np.empty(filters, dtype=dzx.dtype)
        chunk_mask = rmask[:, lo:hi]
        dh = dh0[lo:hi]  # running gradients of the states, in place in the outputs
        dc = dc0[lo:hi]
        for b in range(n):
            for p in range(positions):
                for f in range(filters):
                    dh[b, p, f] = dh_t[lo + b, p, f]
                    dc[b, p, f] = dc_t[lo + b, p, f]
        du4 = du4_parts[chunk]
        du = du_parts[chunk]
        if per_gate:
            for gate in range(4):
                for r in range(n_taps):
                    for f in range(filters):
                        du4[gate, r, f] = zero
        else:
            for r in range(n_taps):
                for f in range(four_f):
                    du[r, f] = zero
        for t in range(steps - 1, -1, -1):
            src = steps - 1 - t if backwards else t
            for b in range(n):
                on = mask[lo + b, src]
                for p in range(positions):
                    dzrow = dz[b * positions + p]
                    out_row = dzx[lo + b, src, p]
                    dy = dys[lo + b, t, p]
                    hold = carry[b, p]
                    if on:
                        grow = gates[t, lo + b, p]
                        c_prev = cs[t, lo + b, p]
                        c_new = cs[t + 1, lo + b, p]
                        dhr = dh[b, p]
                        dcr = dc[b, p]
                        for f in range(filters):
                            ac[f] = c_new[f]
                        activate(ac, 0, filters, act_code)
                        for f in range(filters):
                            g_h[f] = dhr[f] + dy[f] + hold[f]
                            hold[f] = zero
                            g_c[f] = g_h[f] * grow[3 * filters + f]
                        times_derivative(ac, g_c, 0, filters, act_code)
                        for f in range(filters):
                            gc = g_c[f] + dcr[f]
                            dzrow[f] = gc * grow[2 * filters + f]
                            dzrow[filters + f] = gc * c_prev[f]
                            dzrow[2 * filters + f] = gc * grow[f]
                            dzrow[3 * filters + f] = g_h[f] * ac[f]
                            dcr[f] = gc * grow[filters + f]
                            dhr[f] = zero  # h_{t-1} reaches z only: added below
                        times_derivative(grow, dzrow, 0, 2 * filters, ract_code)
                        times_derivative(grow, dzrow, 2 * filters, 3 * filters, act_code)
                        times_derivative(grow, dzrow, 3 * filters, four_f, ract_code)
                    else:
                        for f in range(four_f):
                            dzrow[f] = zero
                        for f in range(filters):
                            # states pass through; the output held from the previous step
                            hold[f] = zero if zero_output else dy[f] + hold[f]
                    for f in range(four_f):
                        out_row[f] = dzrow[f]
            # h_{t-1} through the recurrent convolution: dU += cols^T dz, dh += col2im(dz U^T)
            h_prev = hs[t, lo:hi]
            if not per_gate:
                _im2col_same(h_prev, chunk_mask, 0, rows, cols_n, kh, kw, cols)
                np.dot(cols.T, dz, du_step)
                for r in range(n_taps):
                    for f in range(four_f):
                        du[r, f] += du_step[r, f]
                np.dot(dz, u2.T, dcols)
                _col2im_same_add(dcols, chunk_mask, 0, rows, cols_n, kh, kw, dh)
            else:
                for gate in range(4):
                    for r in range(n_rows):
                        for f in range(filters):
                            dz_gate[r, f] = dz[r, gate * filters + f]
                    _im2col_same(h_prev, chunk_mask, gate, rows, cols_n, kh, kw, cols)
                    np.dot(cols.T, dz_gate, du_part)
                    for r in range(n_taps):
                        for f in range(filters):
                            du4[gate, r, f] += du_part[r, f]
                    np.dot(dz_gate, u4[gate].T, dcols)
                    _col2im_same_add(dcols, chunk_mask, gate, rows, cols_n, kh, kw, dh)
    return dzx


_forward_serial, _forward_parallel = njit_pair(_forward)
_backward_serial, _backward_parallel = njit_pair(_backward)

# Batch rows per chunk: the chunks depend on the batch size only, so serial and parallel
# variants sum the recurrent kernel's gradient in the same order (identical results).
_MAX_CHUNKS = 8

# Which variant the entry points run: None means parallel when Numba has more than one
# thread (see the module docstring); "serial" or "parallel" force one (tests compare them).
FORCE_VARIANT = None


def chunking(batch):
    """(number of chunks, rows per chunk) for a batch."""
    return batch_chunks(batch, -(-batch // _MAX_CHUNKS))


def _variant(pair):
    if FORCE_VARIANT is None:
        return pair[1] if numba.get_num_threads() > 1 else pair[0]
    return pair[1] if FORCE_VARIANT == "parallel" else pair[0]


def conv_lstm_forward(zx, bias, u2, u4, h0, c0, mask, rmask, rows, cols_n, kh, kw, backwards,
                      zero_output, act_code, ract_code, hs, cs, gates, ys):
    """The forward over the whole sequence (see _forward); returns ys."""
    n_chunks, chunk_rows = chunking(zx.shape[0])
    kernel = _variant((_forward_serial, _forward_parallel))
    return kernel(zx, bias, u2, u4, h0, c0, mask, rmask, rows, cols_n, kh, kw, backwards,
                  zero_output, act_code, ract_code, n_chunks, chunk_rows, hs, cs, gates, ys)


def conv_lstm_backward(dys, dh_t, dc_t, hs, cs, gates, u2, u4, mask, rmask, rows, cols_n, kh,
                       kw, backwards, zero_output, act_code, ract_code, dzx, dh0, dc0):
    """BPTT over the whole sequence (see _backward): fills dzx, dh0, dc0 and returns the
    recurrent kernel's gradient as (K * F, 4F)."""
    n_chunks, chunk_rows = chunking(dzx.shape[0])
    n_taps, four_f = u2.shape
    filters = four_f // 4
    per_gate = rmask.shape[0] == 4
    # both always allocated (small: one kernel's worth per chunk); the unused one stays unset
    du_parts = np.empty((n_chunks, n_taps, four_f), dzx.dtype)
    du4_parts = np.empty((n_chunks, 4, n_taps, filters), dzx.dtype)
    kernel = _variant((_backward_serial, _backward_parallel))
    kernel(dys, dh_t, dc_t, hs, cs, gates, u2, u4, mask, rmask, rows, cols_n, kh, kw, backwards,
           zero_output, act_code, ract_code, n_chunks, chunk_rows, dzx, du_parts, du4_parts, dh0,
           dc0)
    if per_gate:
        du4 = sum_in_chunk_order(du4_parts)
        return np.ascontiguousarray(du4.transpose(1, 0, 2)).reshape(n_taps, four_f)
    return sum_in_chunk_order(du_parts)
