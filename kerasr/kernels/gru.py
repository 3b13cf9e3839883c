"""Fused GRU over a whole sequence: forward and backpropagation through time.

Everything happens in these kernels, no BLAS: the input projection ``x_t @ kernel + b0``
next to the recurrence in the forward, and dx, dkernel, drecurrent_kernel and the bias
gradients next to the BPTT loop in the backward. Each batch row runs the whole sequence
on its own (rows are independent), so the parallel variant splits fixed tasks of
ROWS_PER_TASK rows over threads outside the time loop; every task writes only its own
rows and its own partial weight gradients, which are then summed in task order: serial
and parallel results are bit-identical.

Layout (Keras 3): gate column blocks z, r, h of width U in kernel (F, 3U), recurrent
kernel (U, 3U) and bias. reset_after=True: bias (2, 3U) = (input bias, recurrent bias),
``hh = act(x_h + r * (h @ U_h + b1_h))``; reset_after=False: bias (3U,),
``hh = act(x_h + (r * h) @ U_h)``. ``h_new = z * h + (1 - z) * hh``.

Recurrent dropout as Keras 3's GRUCell (implementation 1, which it switches to whenever
recurrent_dropout > 0): one mask per gate, ``m[g]`` (3, B, U), multiplies h_{t-1} only
where it enters the recurrent matmuls (``h*m_z @ U_z``, ``h*m_r @ U_r`` and
``h*m_h @ U_h`` or ``(r * h*m_h) @ U_h``); the carry ``z * h_{t-1}`` uses the *unmasked*
h_{t-1}. A single (B, U) mask is the case m[0] = m[1] = m[2].

Masking (Keras): a masked step carries the state unchanged; the output is the last
unmasked step's output (zeros before the first one) or zeros with zero_output_for_mask.

Storage for the backward pass, indexed by time:
h_prev (B, T, U) the state entering each processed step, gates (B, T, 3U) = z, r, hh
after activation (every supported activation's derivative is a function of its output),
and for reset_after=True rh (B, T, U) = h*m_h @ U_h + b1_h. The backward keeps the row's
per-step gradients and forms the weight gradients as products over the whole sequence
after the row's BPTT loop; it flushes gradients below smallest_normal/eps to zero (see
recurrent_common.flush_limit). Serial or parallel: see recurrent_common.pick_variant.
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


# ------------------------------------------------------------------ forward


@njit_helper
def gru_forward_rows(first_row, stop_row, x, w, b0, ur, b1, h0, rdm, mask, has_mask, has_rdm,
                     reset_after, backwards, zero_output, return_sequences, act, ract, keep,
                     out_seq, out_last, h_final, h_prev, gates, rh):
    """The whole sequence for rows [first_row, stop_row). With ``keep`` h_prev, gates and rh
    are kept for the backward, (B, T, .); without (inference) they are (B, 1, .) scratch
    that every step overwrites (the same arithmetic: the same results)."""
    steps, features = x.shape[1], x.shape[2]
    u3 = w.shape[1]
    units = u3 // 3
    n_rec = u3 if reset_after else 2 * units  # columns of the fused recurrent matmul
    one = dtype_const(w, 1.0)
    zero = dtype_const(w, 0.0)
    masked_ur = np.empty((units, u3), dtype=w.dtype) if has_rdm else ur
    h = np.empty(units, dtype=w.dtype)
    acc = np.empty(u3, dtype=w.dtype)
    a = np.empty(u3, dtype=w.dtype)
    for i in range(first_row, stop_row):
        # The dropout masks are fixed over time: fold them into a per-row copy of the
        # recurrent kernel once (h*m_g @ U_g == h @ diag(m_g) U_g), so every step runs one
        # contiguous loop over all gate columns (three 32-column loops were 4x slower).
        if has_rdm:
            for k in range(units):
                for g in range(3):
                    mk = rdm[g, i, k]
                    for j in range(g * units, (g + 1) * units):
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
                for k in range(units):
                    h_prev[i, ts, k] = h[k]
                # input projection x_t @ W + b0
                for j in range(u3):
                    a[j] = b0[j]
                f4 = features - features % 4  # unrolled by 4, as the matvec below
                for f in range(0, f4, 4):
                    x0, x1, x2, x3 = x[i, t, f], x[i, t, f + 1], x[i, t, f + 2], x[i, t, f + 3]
                    for j in range(u3):
                        a[j] += (x0 * w[f, j] + x1 * w[f + 1, j]) + (
                            x2 * w[f + 2, j] + x3 * w[f + 3, j])
                for f in range(f4, features):
                    xf = x[i, t, f]
                    for j in range(u3):
                        a[j] += xf * w[f, j]
                for j in range(n_rec):
                    acc[j] = b1[j] if reset_after else zero
                # k unrolled by 4: a quarter of the round trips of acc through memory
                k4 = units - units % 4
                for k in range(0, k4, 4):
                    h0k, h1k, h2k, h3k = h[k], h[k + 1], h[k + 2], h[k + 3]
                    for j in range(n_rec):
                        acc[j] += (h0k * wr[k, j] + h1k * wr[k + 1, j]) + (
                            h2k * wr[k + 2, j] + h3k * wr[k + 3, j])
                for k in range(k4, units):
                    hk = h[k]
                    for j in range(n_rec):
                        acc[j] += hk * wr[k, j]
                for j in range(2 * units):
                    a[j] += acc[j]
                activate(a, 0, 2 * units, ract)
                if reset_after:
                    for j in range(units):
                        rhj = acc[2 * units + j]
                        rh[i, ts, j] = rhj
                        a[2 * units + j] += a[units + j] * rhj
                else:
                    # (r * h) @ diag(m_h) U_h; acc's last block is free here
                    for j in range(2 * units, u3):
                        acc[j] = zero
                    for k in range(units):
                        rk = a[units + k] * h[k]
                        for j in range(2 * units, u3):
                            acc[j] += rk * wr[k, j]
                    for j in range(2 * units, u3):
                        a[j] += acc[j]
                activate(a, 2 * units, u3, act)
                for j in range(u3):
                    gates[i, ts, j] = a[j]
                for k in range(units):
                    zk = a[k]
                    h[k] = zk * h[k] + (one - zk) * a[2 * units + k]
            if return_sequences:
                emit = emits(on, seen, zero_output)
                for k in range(units):
                    out_seq[i, s, k] = h[k] if emit else zero
        emit = emits(on, seen, zero_output)
        for k in range(units):
            out_last[i, k] = h[k] if emit else zero
            h_final[i, k] = h[k]


def _gru_forward(x, w, b0, ur, b1, h0, rdm, mask, has_mask, has_rdm, reset_after, backwards,
                 zero_output, return_sequences, act, ract, keep, n_tasks, task_rows,
                 out_seq, out_last, h_final, h_prev, gates, rh):
    batch = x.shape[0]
    for task in prange(n_tasks):
        lo, hi = chunk_bounds(task, task_rows, batch)
        gru_forward_rows(lo, hi, x, w, b0, ur, b1, h0, rdm, mask, has_mask, has_rdm,
                         reset_after, backwards, zero_output, return_sequences, act, ract,
                         keep, out_seq, out_last, h_final, h_prev, gates, rh)
    return out_last


# ----------------------------------------------------------------- backward


@njit_helper
def outer_sum(p, a, b, j_lo, j_hi):
    """p[k, j] += sum_t a[t, k] * b[t, j] for j in [j_lo, j_hi): a product over a row's
    whole sequence, t unrolled by 4 (a quarter of the round trips of p through memory
    that one rank-1 update per step costs)."""
    steps, n_k = a.shape
    t4 = steps - steps % 4
    for t in range(0, t4, 4):
        for k in range(n_k):
            a0, a1, a2, a3 = a[t, k], a[t + 1, k], a[t + 2, k], a[t + 3, k]
            for j in range(j_lo, j_hi):
                p[k, j] += (a0 * b[t, j] + a1 * b[t + 1, j]) + (
                    a2 * b[t + 2, j] + a3 * b[t + 3, j])
    for t in range(t4, steps):
        for k in range(n_k):
            ak = a[t, k]
            for j in range(j_lo, j_hi):
                p[k, j] += ak * b[t, j]


@njit_helper
def gru_backward_rows(first_row, stop_row, g_out, g_state, x, w, urt, rdm, mask, has_mask,
                      has_rdm, reset_after, backwards, zero_output, return_sequences, act,
                      ract, h_prev, gates, rh, dx, dh0, dw, dur, db):
    """BPTT for rows [first_row, stop_row): writes their dx and dh0 rows and *sets* dw
    (F, 3U), dur (U, 3U), db (2, 3U: input bias, recurrent bias) to these rows' sums.

    g_out is (B, T, U) in processing order with return_sequences, else (B, 1, U) for the
    last output; g_state (B, U) the gradient of the final state. urt = recurrent_kernel.T
    (3U, U), so that every product below runs along contiguous rows.
    """
    steps, features = x.shape[1], x.shape[2]
    u3 = w.shape[1]
    units = u3 // 3
    n_rec = u3 if reset_after else 2 * units
    one = dtype_const(w, 1.0)
    zero = dtype_const(w, 0.0)
    masked_urt = np.empty((u3, units), dtype=w.dtype) if has_rdm else urt
    limit = flush_limit(w)  # see recurrent_common: no subnormal gradients
    dh = np.empty(units, dtype=w.dtype)
    dhp = np.empty(units, dtype=w.dtype)
    e = np.empty(units, dtype=w.dtype)
    gx = np.empty(u3, dtype=w.dtype)  # gradient of the input projection x_t @ W + b0
    d = np.empty(u3, dtype=w.dtype)  # gradient of the recurrent products (+ b1)
    hr = np.empty(units, dtype=w.dtype)
    # The row's d, gx (and r * h_{t-1}) for every step, zeros at masked steps: the weight
    # gradients are products over the whole sequence once the row's BPTT is done.
    d_all = np.empty((steps, u3), dtype=w.dtype)
    gx_all = np.empty((steps, u3), dtype=w.dtype)
    hr_all = np.empty((steps if not reset_after else 1, units), dtype=w.dtype)
    # this row's sum over time of outer(h_{t-1}, d) (r * h_{t-1} for reset_after=False's
    # candidate block); the dropout masks, fixed over time, multiply it once per row
    p = np.empty((units, u3), dtype=w.dtype)
    for f in range(features):
        for j in range(u3):
            dw[f, j] = zero
    for k in range(units):
        for j in range(u3):
            dur[k, j] = zero
    for j in range(u3):
        db[0, j] = zero
        db[1, j] = zero
    for i in range(first_row, stop_row):
        if has_rdm:  # the row's masks folded into U.T once, as in the forward
            for g in range(3):
                for j in range(g * units, (g + 1) * units):
                    for k in range(units):
                        masked_urt[j, k] = urt[j, k] * rdm[g, i, k]
        wt = masked_urt if has_rdm else urt
        for k in range(units):
            dh[k] = g_state[i, k]
            for j in range(u3):
                p[k, j] = zero
        first = first_unmasked(mask, has_mask, i, steps, backwards)
        for s in range(steps - 1, -1, -1):
            t = steps - 1 - s if backwards else s
            on = mask[i, t] if has_mask else True
            if emits(on, s >= first, zero_output):
                add_output_gradient(dh, g_out, i, s, steps, return_sequences)
            if not on:
                for j in range(u3):
                    d_all[t, j] = zero
                    gx_all[t, j] = zero
                if not reset_after:
                    for k in range(units):
                        hr_all[t, k] = zero
                continue
            for k in range(units):
                zk = gates[i, t, k]
                hhk = gates[i, t, 2 * units + k]
                dhk = dh[k]
                dhp[k] = dhk * zk
                d[k] = dhk * (h_prev[i, t, k] - hhk) * derivative(zk, ract)
                gx[2 * units + k] = dhk * (one - zk) * derivative(hhk, act)  # da_h
            if reset_after:
                for k in range(units):
                    da_h = gx[2 * units + k]
                    rk = gates[i, t, units + k]
                    d[units + k] = da_h * rh[i, t, k] * derivative(rk, ract)
                    d[2 * units + k] = da_h * rk  # the gradient of rh
            else:
                # e = da_h @ U_h.T (unmasked): the gradient of r * h*m_h
                for k in range(units):
                    e[k] = zero
                for j in range(units):
                    dj = gx[2 * units + j]
                    d[2 * units + j] = dj
                    for k in range(units):
                        e[k] += dj * urt[2 * units + j, k]
                for k in range(units):
                    rk = gates[i, t, units + k]
                    mk = rdm[2, i, k] if has_rdm else one
                    hk = h_prev[i, t, k]
                    hr[k] = rk * hk
                    d[units + k] = e[k] * hk * mk * derivative(rk, ract)
                    dhp[k] += e[k] * rk * mk
            for j in range(2 * units):
                gx[j] = d[j]
            # dh_prev += sum over gates of (d_g @ U_g.T) * m_g, one loop over the columns
            # (j unrolled by 4, as the forward's k: fewer round trips of dhp)
            j4 = n_rec - n_rec % 4
            for j in range(0, j4, 4):
                d0, d1, d2, d3 = d[j], d[j + 1], d[j + 2], d[j + 3]
                for k in range(units):
                    dhp[k] += (d0 * wt[j, k] + d1 * wt[j + 1, k]) + (
                        d2 * wt[j + 2, k] + d3 * wt[j + 3, k])
            for j in range(j4, n_rec):
                dj = d[j]
                for k in range(units):
                    dhp[k] += dj * wt[j, k]
            for k in range(units):
                dh[k] = flush_subnormal(dhp[k], limit)
            for j in range(u3):
                d[j] = flush_subnormal(d[j], limit)
                gx[j] = flush_subnormal(gx[j], limit)
            for j in range(u3):
                d_all[t, j] = d[j]
                gx_all[t, j] = gx[j]
            if not reset_after:
                for k in range(units):
                    hr_all[t, k] = hr[k]
        # the row's weight gradients and dx, over the whole sequence
        for k in range(units):
            for j in range(u3):
                p[k, j] = zero
        outer_sum(p, h_prev[i], d_all, 0, n_rec)
        if not reset_after:
            outer_sum(p, hr_all, d_all, 2 * units, u3)
        outer_sum(dw, x[i], gx_all, 0, u3)
        for t in range(steps):
            for f in range(features):
                acc = zero
                for j in range(u3):
                    acc += gx_all[t, j] * w[f, j]
                dx[i, t, f] = acc
            for j in range(u3):
                db[0, j] += gx_all[t, j]
            if reset_after:
                for j in range(u3):
                    db[1, j] += d_all[t, j]
        for k in range(units):
            if has_rdm:
                for g in range(3):
                    mk = rdm[g, i, k]
                    for j in range(g * units, (g + 1) * units):
                        dur[k, j] += p[k, j] * mk
            else:
                for j in range(u3):
                    dur[k, j] += p[k, j]
            dh0[i, k] = dh[k]


def _gru_backward(g_out, g_state, x, w, urt, rdm, mask, has_mask, has_rdm, reset_after,
                  backwards, zero_output, return_sequences, act, ract, n_tasks, task_rows,
                  h_prev, gates, rh, dx, dh0, dw_part, dur_part, db_part):
    """Each task's partial weight gradients into dw_part[task], dur_part[task] and
    db_part[task] (summed in task order by the caller)."""
    batch = x.shape[0]
    for task in prange(n_tasks):
        lo, hi = chunk_bounds(task, task_rows, batch)
        gru_backward_rows(lo, hi, g_out, g_state, x, w, urt, rdm, mask, has_mask, has_rdm,
                          reset_after, backwards, zero_output, return_sequences, act, ract,
                          h_prev, gates, rh, dx, dh0, dw_part[task], dur_part[task],
                          db_part[task])
    return dh0


_gru_forward_serial, _gru_forward_parallel = njit_pair(_gru_forward)
_gru_backward_serial, _gru_backward_parallel = njit_pair(_gru_backward)

# No BLAS in this op: the input projection and all weight gradients are computed here,
# per row task, next to the recurrence. Measured on the shared 2-core box (Jena GRU:
# B=128, T=120, F=14, U=32, float32): the four numpy GEMMs such a step needs took 5-9 ms
# on one OpenBLAS thread and 120-580 ms on two while other processes held the cores;
# fused here they cost ~2 ms of kernel time. Serial or parallel: see pick_variant.


def gru_forward(x, w, b0, ur, b1, h0, rdm, mask, reset_after, backwards, zero_output,
                return_sequences, act, ract, out_seq, out_last, h_final, h_prev, gates, rh,
                has_mask=False, has_rdm=False, keep=True, parallel=None):
    """Runs the GRU over x (B, T, F); see the module docstring for the arrays.

    b0 / b1 (3U,): input / recurrent bias (zeros without); rdm (3, B, U) and mask (B, T)
    bool may be dummies when has_rdm / has_mask are False; out_seq (B, T, U) only with
    return_sequences, rh (B, T, U) only with reset_after (dummies otherwise). Without
    ``keep`` (inference), h_prev, gates and rh are (B, 1, .) scratch.
    ``parallel``: None chooses by batch size.
    """
    kernel = pick_variant((_gru_forward_serial, _gru_forward_parallel), x.shape[0], parallel)
    n_tasks, task_rows = batch_chunks(x.shape[0], ROWS_PER_TASK)
    return kernel(x, w, b0, ur, b1, h0, rdm, mask, bool(has_mask), bool(has_rdm),
                  bool(reset_after), bool(backwards), bool(zero_output),
                  bool(return_sequences), int(act), int(ract), bool(keep), n_tasks, task_rows,
                  out_seq, out_last, h_final, h_prev, gates, rh)


def gru_backward(g_out, g_state, x, w, urt, rdm, mask, reset_after, backwards, zero_output,
                 return_sequences, act, ract, h_prev, gates, rh, dx, dh0, dw, dur, db,
                 has_mask=False, has_rdm=False, parallel=None):
    """BPTT through the stored forward: fills dx (B, T, F), dh0 (B, U), dw (F, 3U),
    dur (U, 3U) and db (2, 3U) = gradients of the input and the recurrent bias."""
    kernel = pick_variant((_gru_backward_serial, _gru_backward_parallel), x.shape[0], parallel)
    n_tasks, task_rows = batch_chunks(x.shape[0], ROWS_PER_TASK)
    dw_part = np.empty((n_tasks,) + dw.shape, dtype=dw.dtype)
    dur_part = np.empty((n_tasks,) + dur.shape, dtype=dur.dtype)
    db_part = np.empty((n_tasks,) + db.shape, dtype=db.dtype)
    kernel(g_out, g_state, x, w, urt, rdm, mask, bool(has_mask), bool(has_rdm),
           bool(reset_after), bool(backwards), bool(zero_output), bool(return_sequences),
           int(act), int(ract), n_tasks, task_rows, h_prev, gates, rh, dx, dh0, dw_part,
           dur_part, db_part)
    # partial sums added in task order: the same result serial or parallel
    sum_in_chunk_order(dw_part, dw)
    sum_in_chunk_order(dur_part, dur)
    sum_in_chunk_order(db_part, db)
    return dh0
