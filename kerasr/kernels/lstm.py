"""Fused LSTM over a whole sequence: forward and backpropagation through time.

Gates i, f, c, o in column blocks [0:U], [U:2U], [2U:3U], [3U:4U] of the kernels (Keras's
layout). Batch rows are independent in the recurrence, so each parallel task runs the whole
sequence for its own chunk of rows (one parallel region per call, no synchronisation per
step). The chunks depend on the shapes only (not on the thread count) and the weight
gradients are per-chunk partial sums added in chunk order afterwards: the serial and the
parallel variants give bit-identical results.

Per step and chunk, the gate pre-activations are one small GEMM [x_t, h_{t-1}] @ [kernel;
recurrent_kernel] (numba's np.dot: single-threaded BLAS at these sizes, see `chunking`); the
backward uses two more (dz @ [kernel; recurrent_kernel]^T, xh_t^T @ dz). The forward keeps,
time-major (T, B, .): xh = [x_t, h_{t-1} * recurrent dropout mask], the gate activations,
c_{t-1} and act(c_t); nothing else is needed. Without a recording tape (inference, keep=False)
the same kernel writes these into one-step scratch instead (same loops, same results; the
IMDB-shape predict then allocates nothing per step, not 64 MB of buffers per batch).
The activations, fast tanh/sigmoid, gradient flush and chunking: recurrent_common.py.

Measured at the IMDB shape (B=128, T=500, F=32, U=32, float32) on the shared 2-core box,
medians (the parallel variant when both cores were free):
- variant choice: the per-step product as plain loops took 29-48 ms per forward (store-bound
  accumulators), the same products as per-step BLAS calls 6.5-10 ms; the weight gradient as
  one numpy GEMM over all 64000 rows after the kernel 13-25 ms at best, 200+ ms typically
  (numpy's 2 BLAS threads on that skinny shape), per step inside the kernel a few ms.
- now: serial forward 24 ms, forward + backward 62 ms; parallel (prange over chunks, the
  BLAS calls single-threaded) forward 11 ms, forward + backward 29 ms, a training step with
  the embedding gather and the dense layer around it 32 ms (PyTorch: 23.6 + 56.1 ms).
  When another process holds one core, the parallel variant runs at about serial speed.
"""

import numba
import numpy as np

from ._jit import dtype_const, flush_subnormal, njit_pair, prange, sum_in_chunk_order
from .activations import SIGMOID, TANH
from .recurrent_common import (
    activate,
    batch_chunks,
    chunk_bounds,
    emits,
    fast_tanh,
    flush_limit,
    times_derivative,
)

# Rows per chunk (the parallel work unit), see chunking.
_ROWS_PER_CHUNK = 32
_BLAS_SINGLE_THREAD_MNK = 65536 * 4


def chunking(batch, n_in, n_gates):
    """(number of chunks, rows per chunk): a function of the shapes only, never of the
    thread count. Rows per chunk: at most _ROWS_PER_CHUNK, and few enough that the per-step
    GEMM (rows x n_in x n_gates) stays below OpenBLAS's threading threshold (m*n*k <= 65536
    * 4): a multi-threaded BLAS call per step, inside a parallel region or not, made the
    backward 5-10x slower (threads spinning against each other on 2 cores)."""
    return batch_chunks(batch, min(_ROWS_PER_CHUNK,
                                   _BLAS_SINGLE_THREAD_MNK // max(1, n_in * n_gates)))


# ---------------------------------------------------------------------- forward
# Buffers are time-major, (T, B, .): one step of a chunk is then a contiguous block (the
# (B, T, .) layout put a chunk's rows of one step 256 KB apart, all in the same cache set,
# and the kernel ran several times slower).


def _lstm_forward(x, wr, bias, gate_scale, h0, c0, mask, rdm, has_mask, has_rdm,
                  go_backwards, zero_output_for_mask, act, ract, keep, n_chunks, chunk_rows,
                  out, xh, gates, cprev, actc, h_final, c_final):
    """x (B, T, F); out (T_out, B, U) with T_out = T (return_sequences) or 1. With ``keep``,
    keeps for the backward, time-major (T, B, .): xh = [x_t, h_{t-1} * rdm] (the rows of
    the per-step product with wr = [kernel; recurrent_kernel]), the gate activations,
    c_{t-1} and act(c_t). Without (inference), xh, gates, cprev and actc are (1, B, .)
    working buffers that every step overwrites: the same loops, so the same results.

    With Keras's default activations (tanh, sigmoid) the four gates are one loop over the
    chunk's block of gates, sigmoid(z) = s tanh(s z) + 1 - s with s = gate_scale[j] = 1/2
    (s = 1 gives tanh): one vectorised pass instead of four short ones per row (serial
    forward at the IMDB shape 31 -> 24.5 ms; the backward does the same for f'(z)). In
    float64, sigmoid(z) -> 0 then has an absolute error ~1e-17 rather than a relative one;
    float32 computes sigmoid this way in any case (see fast_sigmoid)."""
    batch, steps, n_features = x.shape
    units = h0.shape[1]
    n_gates = 4 * units
    first_out = steps - out.shape[0]
    zero = dtype_const(xh, 0.0)
    one = dtype_const(xh, 1.0)
    tanh_sigmoid = act == TANH and ract == SIGMOID
    for chunk in prange(n_chunks):
        lo, hi = chunk_bounds(chunk, chunk_rows, batch)
        n = hi - lo
        h = np.empty((n, units), dtype=xh.dtype)
        c = np.empty((n, units), dtype=xh.dtype)
        seen = np.zeros(n, dtype=np.bool_)  # the row has had an unmasked step
        a = np.empty(units, dtype=xh.dtype)
        for r in range(n):
            for k in range(units):
                h[r, k] = h0[lo + r, k]
                c[r, k] = c0[lo + r, k]
        for s in range(steps):
            t = steps - 1 - s if go_backwards else s
            ts = t if keep else 0  # the slot of the kept buffers
            xh_t = xh[ts, lo:hi]
            for r in range(n):
                b = lo + r
                for f in range(n_features):
                    xh_t[r, f] = x[b, t, f]
                if has_rdm:
                    for k in range(units):
                        xh_t[r, n_features + k] = h[r, k] * rdm[b, k]
                else:
                    for k in range(units):
                        xh_t[r, n_features + k] = h[r, k]
            # all gate pre-activations of the chunk's rows: one small GEMM (single-threaded
            # BLAS, see chunking); 5x faster than the same product as loops here
            z_t = gates[ts, lo:hi]
            np.dot(xh_t, wr, z_t)
            if tanh_sigmoid:
                for r in range(n):
                    z = z_t[r]
                    for j in range(n_gates):
                        sj = gate_scale[j]
                        z[j] = fast_tanh((z[j] + bias[j]) * sj) * sj + (one - sj)
            for r in range(n):
                b = lo + r
                on = mask[b, t] if has_mask else True
                if on:
                    seen[r] = True
                    z = z_t[r]
                    if not tanh_sigmoid:
                        for j in range(n_gates):
                            z[j] += bias[j]
                        activate(z, 0, 2 * units, ract)
                        activate(z, 2 * units, 3 * units, act)
                        activate(z, 3 * units, n_gates, ract)
                    for k in range(units):
                        cp = c[r, k]
                        cprev[ts, b, k] = cp
                        cn = z[units + k] * cp + z[k] * z[2 * units + k]
                        c[r, k] = cn
                        a[k] = cn
                    activate(a, 0, units, act)
                    for k in range(units):
                        actc[ts, b, k] = a[k]
                        h[r, k] = z[3 * units + k] * a[k]
                # a masked step carries the states; its output is held (or zero)
                if s >= first_out:
                    so = s - first_out
                    if emits(on, seen[r], zero_output_for_mask):
                        for k in range(units):
                            out[so, b, k] = h[r, k]
                    else:
                        for k in range(units):
                            out[so, b, k] = zero
        for r in range(n):
            for k in range(units):
                h_final[lo + r, k] = h[r, k]
                c_final[lo + r, k] = c[r, k]
    return out


# --------------------------------------------------------------------- backward


def _lstm_backward(wr_t, gate_scale, mask, rdm, xh, gates, cprev, actc, g_out, g_h, g_c,
                   has_mask,
                   has_rdm, go_backwards, zero_output_for_mask, act, ract, n_chunks,
                   chunk_rows, dx, dh0, dc0, dwr_part, db_part):
    """BPTT, each chunk of rows from the last step to the first: dz (the gradient of the gate
    pre-activations, zeros at masked steps) elementwise, then two
    small GEMMs: dz @ [kernel; recurrent_kernel]^T gives dx_t and dh_{t-1}, and xh_t^T dz
    is added to the chunk's partial weight gradient dwr_part[chunk] (db_part[chunk] gets
    the column sums of dz). g_out (T_out, B, U); dx (T, B, F).

    The weight gradient as one GEMM over all T*B rows after the kernel (64 x 64000 x 128 at
    the IMDB shape) took 13-25 ms at best and 200+ ms typically with numpy's two BLAS threads
    (that skinny shape threads badly); per step, single-threaded, inside the parallel loop
    it costs a few ms."""
    steps, batch, n_in = xh.shape
    units = dh0.shape[1]
    n_features = n_in - units
    n_gates = 4 * units
    first_out = steps - g_out.shape[0]
    zero = dtype_const(xh, 0.0)
    # state and gate gradients below the limit are flushed to zero (see flush_limit)
    tiny = flush_limit(xh)
    one = dtype_const(xh, 1.0)
    tanh_sigmoid = act == TANH and ract == SIGMOID
    for chunk in prange(n_chunks):
        lo, hi = chunk_bounds(chunk, chunk_rows, batch)
        n = hi - lo
        dh = np.empty((n, units), dtype=xh.dtype)
        dc = np.empty((n, units), dtype=xh.dtype)
        carry = np.empty((n, units), dtype=xh.dtype)  # gradient of held outputs
        da = np.empty(units, dtype=xh.dtype)
        dz_t = np.empty((n, n_gates), dtype=xh.dtype)
        dxh_t = np.empty((n, n_in), dtype=xh.dtype)
        dwr_t = np.empty((n_in, n_gates), dtype=xh.dtype)
        dwr = dwr_part[chunk]
        db = db_part[chunk]
        for i in range(n_in):
            for j in range(n_gates):
                dwr[i, j] = zero
        for j in range(n_gates):
            db[j] = zero
        for r in range(n):
            for k in range(units):
                dh[r, k] = g_h[lo + r, k]
                dc[r, k] = g_c[lo + r, k]
                carry[r, k] = zero
        for s in range(steps - 1, -1, -1):
            t = steps - 1 - s if go_backwards else s
            so = s - first_out
            for r in range(n):
                b = lo + r
                dz = dz_t[r]
                if has_mask and not mask[b, t]:
                    # states carried: dh, dc pass unchanged
                    if so >= 0 and not zero_output_for_mask:
                        for k in range(units):
                            carry[r, k] += g_out[so, b, k]
                    for j in range(n_gates):
                        dz[j] = zero
                    continue
                gt = gates[t, b]
                if so >= 0:
                    for k in range(units):
                        carry[r, k] += g_out[so, b, k]
                for k in range(units):
                    dht = dh[r, k] + carry[r, k]
                    carry[r, k] = zero
                    dz[3 * units + k] = dht * actc[t, b, k]
                    da[k] = dht * gt[3 * units + k]
                times_derivative(actc[t, b], da, 0, units, act)
                for k in range(units):
                    dct = dc[r, k] + da[k]
                    dz[k] = dct * gt[2 * units + k]
                    dz[units + k] = dct * cprev[t, b, k]
                    dz[2 * units + k] = dct * gt[k]
                    dc[r, k] = flush_subnormal(dct * gt[units + k], tiny)
                if tanh_sigmoid:
                    # f'(z) = p + a (q - a): tanh p = 1, q = 0; sigmoid p = 0, q = 1
                    for j in range(n_gates):
                        pj = gate_scale[j] + gate_scale[j] - one
                        aj = gt[j]
                        dz[j] = flush_subnormal(dz[j] * (pj + aj * ((one - pj) - aj)), tiny)
                else:
                    times_derivative(gt, dz, 0, 2 * units, ract)
                    times_derivative(gt, dz, 2 * units, 3 * units, act)
                    times_derivative(gt, dz, 3 * units, n_gates, ract)
                    for j in range(n_gates):
                        dz[j] = flush_subnormal(dz[j], tiny)
            # [dx_t, dh_{t-1}] = dz @ [kernel; recurrent_kernel]^T: one small GEMM
            np.dot(dz_t, wr_t, dxh_t)
            np.dot(xh[t, lo:hi].T, dz_t, dwr_t)
            for i in range(n_in):
                for j in range(n_gates):
                    dwr[i, j] += dwr_t[i, j]
            for r in range(n):
                for j in range(n_gates):
                    db[j] += dz_t[r, j]
            for r in range(n):
                b = lo + r
                if has_mask and not mask[b, t]:
                    for f in range(n_features):
                        dx[t, b, f] = zero
                    continue  # dh, dc carried
                for f in range(n_features):
                    dx[t, b, f] = flush_subnormal(dxh_t[r, f], tiny)
                if has_rdm:
                    for k in range(units):
                        dh[r, k] = flush_subnormal(dxh_t[r, n_features + k] * rdm[b, k], tiny)
                else:
                    for k in range(units):
                        dh[r, k] = flush_subnormal(dxh_t[r, n_features + k], tiny)
        for r in range(n):
            for k in range(units):
                dh0[lo + r, k] = dh[r, k]
                dc0[lo + r, k] = dc[r, k]
    return dh0


_lstm_forward_serial, _lstm_forward_parallel = njit_pair(_lstm_forward)
_lstm_backward_serial, _lstm_backward_parallel = njit_pair(_lstm_backward)


# ----------------------------------------------------------------- entry points


def _use_parallel(parallel, n_chunks):
    """The parallel variant whenever there are two chunks and two threads: at the IMDB shape
    it halves the time when both cores are free and costs nothing measurable when another
    process holds one (the BLAS calls inside are single-threaded, so nothing oversubscribes
    the cores)."""
    if parallel is None:
        return n_chunks > 1 and numba.get_num_threads() > 1
    return bool(parallel)


def lstm_forward(x, kernel, recurrent_kernel, bias, h0, c0, mask, recurrent_dropout_mask,
                 has_mask, has_rdm, go_backwards=False, return_sequences=False,
                 zero_output_for_mask=False, act=TANH, ract=SIGMOID, keep=True,
                 parallel=None):
    """Runs the LSTM over x (B, T, F); all arrays of one float dtype, C-contiguous, their
    shapes checked by the caller (the kernels do not check bounds).

    bias (4U,) (zeros without); h0, c0 (B, U); mask bool (B, T) and recurrent_dropout_mask
    (B, U) (dummies when has_mask / has_rdm are False); act, ract activation codes.
    Returns (output, h_T, c_T, saved): output (B, T, U) in processing order if
    return_sequences else (B, U); `saved` is what lstm_backward needs, None without
    ``keep`` (inference: only the running states are kept).
    parallel: None chooses (see _use_parallel), True/False forces a variant.
    """
    dtype = x.dtype
    batch, steps, n_features = x.shape
    units = recurrent_kernel.shape[0]
    n_gates = 4 * units
    wr = np.concatenate([kernel, recurrent_kernel], axis=0)
    n_chunks, chunk_rows = chunking(batch, n_features + units, n_gates)
    slots = steps if keep else 1
    out = np.empty((steps if return_sequences else 1, batch, units), dtype=dtype)
    xh = np.empty((slots, batch, n_features + units), dtype=dtype)
    gates = np.empty((slots, batch, n_gates), dtype=dtype)
    cprev = np.empty((slots, batch, units), dtype=dtype)
    actc = np.empty((slots, batch, units), dtype=dtype)
    h_final = np.empty((batch, units), dtype=dtype)
    c_final = np.empty((batch, units), dtype=dtype)
    use_par = _use_parallel(parallel, n_chunks)
    kern = _lstm_forward_parallel if use_par else _lstm_forward_serial
    gate_scale = np.ones(n_gates, dtype=dtype)
    gate_scale[:2 * units] = 0.5  # i, f
    gate_scale[3 * units:] = 0.5  # o
    kern(x, wr, bias, gate_scale, h0, c0, mask, recurrent_dropout_mask, bool(has_mask),
         bool(has_rdm), bool(go_backwards), bool(zero_output_for_mask), int(act), int(ract),
         bool(keep), n_chunks, chunk_rows, out, xh, gates, cprev, actc, h_final, c_final)
    saved = None
    if keep:
        saved = dict(wr=wr, gate_scale=gate_scale, mask=mask, rdm=recurrent_dropout_mask,
                     has_mask=bool(has_mask), has_rdm=bool(has_rdm),
                     go_backwards=bool(go_backwards),
                     zero_output_for_mask=bool(zero_output_for_mask), act=int(act),
                     ract=int(ract), parallel=use_par, xh=xh, gates=gates, cprev=cprev,
                     actc=actc)
    output = (np.ascontiguousarray(out.transpose(1, 0, 2)) if return_sequences
              else out.reshape(batch, units))
    return output, h_final, c_final, saved


def lstm_backward(saved, g_out, g_h, g_c):
    """Gradients (dx, dh0, dc0, d_kernel, d_recurrent_kernel, d_bias) from the output's
    gradient g_out (shape of the output) and the final states' (B, U)."""
    xh = saved["xh"]
    wr = saved["wr"]
    dtype = xh.dtype
    steps, batch, n_in = xh.shape
    n_gates = wr.shape[1]
    units = n_gates // 4
    n_features = n_in - units
    if g_out.ndim == 2:
        g_out = np.ascontiguousarray(g_out, dtype=dtype).reshape(1, batch, units)
    else:
        g_out = np.ascontiguousarray(np.asarray(g_out, dtype=dtype).transpose(1, 0, 2))
    g_h = np.ascontiguousarray(g_h, dtype=dtype)
    g_c = np.ascontiguousarray(g_c, dtype=dtype)
    n_chunks, chunk_rows = chunking(batch, n_in, n_gates)
    dh0 = np.empty((batch, units), dtype=dtype)
    dc0 = np.empty((batch, units), dtype=dtype)
    dx = np.empty((steps, batch, n_features), dtype=dtype)
    dwr_part = np.empty((n_chunks, n_in, n_gates), dtype=dtype)
    db_part = np.empty((n_chunks, n_gates), dtype=dtype)
    kern = _lstm_backward_parallel if saved["parallel"] else _lstm_backward_serial
    kern(np.ascontiguousarray(wr.T), saved["gate_scale"], saved["mask"], saved["rdm"], xh,
         saved["gates"], saved["cprev"], saved["actc"], g_out, g_h, g_c, saved["has_mask"],
         saved["has_rdm"], saved["go_backwards"], saved["zero_output_for_mask"], saved["act"],
         saved["ract"], n_chunks, chunk_rows, dx, dh0, dc0, dwr_part, db_part)
    dwr = sum_in_chunk_order(dwr_part)
    db = sum_in_chunk_order(db_part)
    dx = np.ascontiguousarray(dx.transpose(1, 0, 2))
    return dx, dh0, dc0, dwr[:n_features], dwr[n_features:], db
