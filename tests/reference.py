"""Slow, obvious float64 numpy references for the kernels in kerasr.kernels.

Written from the textbook / Keras 3 formulas, independently of the kernels
(scipy's expit, ndtr, logsumexp where a stable form is needed). Every function
takes arrays of any float dtype and computes in float64.
"""

import numpy as np
from scipy import special

SELU_ALPHA = 1.67326324  # Keras 3's constants
SELU_SCALE = 1.05070098


def _f64(x):
    return np.array(x, dtype=np.float64)


# ---------------------------------------------------------------- activations


def ref_activation(z, name, alpha=0.0):
    z = _f64(z)
    with np.errstate(over="ignore", invalid="ignore"):
        if name == "linear":
            return z
        if name == "relu":
            return np.maximum(z, 0.0)
        if name == "sigmoid":
            return special.expit(z)
        if name == "tanh":
            return np.tanh(z)
        if name == "softplus":
            return np.logaddexp(0.0, z)  # log(1 + e^z)
        if name == "softsign":
            return z / (1.0 + np.abs(z))
        if name == "elu":
            return np.where(z > 0, z, alpha * np.expm1(np.minimum(z, 0.0)))
        if name == "selu":
            return SELU_SCALE * np.where(
                z > 0, z, SELU_ALPHA * np.expm1(np.minimum(z, 0.0))
            )
        if name == "exponential":
            return np.exp(z)
        if name == "swish":
            return z * special.expit(z)
        if name == "gelu":
            return z * special.ndtr(z)  # z * Phi(z) == 0.5 z (1 + erf(z / sqrt 2))
        if name == "hard_sigmoid":
            return np.clip(z / 6.0 + 0.5, 0.0, 1.0)
        if name == "hard_sigmoid_keras2":  # Keras 2's
            return np.clip(0.2 * z + 0.5, 0.0, 1.0)
        if name == "leaky_relu":
            return np.where(z > 0, z, alpha * z)
        if name == "thresholded_relu":
            return np.where(z > alpha, z, 0.0)
        if name == "relu_max":
            return np.minimum(np.maximum(z, 0.0), alpha)
    raise ValueError(name)


def ref_activation_grad(z, name, alpha=0.0):
    """f'(z), with the one-sided choices Keras/TF make at kinks (0 at relu's 0)."""
    z = _f64(z)
    with np.errstate(over="ignore", invalid="ignore"):
        if name == "linear":
            return np.ones_like(z)
        if name == "relu":
            return (z > 0).astype(np.float64)
        if name == "sigmoid":
            s = special.expit(z)
            return s * (1.0 - s)
        if name == "tanh":
            return 1.0 / np.cosh(z) ** 2
        if name == "softplus":
            return special.expit(z)
        if name == "softsign":
            return 1.0 / (1.0 + np.abs(z)) ** 2
        if name == "elu":
            return np.where(z > 0, 1.0, alpha * np.exp(np.minimum(z, 0.0)))
        if name == "selu":
            return SELU_SCALE * np.where(
                z > 0, 1.0, SELU_ALPHA * np.exp(np.minimum(z, 0.0))
            )
        if name == "exponential":
            return np.exp(z)
        if name == "swish":
            s = special.expit(z)
            return s + z * s * (1.0 - s)
        if name == "gelu":
            return special.ndtr(z) + z * np.exp(-0.5 * z * z) / np.sqrt(2.0 * np.pi)
        if name == "hard_sigmoid":
            return np.where(np.abs(z) < 3.0, 1.0 / 6.0, 0.0)
        if name == "hard_sigmoid_keras2":
            return np.where(np.abs(z) < 2.5, 0.2, 0.0)
        if name == "leaky_relu":
            return np.where(z > 0, 1.0, alpha)
        if name == "thresholded_relu":
            return (z > alpha).astype(np.float64)
        if name == "relu_max":
            return ((z > 0) & (z < alpha)).astype(np.float64)
    raise ValueError(name)


def activation_kinks(name, alpha=0.0):
    """Points where f or f' is not smooth (central differences fail there)."""
    return {
        "relu": [0.0],
        "elu": [0.0],
        "selu": [0.0],
        "hard_sigmoid": [-3.0, 3.0],
        "hard_sigmoid_keras2": [-2.5, 2.5],
        "leaky_relu": [0.0],
        "thresholded_relu": [alpha],
        "relu_max": [0.0, alpha],
    }.get(name, [])


# -------------------------------------------------------------------- softmax


def ref_softmax(z):
    return special.softmax(_f64(z), axis=1)


def ref_softmax_grad(p, g):
    """J(p)^T g with the explicit Jacobian J = diag(p) - p p^T per row."""
    p, g = _f64(p), _f64(g)
    out = np.empty_like(p)
    for i in range(p.shape[0]):
        jac = np.diag(p[i]) - np.outer(p[i], p[i])
        out[i] = jac.T @ g[i]
    return out


# --------------------------------------------------------------------- losses


def ref_log_softmax(logits):
    logits = _f64(logits)
    return logits - special.logsumexp(logits, axis=1, keepdims=True)


def ref_softmax_cross_entropy(logits, y):
    """(probs, per-row loss) for targets y (rows of class weights)."""
    return ref_softmax(logits), -(_f64(y) * ref_log_softmax(logits)).sum(axis=1)


def ref_softmax_cross_entropy_grad(logits, y, g):
    """d(sum_i g_i loss_i)/d logits = g_i (p_ij sum_k y_ik - y_ij)."""
    p, y, g = ref_softmax(logits), _f64(y), _f64(g)
    return g[:, None] * (p * y.sum(axis=1, keepdims=True) - y)


def ref_one_hot(labels, n_classes):
    out = np.zeros((len(labels), n_classes))
    out[np.arange(len(labels)), labels] = 1.0
    return out


def ref_sparse_softmax_cross_entropy(logits, labels):
    return ref_softmax_cross_entropy(logits, ref_one_hot(labels, np.shape(logits)[1]))


def ref_sparse_softmax_cross_entropy_grad(logits, labels, g):
    y = ref_one_hot(labels, np.shape(logits)[1])
    return ref_softmax_cross_entropy_grad(logits, y, g)


def ref_sigmoid_cross_entropy(z, y):
    """-(y log sigmoid(z) + (1-y) log(1 - sigmoid(z))), with log sigmoid(z) =
    -log(1 + e^-z)."""
    z, y = _f64(z), _f64(y)
    log_p = -np.logaddexp(0.0, -z)
    log_not_p = -np.logaddexp(0.0, z)
    return -(y * log_p + (1.0 - y) * log_not_p)


def ref_sigmoid_cross_entropy_grad(z, y, g):
    return _f64(g) * (special.expit(_f64(z)) - _f64(y))


# ----------------------------------------------------------------- optimizers
# Each returns new arrays (inputs untouched).


def ref_sgd_step(var, grad, lr):
    return _f64(var) - lr * _f64(grad)


def ref_sgd_momentum_step(var, grad, velocity, lr, momentum, nesterov):
    var, grad, velocity = _f64(var), _f64(grad), _f64(velocity)
    velocity = momentum * velocity - lr * grad
    if nesterov:
        var = var + momentum * velocity - lr * grad
    else:
        var = var + velocity
    return var, velocity


def ref_rmsprop_step(var, grad, state, lr, rho, momentum, epsilon, centered):
    """Keras 3 RMSprop. state: dict with "velocity", and "average_grad" when
    centered, "momentum" when momentum > 0. Returns (var, new state)."""
    var, grad = _f64(var), _f64(grad)
    state = {k: _f64(v) for k, v in state.items()}
    state["velocity"] = rho * state["velocity"] + (1.0 - rho) * grad**2
    if centered:
        state["average_grad"] = rho * state["average_grad"] + (1.0 - rho) * grad
        denominator = state["velocity"] - state["average_grad"] ** 2 + epsilon
    else:
        denominator = state["velocity"] + epsilon
    increment = lr * grad / np.sqrt(denominator)
    if momentum > 0:
        state["momentum"] = momentum * state["momentum"] + increment
        var = var - state["momentum"]
    else:
        var = var - increment
    return var, state


def ref_adam_step(var, grad, m, v, lr, beta_1, beta_2, epsilon, t, v_hat=None):
    """Adam step number t (1-based), Kingma & Ba with Keras's "epsilon hat".
    With v_hat given, AMSGrad. Returns (var, m, v, v_hat)."""
    var, grad, m, v = _f64(var), _f64(grad), _f64(m), _f64(v)
    m = beta_1 * m + (1.0 - beta_1) * grad
    v = beta_2 * v + (1.0 - beta_2) * grad**2
    denominator_v = v
    if v_hat is not None:
        v_hat = np.maximum(_f64(v_hat), v)
        denominator_v = v_hat
    lr_t = lr * np.sqrt(1.0 - beta_2**t) / (1.0 - beta_1**t)
    var = var - lr_t * m / (np.sqrt(denominator_v) + epsilon)
    return var, m, v, v_hat


# ------------------------------------------------------- dropout, embedding, sums


def ref_dropout(x, u, rate):
    """(out, mask) of inverted dropout: keep where u >= rate, scale 1/(1-rate)."""
    mask = (np.asarray(u) >= rate).astype(np.float64) / (1.0 - rate)
    return _f64(x) * mask, mask


def ref_embedding(table, indices):
    return _f64(table)[np.asarray(indices)]


def ref_embedding_grad(indices, g, n_rows):
    g = _f64(g)
    out = np.zeros((n_rows, g.shape[1]))
    np.add.at(out, np.asarray(indices), g)
    return out


def ref_column_sum(x):
    return _f64(x).sum(axis=0)


# -------------------------------------------------------------- normalization


def ref_batch_norm(x, gamma, beta, epsilon):
    """Training-mode batch normalization of 2-D x over its rows (biased variance).
    Returns (out, mean, var)."""
    x = _f64(x)
    mean = x.mean(axis=0)
    var = ((x - mean) ** 2).mean(axis=0)
    out = _f64(gamma) * (x - mean) / np.sqrt(var + epsilon) + _f64(beta)
    return out, mean, var


def ref_batch_norm_grad(x, gamma, epsilon, g):
    """(dx, dgamma, dbeta) of sum(g * batch_norm(x)), dx from the explicit Jacobian of each
    column: d xhat_i / d x_k = (delta_ik - 1/n - xhat_i xhat_k / n) / sqrt(var + eps)."""
    x, gamma, g = _f64(x), _f64(gamma), _f64(g)
    n, cols = x.shape
    mean = x.mean(axis=0)
    var = ((x - mean) ** 2).mean(axis=0)
    inv = 1.0 / np.sqrt(var + epsilon)
    xhat = (x - mean) * inv
    dx = np.empty_like(x)
    for j in range(cols):
        jac = inv[j] * (np.eye(n) - 1.0 / n - np.outer(xhat[:, j], xhat[:, j]) / n)
        dx[:, j] = jac.T @ (gamma[j] * g[:, j])
    return dx, (g * xhat).sum(axis=0), g.sum(axis=0)


def ref_layer_norm(x, gamma, beta, epsilon):
    """Layer normalization of each row of 2-D x. Returns (out, mean, var) per row."""
    x = _f64(x)
    mean = x.mean(axis=1, keepdims=True)
    var = ((x - mean) ** 2).mean(axis=1, keepdims=True)
    out = (x - mean) / np.sqrt(var + epsilon) * _f64(gamma) + _f64(beta)
    return out, mean[:, 0], var[:, 0]


def ref_layer_norm_grad(x, gamma, epsilon, g):
    """(dx, dgamma, dbeta) of sum(g * layer_norm(x)), dx from the explicit Jacobian of each row."""
    x, gamma, g = _f64(x), _f64(gamma), _f64(g)
    rows, n = x.shape
    mean = x.mean(axis=1, keepdims=True)
    var = ((x - mean) ** 2).mean(axis=1, keepdims=True)
    inv = 1.0 / np.sqrt(var + epsilon)
    xhat = (x - mean) * inv
    dx = np.empty_like(x)
    for i in range(rows):
        jac = inv[i, 0] * (np.eye(n) - 1.0 / n - np.outer(xhat[i], xhat[i]) / n)
        dx[i] = jac.T @ (gamma * g[i])
    return dx, (g * xhat).sum(axis=0), g.sum(axis=0)


# ------------------------------------------- depthwise and locally connected convolutions


def ref_conv_geometry(size, kernel, stride, dilation, padding):
    """(output size, zeros before) of one spatial axis, by TensorFlow's "valid"/"same" rules."""
    span = (kernel - 1) * dilation + 1
    if padding == "valid":
        return (size - span) // stride + 1, 0
    out = -(-size // stride)
    return out, max((out - 1) * stride + span - size, 0) // 2


def _ref_windows(spatial, kernel_shape, strides, dilation, padding):
    """Per output position: (output index, [(kernel offset, input index), ...] inside the input)."""
    geometry = [ref_conv_geometry(n, k, s, d, padding)
                for n, k, s, d in zip(spatial, kernel_shape, strides, dilation)]
    out_shape = tuple(o for o, _ in geometry)
    windows = []
    for o in np.ndindex(*out_shape):
        taps = []
        for k in np.ndindex(*kernel_shape):
            i = tuple(o[a] * strides[a] + k[a] * dilation[a] - geometry[a][1]
                      for a in range(len(spatial)))
            if all(0 <= i[a] < spatial[a] for a in range(len(spatial))):
                taps.append((k, i))
        windows.append((o, taps))
    return out_shape, windows


def ref_depthwise_conv(x, kernel, strides, padding, dilation):
    """Channels-last depthwise convolution of x (batch, *spatial, C) with kernel
    (*k, C, M): output channel c*M + m is channel c convolved with filter m."""
    x, kernel = _f64(x), _f64(kernel)
    spatial, k_shape = x.shape[1:-1], kernel.shape[:-2]
    channels, mult = kernel.shape[-2:]
    out_shape, windows = _ref_windows(spatial, k_shape, strides, dilation, padding)
    out = np.zeros((x.shape[0],) + out_shape + (channels * mult,))
    for o, taps in windows:
        for k, i in taps:
            for c in range(channels):
                for m in range(mult):
                    out[(slice(None),) + o + (c * mult + m,)] += x[(slice(None),) + i + (c,)] * kernel[k + (c, m)]
    return out


def ref_depthwise_conv_grads(x, kernel, g, strides, padding, dilation):
    """(dx, dkernel) of sum(g * ref_depthwise_conv(x, kernel, ...))."""
    x, kernel, g = _f64(x), _f64(kernel), _f64(g)
    spatial, k_shape = x.shape[1:-1], kernel.shape[:-2]
    channels, mult = kernel.shape[-2:]
    _, windows = _ref_windows(spatial, k_shape, strides, dilation, padding)
    dx, dk = np.zeros_like(x), np.zeros_like(kernel)
    for o, taps in windows:
        for k, i in taps:
            for c in range(channels):
                for m in range(mult):
                    go = g[(slice(None),) + o + (c * mult + m,)]
                    dx[(slice(None),) + i + (c,)] += go * kernel[k + (c, m)]
                    dk[k + (c, m)] += np.sum(go * x[(slice(None),) + i + (c,)])
    return dx, dk


def _ref_local_patches(spatial, kernel_size, strides):
    out_shape = tuple((n - k) // s + 1 for n, k, s in zip(spatial, kernel_size, strides))
    slices = [tuple(slice(o[a] * strides[a], o[a] * strides[a] + kernel_size[a])
                    for a in range(len(spatial))) for o in np.ndindex(*out_shape)]
    return out_shape, slices


def ref_local_conv(x, kernel, kernel_size, strides, data_format="channels_last"):
    """Keras 2's unshared-weights convolution (implementation 1, no bias): at output position p
    the input patch, flattened in the input's own layout ((*k, C) channels-last, (C, *k)
    channels-first), times kernel[p] of shape (patch size, filters)."""
    x, kernel = _f64(x), _f64(kernel)
    first = data_format == "channels_first"
    spatial = x.shape[2:] if first else x.shape[1:-1]
    out_shape, slices = _ref_local_patches(spatial, kernel_size, strides)
    batch, filters = x.shape[0], kernel.shape[-1]
    out = np.zeros((batch, len(slices), filters))
    for p, window in enumerate(slices):
        index = (slice(None), slice(None)) + window if first else (slice(None),) + window
        patch = x[index].reshape(batch, -1)
        for f in range(filters):
            for j in range(patch.shape[1]):
                out[:, p, f] += patch[:, j] * kernel[p, j, f]
    out = out.reshape((batch,) + out_shape + (filters,))
    return np.moveaxis(out, -1, 1) if first else out


def ref_local_conv_grads(x, kernel, g, kernel_size, strides, data_format="channels_last"):
    """(dx, dkernel) of sum(g * ref_local_conv(x, kernel, ...))."""
    x, kernel, g = _f64(x), _f64(kernel), _f64(g)
    first = data_format == "channels_first"
    spatial = x.shape[2:] if first else x.shape[1:-1]
    _, slices = _ref_local_patches(spatial, kernel_size, strides)
    batch, filters = x.shape[0], kernel.shape[-1]
    g = (np.moveaxis(g, 1, -1) if first else g).reshape(batch, len(slices), filters)
    dx, dk = np.zeros_like(x), np.zeros_like(kernel)
    for p, window in enumerate(slices):
        index = (slice(None), slice(None)) + window if first else (slice(None),) + window
        patch = x[index].reshape(batch, -1)
        dpatch = np.zeros_like(patch)
        for f in range(filters):
            for j in range(patch.shape[1]):
                dpatch[:, j] += g[:, p, f] * kernel[p, j, f]
                dk[p, j, f] += np.sum(g[:, p, f] * patch[:, j])
        dx[index] += dpatch.reshape(x[index].shape)
    return dx, dk


# ------------------------------------------------ pooling, k-max pooling and upsampling


def _ref_pool_windows(spatial, pool, strides, padding):
    """(output index, input indices of its window inside the input, in window order) per
    output position, TensorFlow's geometry: "valid" floor((n - p) / s) + 1 outputs; "same"
    ceil(n / s), padded by max((out - 1) s + p - n, 0), the smaller half before."""
    import itertools
    per_axis = []
    for n, p, s in zip(spatial, pool, strides):
        if padding == "valid":
            count, before = int(np.floor((n - p) / s)) + 1, 0
        else:
            count = int(np.ceil(n / s))
            before = max((count - 1) * s + p - n, 0) // 2
        per_axis.append([[i * s - before + k for k in range(p) if 0 <= i * s - before + k < n]
                         for i in range(count)])
    for o in np.ndindex(*(len(a) for a in per_axis)):
        yield o, list(itertools.product(*[per_axis[d][o[d]] for d in range(len(o))]))


def ref_pool(x, pool, strides, padding, mode):
    """Max or average pooling of channels_last x (batch, spatial..., channels); the average
    counts only the window entries inside the input."""
    x = _f64(x)
    windows = list(_ref_pool_windows(x.shape[1:-1], pool, strides, padding))
    out_shape = tuple(max(o[d] for o, _ in windows) + 1 for d in range(x.ndim - 2))
    out = np.zeros((x.shape[0],) + out_shape + (x.shape[-1],))
    for n in range(x.shape[0]):
        for c in range(x.shape[-1]):
            for o, taps in windows:
                values = [x[(n,) + t + (c,)] for t in taps]
                out[(n,) + o + (c,)] = max(values) if mode == "max" else sum(values) / len(values)
    return out


def ref_pool_grad(x, g, pool, strides, padding, mode):
    """Gradient of ref_pool: max sends each output's gradient to the first maximum of its
    window (window order); average spreads it evenly over the window's entries."""
    x, g = _f64(x), _f64(g)
    dx = np.zeros_like(x)
    for n in range(x.shape[0]):
        for c in range(x.shape[-1]):
            for o, taps in _ref_pool_windows(x.shape[1:-1], pool, strides, padding):
                gv = g[(n,) + o + (c,)]
                if mode == "max":
                    values = [x[(n,) + t + (c,)] for t in taps]
                    best = taps[values.index(max(values))]
                    dx[(n,) + best + (c,)] += gv
                else:
                    for t in taps:
                        dx[(n,) + t + (c,)] += gv / len(taps)
    return dx


def ref_k_max_pool(x, k):
    """(values, steps): per (sample, channel) the k largest values (ties: earliest steps
    first), listed in time order."""
    x = _f64(x)
    n_batch, steps, channels = x.shape
    out = np.zeros((n_batch, k, channels))
    chosen = np.zeros((n_batch, k, channels), dtype=np.int64)
    for n in range(n_batch):
        for c in range(channels):
            ranked = sorted(range(steps), key=lambda t: (-x[n, t, c], t))
            kept = sorted(ranked[:k])
            for j, t in enumerate(kept):
                out[n, j, c] = x[n, t, c]
                chosen[n, j, c] = t
    return out, chosen


def ref_upsample_nearest(x, size):
    """Each entry of channels_last x repeated size[i] times along spatial axis i."""
    x = _f64(x)
    spatial = tuple(n * f for n, f in zip(x.shape[1:-1], size))
    out = np.zeros((x.shape[0],) + spatial + (x.shape[-1],))
    for o in np.ndindex(*spatial):
        source = tuple(i // f for i, f in zip(o, size))
        out[(slice(None),) + o] = x[(slice(None),) + source]
    return out


def ref_linear_resize_matrix(n_in, factor):
    """(n_in * factor, n_in) matrix of 1-D linear interpolation with half-pixel centers:
    output i samples the input at (i + 0.5) / factor - 0.5, clamped to [0, n_in - 1]."""
    m = np.zeros((n_in * factor, n_in))
    for i in range(n_in * factor):
        src = min(max((i + 0.5) / factor - 0.5, 0.0), n_in - 1.0)
        lo = int(np.floor(src))
        hi = min(lo + 1, n_in - 1)
        m[i, lo] += 1.0 - (src - lo)
        m[i, hi] += src - lo
    return m


def ref_upsample_bilinear(x, size):
    """Bilinear upsampling of channels_last 2-D x (separable: rows, then columns)."""
    mh = ref_linear_resize_matrix(x.shape[1], size[0])
    mw = ref_linear_resize_matrix(x.shape[2], size[1])
    return np.einsum("ih,jw,nhwc->nijc", mh, mw, _f64(x))


def ref_upsample_bilinear_grad(x_shape, g, size):
    mh = ref_linear_resize_matrix(x_shape[1], size[0])
    mw = ref_linear_resize_matrix(x_shape[2], size[1])
    return np.einsum("ih,jw,nijc->nhwc", mh, mw, _f64(g))


# ------------------------------------------------------ convolutions and their transposes


def ref_convnd_pads(size, kernel, stride, dilation, padding):
    """(output size, zeros before) of one axis of a convolution: "valid" pads nothing;
    "same" keeps ceil(size / stride) outputs, splitting the padding with the odd zero after
    (TensorFlow); "causal" pads span - 1 zeros before, then convolves as "valid" (Keras)."""
    span = (kernel - 1) * dilation + 1
    if padding == "valid":
        return (size - span) // stride + 1, 0
    if padding == "causal":
        return (size + span - 1 - span) // stride + 1, span - 1
    out = -(-size // stride)
    return out, max((out - 1) * stride + span - size, 0) // 2


def ref_convnd(x, w, strides, dilation, padding, groups=1):
    """Convolution of channels_last x (N, *spatial, C) by w (*k, C // groups, F), plain loops:
    out[n, o, f] = sum over taps t and the group's channels c of
    x[n, o * stride + t * dilation - pad_before, c] * w[t, c, f] (zero outside x)."""
    x, w = _f64(x), _f64(w)
    rank = x.ndim - 2
    ksize, cg, filters = w.shape[:rank], w.shape[-2], w.shape[-1]
    fg = filters // groups
    geometry = [ref_convnd_pads(x.shape[1 + a], ksize[a], strides[a], dilation[a], padding)
                for a in range(rank)]
    out = np.zeros((x.shape[0],) + tuple(o for o, _ in geometry) + (filters,))
    for n in range(x.shape[0]):
        for o in np.ndindex(*out.shape[1:-1]):
            for t in np.ndindex(*ksize):
                i = tuple(o[a] * strides[a] + t[a] * dilation[a] - geometry[a][1]
                          for a in range(rank))
                if not all(0 <= i[a] < x.shape[1 + a] for a in range(rank)):
                    continue
                for f in range(filters):
                    g = f // fg
                    out[(n,) + o + (f,)] += x[(n,) + i][g * cg:(g + 1) * cg] @ w[t][:, f]
    return out


def ref_convnd_grads(x, w, g, strides, dilation, padding, groups=1):
    """(dx, dw) of sum(ref_convnd(x, w) * g), by the same loops scattering g back."""
    x, w, g = _f64(x), _f64(w), _f64(g)
    rank = x.ndim - 2
    ksize, cg, filters = w.shape[:rank], w.shape[-2], w.shape[-1]
    fg = filters // groups
    pads = [ref_convnd_pads(x.shape[1 + a], ksize[a], strides[a], dilation[a], padding)[1]
            for a in range(rank)]
    dx, dw = np.zeros_like(x), np.zeros_like(w)
    for n in range(x.shape[0]):
        for o in np.ndindex(*g.shape[1:-1]):
            for t in np.ndindex(*ksize):
                i = tuple(o[a] * strides[a] + t[a] * dilation[a] - pads[a] for a in range(rank))
                if not all(0 <= i[a] < x.shape[1 + a] for a in range(rank)):
                    continue
                for f in range(filters):
                    grp = slice((f // fg) * cg, (f // fg + 1) * cg)
                    dx[(n,) + i][grp] += g[(n,) + o + (f,)] * w[t][:, f]
                    dw[t][:, f] += g[(n,) + o + (f,)] * x[(n,) + i][grp]
    return dx, dw


def ref_conv_transpose_nd(x, w, strides, dilation, out_spatial):
    """Transposed convolution as TensorFlow defines it: the input gradient of the convolution
    (by w of shape (*k, F, C)) that maps a (N, *out_spatial, F) tensor to x's (N, *spatial, C),
    with TensorFlow's padding for that size: out[n, i * stride + t * dilation - before] +=
    w[t] @ x[n, i], before = max((spatial - 1) * stride + span - out, 0) // 2."""
    x, w = _f64(x), _f64(w)
    rank = x.ndim - 2
    ksize, filters = w.shape[:rank], w.shape[-2]
    before = [max((x.shape[1 + a] - 1) * strides[a] + (ksize[a] - 1) * dilation[a] + 1
                  - out_spatial[a], 0) // 2 for a in range(rank)]
    out = np.zeros((x.shape[0],) + tuple(out_spatial) + (filters,))
    for n in range(x.shape[0]):
        for i in np.ndindex(*x.shape[1:-1]):
            for t in np.ndindex(*ksize):
                o = tuple(i[a] * strides[a] + t[a] * dilation[a] - before[a] for a in range(rank))
                if all(0 <= o[a] < out_spatial[a] for a in range(rank)):
                    out[(n,) + o] += w[t] @ x[(n,) + i]
    return out


# ------------------------------------------------------- recurrent: GRU, SimpleRNN


def _ref_recurrent_options(inputs, mask, recurrent_dropout_mask, n_gates):
    x = _f64(inputs)
    batch, steps = x.shape[:2]
    mask = np.ones((batch, steps), bool) if mask is None else np.asarray(mask, bool)
    rdm = recurrent_dropout_mask
    if rdm is not None:
        rdm = _f64(rdm)
        if rdm.ndim == 2:
            rdm = np.stack([rdm] * n_gates)
    return x, mask, rdm


def _ref_recurrent_loop(x, h0, mask, go_backwards, return_sequences, zero_output_for_mask,
                        step):
    """Keras's masked time loop: step(t, h) -> new h for one sample; held/zeroed outputs."""
    batch, steps = x.shape[:2]
    h_all = _f64(h0).copy()
    units = h_all.shape[1]
    outputs = np.zeros((batch, steps, units))
    for b in range(batch):
        h = h_all[b].copy()
        previous_output = np.zeros(units)
        for s in range(steps):
            t = steps - 1 - s if go_backwards else s
            if mask[b, t]:
                h = step(b, t, h)
                previous_output = h.copy()
                outputs[b, s] = h
            else:
                outputs[b, s] = 0.0 if zero_output_for_mask else previous_output
        h_all[b] = h
    output = outputs if return_sequences else outputs[:, -1]
    return output, [h_all]


def gru_sequence_reference(inputs, initial_states, kernel, recurrent_kernel, bias=None, *,
                           reset_after=True, mask=None, recurrent_dropout_mask=None,
                           go_backwards=False, return_sequences=False,
                           zero_output_for_mask=False, activation="tanh",
                           recurrent_activation="sigmoid"):
    """Keras 3's GRUCell step by step; a (3, B, U) dropout mask is one mask per gate z, r, h
    applied to h_{t-1} in the recurrent matmuls only."""
    x, mask, rdm = _ref_recurrent_options(inputs, mask, recurrent_dropout_mask, 3)
    w, u = _f64(kernel), _f64(recurrent_kernel)
    n = u.shape[0]
    if bias is None:
        b_in, b_rec = np.zeros(3 * n), np.zeros(3 * n)
    elif reset_after:
        b_in, b_rec = _f64(bias)[0], _f64(bias)[1]
    else:
        b_in, b_rec = _f64(bias), np.zeros(3 * n)

    def step(b, t, h):
        hz, hr, hh_in = (h, h, h) if rdm is None else (h * rdm[0, b], h * rdm[1, b], h * rdm[2, b])
        xw = x[b, t] @ w + b_in
        z = ref_activation(xw[:n] + hz @ u[:, :n] + b_rec[:n], recurrent_activation)
        r = ref_activation(xw[n:2 * n] + hr @ u[:, n:2 * n] + b_rec[n:2 * n],
                           recurrent_activation)
        if reset_after:
            candidate = xw[2 * n:] + r * (hh_in @ u[:, 2 * n:] + b_rec[2 * n:])
        else:
            candidate = xw[2 * n:] + (r * hh_in) @ u[:, 2 * n:]
        hh = ref_activation(candidate, activation)
        return z * h + (1.0 - z) * hh

    return _ref_recurrent_loop(x, initial_states[0], mask, go_backwards, return_sequences,
                               zero_output_for_mask, step)


def simple_rnn_sequence_reference(inputs, initial_states, kernel, recurrent_kernel, bias=None,
                                  *, mask=None, recurrent_dropout_mask=None, go_backwards=False,
                                  return_sequences=False, zero_output_for_mask=False,
                                  activation="tanh"):
    """Keras 3's SimpleRNNCell step by step: h = act(x W + b + (h*m) U)."""
    x, mask, rdm = _ref_recurrent_options(inputs, mask, recurrent_dropout_mask, 1)
    w, u = _f64(kernel), _f64(recurrent_kernel)
    b_in = np.zeros(u.shape[1]) if bias is None else _f64(bias)

    def step(b, t, h):
        hm = h if rdm is None else h * rdm[0, b]
        return ref_activation(x[b, t] @ w + b_in + hm @ u, activation)

    return _ref_recurrent_loop(x, initial_states[0], mask, go_backwards, return_sequences,
                               zero_output_for_mask, step)


# ------------------------------------------------------------- convolutional LSTM (issue 5)


def conv_lstm2d_sequence_reference(x, states, kernel, recurrent_kernel, bias=None, *,
                                   strides=(1, 1), padding="valid", dilation_rate=(1, 1),
                                   data_format="channels_last", mask=None, dropout_mask=None,
                                   recurrent_dropout_mask=None, go_backwards=False,
                                   return_sequences=False, zero_output_for_mask=False,
                                   activation="tanh", recurrent_activation="sigmoid"):
    """Keras 3's ConvLSTM2D, one step at a time in float64: per gate k (i, f, c, o),
    z_k = conv(x_t * dm_k, W_k) + b_k + conv_same(h * rm_k, U_k); c = f c + i g, h = o act(c).
    Masked steps keep h and c; their output is the previous output (zeros at first) or zeros
    with zero_output_for_mask. Returns (output, [h, c]) in data_format's layout."""
    first = data_format == "channels_first"
    x = _f64(x)
    if first:
        x = np.moveaxis(x, 2, -1)
    batch, steps = x.shape[:2]
    kernel, recurrent_kernel = _f64(kernel), _f64(recurrent_kernel)
    filters = kernel.shape[-1] // 4
    bias = np.zeros(4 * filters) if bias is None else _f64(bias)

    def per_gate(m, to_last):
        if m is None:
            return [None] * 4
        m = _f64(m)
        if to_last:
            m = np.moveaxis(m, -3, -1)
        return [m] * 4 if m.ndim == 4 else [m[k] for k in range(4)]

    dms = per_gate(dropout_mask, first)
    rms = per_gate(recurrent_dropout_mask, first)
    probe = ref_convnd(x[:, 0], kernel[..., :filters], strides, dilation_rate, padding)
    if states is None:
        h, c = np.zeros(probe.shape), np.zeros(probe.shape)
    else:
        h, c = (np.moveaxis(_f64(s), 1, -1) if first else _f64(s) for s in states)
    order = range(steps - 1, -1, -1) if go_backwards else range(steps)
    previous = np.zeros(probe.shape)
    outputs = []
    for t in order:
        z = []
        for k in range(4):
            cols = slice(k * filters, (k + 1) * filters)
            xk = x[:, t] if dms[k] is None else x[:, t] * dms[k]
            hk = h if rms[k] is None else h * rms[k]
            z.append(ref_convnd(xk, kernel[..., cols], strides, dilation_rate, padding)
                     + bias[cols]
                     + ref_convnd(hk, recurrent_kernel[..., cols], (1, 1), (1, 1), "same"))
        i = ref_activation(z[0], recurrent_activation)
        f = ref_activation(z[1], recurrent_activation)
        g = ref_activation(z[2], activation)
        o = ref_activation(z[3], recurrent_activation)
        c_new = f * c + i * g
        h_new = o * ref_activation(c_new, activation)
        keep = np.ones((batch, 1, 1, 1), bool) if mask is None else \
            np.asarray(mask, bool)[:, t].reshape(batch, 1, 1, 1)
        h = np.where(keep, h_new, h)
        c = np.where(keep, c_new, c)
        out = np.where(keep, h_new, 0.0 if zero_output_for_mask else previous)
        previous = out
        outputs.append(out)
    output = np.stack(outputs, axis=1) if return_sequences else outputs[-1]
    if first:
        output = np.moveaxis(output, -1, 2 if return_sequences else 1)
        h, c = np.moveaxis(h, -1, 1), np.moveaxis(c, -1, 1)
    return output, [h, c]


def _ref_rnn_activation(z, name):
    """The activations the fused recurrent kernels support, in float64."""
    if name == "tanh":
        return np.tanh(z)
    if name == "sigmoid":
        return 1.0 / (1.0 + np.exp(-z))
    if name == "hard_sigmoid":
        return np.clip((z + 3.0) / 6.0, 0.0, 1.0)
    if name == "relu":
        return np.maximum(z, 0.0)
    if name == "linear":
        return z
    if name == "hard_sigmoid_keras2":
        return np.clip(0.2 * z + 0.5, 0.0, 1.0)
    raise ValueError(name)


def lstm_sequence_reference(inputs, initial_states, kernel, recurrent_kernel, bias=None, *,
                            mask=None, recurrent_dropout_mask=None, go_backwards=False,
                            return_sequences=False, zero_output_for_mask=False,
                            activation="tanh", recurrent_activation="sigmoid"):
    """Keras's LSTM step by step in float64: returns (output, [h_T, c_T])."""
    x = _f64(inputs)
    h, c = (_f64(s).copy() for s in initial_states)
    w, u = _f64(kernel), _f64(recurrent_kernel)
    units = u.shape[0]
    b = np.zeros(4 * units) if bias is None else _f64(bias)
    batch, steps = x.shape[:2]
    held = np.zeros((batch, units))  # the previous output, for masked steps
    outputs = []
    for s in range(steps):
        t = steps - 1 - s if go_backwards else s
        h_in = h * _f64(recurrent_dropout_mask) if recurrent_dropout_mask is not None else h
        z = x[:, t] @ w + h_in @ u + b
        i = _ref_rnn_activation(z[:, :units], recurrent_activation)
        f = _ref_rnn_activation(z[:, units:2 * units], recurrent_activation)
        g = _ref_rnn_activation(z[:, 2 * units:3 * units], activation)
        o = _ref_rnn_activation(z[:, 3 * units:], recurrent_activation)
        c_new = f * c + i * g
        h_new = o * _ref_rnn_activation(c_new, activation)
        out = h_new.copy()
        for n in range(batch):
            if mask is not None and not mask[n, t]:
                h_new[n], c_new[n] = h[n], c[n]
                out[n] = 0.0 if zero_output_for_mask else held[n]
        h, c, held = h_new, c_new, out
        outputs.append(out)
    output = np.stack(outputs, axis=1) if return_sequences else outputs[-1]
    return output, [h, c]
