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
