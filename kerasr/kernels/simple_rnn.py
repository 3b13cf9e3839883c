"""Fused SimpleRNN over a whole sequence: forward and backpropagation through time.

Same structure as kerasr/kernels/gru.py (read its docstring; the shared pieces are in
recurrent_common.py): no BLAS, the input
projection and every weight gradient are computed next to the recurrence
``h = act(x_t @ W + b + (h*m) @ U)``, per fixed task of ROWS_PER_TASK batch rows (split
over threads outside the time loop; per-task partial weight gradients summed in task
order, so serial and parallel are bit-identical). The recurrent dropout mask m (1, B, U)
multiplies h_{t-1} before the recurrent matmul only (Keras 3's SimpleRNNCell).
Storage for the backward, indexed by time: h_prev (B, T, U) and the new state hs (B, T, U)
(the activation's output, from which every supported derivative follows).
"""

import numpy as np

from ._jit import dtype_const, flush_subnormal, njit_helper, njit_pair, prange, sum_in_chunk_order
from .recurrent_common import (
    ROWS_PER_TASK,
    activate,
    add_output_gradient,
    batch_chunks,
    chunk_bounds,
    derivative,
    emits,
    first_unmasked,
    flush_limit,
    pick_variant,
)


@njit_helper
def simple_rnn_forward_rows(first_row, stop_row, x, w, b, ur, h0, rdm, mask, has_mask,
                            has_rdm, backwards, zero_output, return_sequences, act, keep,
                            out_seq, out_last, h_final, h_prev, hs):
    """The whole sequence for rows [first_row, stop_row); without ``keep`` (inference)
    h_prev and hs are (B, 1, U) scratch that every step overwrites."""
    steps, features = x.shape[1], x.shape[2]
    units = w.shape[1]
    zero = dtype_const(w, 0.0)
    masked_ur = np.empty((units, units), dtype=w.dtype) if has_rdm else ur
    h = np.empty(units, dtype=w.dtype)
    a = np.empty(units, dtype=w.dtype)
    for i in range(first_row, stop_row):
        if has_rdm:  # (h*m) @ U == h @ diag(m) U: the fixed mask folded in once per row
            for k in range(units):
                mk = rdm[0, i, k]
                for j in range(units):
                    masked_ur[k, j] = ur[k, j] * mk
        wr = masked_ur if has_rdm else ur
        for k in range(units):
            h[k] = h0[i, k]
        seen = False
        on = True
        for s in range(steps):
            t = steps - 1 - s if backwards else s
            ts = t if keep else 0  # the slot of the kept buffers
            on = mask[i, t] if has_mask else True
            if on:
                seen = True
                for j in range(units):
                    a[j] = b[j]
                for f in range(features):
                    xf = x[i, t, f]
                    for j in range(units):
                        a[j] += xf * w[f, j]
                for k in range(units):
                    hk = h[k]
                    h_prev[i, ts, k] = hk
                    for j in range(units):
                        a[j] += hk * wr[k, j]
                activate(a, 0, units, act)
                for j in range(units):
                    h[j] = a[j]
                    hs[i, ts, j] = a[j]
            if return_sequences:
                emit = emits(on, seen, zero_output)
                for k in range(units):
                    out_seq[i, s, k] = h[k] if emit else zero
        emit = emits(on, seen, zero_output)
        for k in range(units):
            out_last[i, k] = h[k] if emit else zero
            h_final[i, k] = h[k]


def _simple_rnn_forward(x, w, b, ur, h0, rdm, mask, has_mask, has_rdm, backwards,
                        zero_output, return_sequences, act, keep, n_tasks, task_rows, out_seq,
                        out_last, h_final, h_prev, hs):
    batch = x.shape[0]
    for task in prange(n_tasks):
        lo, hi = chunk_bounds(task, task_rows, batch)
        simple_rnn_forward_rows(lo, hi, x, w, b, ur, h0, rdm, mask, has_mask, has_rdm,
                                backwards, zero_output, return_sequences, act, keep, out_seq,
                                out_last, h_final, h_prev, hs)
    return out_last


@njit_helper
def simple_rnn_backward_rows(first_row, stop_row, g_out, g_state, x, w, urt, rdm, mask,
                             has_mask, has_rdm, backwards, zero_output, return_sequences,
                             act, h_prev, hs, dx, dh0, dw, dur, db):
    """BPTT for rows [first_row, stop_row): writes their dx and dh0 rows and *sets* dw
    (F, U), dur (U, U), db (U,) to these rows' sums. g_out (B, T, U) in processing order
    with return_sequences, else (B, 1, U); urt = recurrent_kernel.T."""
    steps, features = x.shape[1], x.shape[2]
    units = w.shape[1]
    zero = dtype_const(w, 0.0)
    limit = flush_limit(w)  # see recurrent_common: no subnormal gradients
    masked_urt = np.empty((units, units), dtype=w.dtype) if has_rdm else urt
    dh = np.empty(units, dtype=w.dtype)
    da = np.empty(units, dtype=w.dtype)
    p = np.empty((units, units), dtype=w.dtype)  # the row's sum of outer(h_{t-1}, da)
    for f in range(features):
        for j in range(units):
            dw[f, j] = zero
    for k in range(units):
        for j in range(units):
            dur[k, j] = zero
    for j in range(units):
        db[j] = zero
    for i in range(first_row, stop_row):
        if has_rdm:
            for j in range(units):
                for k in range(units):
                    masked_urt[j, k] = urt[j, k] * rdm[0, i, k]
        wt = masked_urt if has_rdm else urt
        for k in range(units):
            dh[k] = g_state[i, k]
            for j in range(units):
                p[k, j] = zero
        first = first_unmasked(mask, has_mask, i, steps, backwards)
        for s in range(steps - 1, -1, -1):
            t = steps - 1 - s if backwards else s
            on = mask[i, t] if has_mask else True
            if emits(on, s >= first, zero_output):
                add_output_gradient(dh, g_out, i, s, steps, return_sequences)
            if not on:
                for f in range(features):
                    dx[i, t, f] = zero
                continue
            for j in range(units):
                da[j] = flush_subnormal(dh[j] * derivative(hs[i, t, j], act), limit)
            for k in range(units):
                dh[k] = zero
            for j in range(units):
                dj = da[j]
                for k in range(units):
                    dh[k] += dj * wt[j, k]
            for k in range(units):
                dh[k] = flush_subnormal(dh[k], limit)
                hk = h_prev[i, t, k]
                for j in range(units):
                    p[k, j] += hk * da[j]
            for f in range(features):
                xf = x[i, t, f]
                acc = zero
                for j in range(units):
                    acc += da[j] * w[f, j]
                    dw[f, j] += xf * da[j]
                dx[i, t, f] = acc
            for j in range(units):
                db[j] += da[j]
        for k in range(units):
            mk = rdm[0, i, k] if has_rdm else dtype_const(w, 1.0)
            for j in range(units):
                dur[k, j] += p[k, j] * mk
            dh0[i, k] = dh[k]


def _simple_rnn_backward(g_out, g_state, x, w, urt, rdm, mask, has_mask, has_rdm, backwards,
                         zero_output, return_sequences, act, n_tasks, task_rows, h_prev, hs,
                         dx, dh0, dw_part, dur_part, db_part):
    """Each task's partial weight gradients into dw_part[task], dur_part[task] and
    db_part[task] (summed in task order by the caller)."""
    batch = x.shape[0]
    for task in prange(n_tasks):
        lo, hi = chunk_bounds(task, task_rows, batch)
        simple_rnn_backward_rows(lo, hi, g_out, g_state, x, w, urt, rdm, mask, has_mask,
                                 has_rdm, backwards, zero_output, return_sequences, act,
                                 h_prev, hs, dx, dh0, dw_part[task], dur_part[task],
                                 db_part[task])
    return dh0


_simple_rnn_forward_serial, _simple_rnn_forward_parallel = njit_pair(_simple_rnn_forward)
_simple_rnn_backward_serial, _simple_rnn_backward_parallel = njit_pair(_simple_rnn_backward)


def simple_rnn_forward(x, w, b, ur, h0, rdm, mask, backwards, zero_output, return_sequences,
                       act, out_seq, out_last, h_final, h_prev, hs, has_mask=False,
                       has_rdm=False, keep=True, parallel=None):
    """Runs the recurrence over x (B, T, F); b (U,) zeros without bias; rdm (1, B, U) and
    mask (B, T) may be dummies when has_rdm/has_mask are False; out_seq (B, T, U) only
    with return_sequences. Without ``keep`` (inference) h_prev and hs are (B, 1, U)
    scratch. ``parallel``: None chooses by batch size."""
    kernel = pick_variant((_simple_rnn_forward_serial, _simple_rnn_forward_parallel),
                          x.shape[0], parallel)
    n_tasks, task_rows = batch_chunks(x.shape[0], ROWS_PER_TASK)
    return kernel(x, w, b, ur, h0, rdm, mask, bool(has_mask), bool(has_rdm), bool(backwards),
                  bool(zero_output), bool(return_sequences), int(act), bool(keep), n_tasks,
                  task_rows, out_seq, out_last, h_final, h_prev, hs)


def simple_rnn_backward(g_out, g_state, x, w, urt, rdm, mask, backwards, zero_output,
                        return_sequences, act, h_prev, hs, dx, dh0, dw, dur, db,
                        has_mask=False, has_rdm=False, parallel=None):
    """BPTT through the stored forward: fills dx (B, T, F), dh0 (B, U), dw (F, U),
    dur (U, U) and db (U,)."""
    kernel = pick_variant((_simple_rnn_backward_serial, _simple_rnn_backward_parallel),
                          x.shape[0], parallel)
    n_tasks, task_rows = batch_chunks(x.shape[0], ROWS_PER_TASK)
    dw_part = np.empty((n_tasks,) + dw.shape, dtype=dw.dtype)
    dur_part = np.empty((n_tasks,) + dur.shape, dtype=dur.dtype)
    db_part = np.empty((n_tasks,) + db.shape, dtype=db.dtype)
    kernel(g_out, g_state, x, w, urt, rdm, mask, bool(has_mask), bool(has_rdm),
           bool(backwards), bool(zero_output), bool(return_sequences), int(act), n_tasks,
           task_rows, h_prev, hs, dx, dh0, dw_part, dur_part, db_part)
    # partial sums added in task order: the same result serial or parallel
    sum_in_chunk_order(dw_part, dw)
    sum_in_chunk_order(dur_part, dur)
    sum_in_chunk_order(db_part, db)
    return dh0
