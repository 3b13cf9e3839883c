"""Optimizer update steps as in Keras 3's update_step, in place on flat (1-D)
variables and slots. Hyperparameters arrive as Python floats and are cast to the
variable's dtype, as Keras casts them."""

import math

from ._jit import dtype_const, flush_subnormal, njit_pair, pick, prange, smallest_normal


def _sgd_update(var, grad, learning_rate):
    lr = dtype_const(var, learning_rate)
    for i in prange(var.shape[0]):
        var[i] -= lr * grad[i]
    return var


def _sgd_momentum_update(var, grad, velocity, learning_rate, momentum, nesterov):
    lr = dtype_const(var, learning_rate)
    mom = dtype_const(var, momentum)
    tiny = smallest_normal(var)
    if nesterov:
        for i in prange(var.shape[0]):
            v = flush_subnormal(mom * velocity[i] - lr * grad[i], tiny)
            velocity[i] = v
            var[i] += mom * v - lr * grad[i]
    else:
        for i in prange(var.shape[0]):
            v = flush_subnormal(mom * velocity[i] - lr * grad[i], tiny)
            velocity[i] = v
            var[i] += v
    return var


def _rmsprop_update(var, grad, velocity, learning_rate, rho, epsilon):
    lr = dtype_const(var, learning_rate)
    rho_t = dtype_const(var, rho)
    one_minus_rho = dtype_const(var, 1.0 - rho)
    eps = dtype_const(var, epsilon)
    tiny = smallest_normal(var)
    for i in prange(var.shape[0]):
        g = grad[i]
        v = flush_subnormal(rho_t * velocity[i] + one_minus_rho * (g * g), tiny)
        velocity[i] = v
        var[i] -= lr * g / math.sqrt(v + eps)
    return var


def _rmsprop_momentum_update(
    var, grad, velocity, average_grad, momentum_buf, learning_rate, rho, momentum,
    epsilon, centered,
):
    # Slots Keras would not create (average_grad unless centered, momentum_buf
    # unless momentum > 0) are not touched and may be empty arrays.
    lr = dtype_const(var, learning_rate)
    rho_t = dtype_const(var, rho)
    one_minus_rho = dtype_const(var, 1.0 - rho)
    mom = dtype_const(var, momentum)
    eps = dtype_const(var, epsilon)
    use_momentum = momentum > 0.0
    tiny = smallest_normal(var)
    for i in prange(var.shape[0]):
        g = grad[i]
        v = flush_subnormal(rho_t * velocity[i] + one_minus_rho * (g * g), tiny)
        velocity[i] = v
        if centered:
            avg = flush_subnormal(rho_t * average_grad[i] + one_minus_rho * g, tiny)
            average_grad[i] = avg
            denominator = v - avg * avg + eps
        else:
            denominator = v + eps
        increment = lr * g / math.sqrt(denominator)
        if use_momentum:
            buf = flush_subnormal(mom * momentum_buf[i] + increment, tiny)
            momentum_buf[i] = buf
            var[i] -= buf
        else:
            var[i] -= increment
    return var


def _adam_update(var, grad, m, v, alpha, beta_1, beta_2, epsilon):
    alpha_t = dtype_const(var, alpha)
    one_minus_beta_1 = dtype_const(var, 1.0 - beta_1)
    one_minus_beta_2 = dtype_const(var, 1.0 - beta_2)
    eps = dtype_const(var, epsilon)
    tiny = smallest_normal(var)
    for i in prange(var.shape[0]):
        g = grad[i]
        mi = flush_subnormal(m[i] + (g - m[i]) * one_minus_beta_1, tiny)
        vi = flush_subnormal(v[i] + (g * g - v[i]) * one_minus_beta_2, tiny)
        m[i] = mi
        v[i] = vi
        var[i] -= mi * alpha_t / (math.sqrt(vi) + eps)
    return var


def _adam_amsgrad_update(var, grad, m, v, v_hat, alpha, beta_1, beta_2, epsilon):
    alpha_t = dtype_const(var, alpha)
    one_minus_beta_1 = dtype_const(var, 1.0 - beta_1)
    one_minus_beta_2 = dtype_const(var, 1.0 - beta_2)
    eps = dtype_const(var, epsilon)
    tiny = smallest_normal(var)
    for i in prange(var.shape[0]):
        g = grad[i]
        mi = flush_subnormal(m[i] + (g - m[i]) * one_minus_beta_1, tiny)
        vi = flush_subnormal(v[i] + (g * g - v[i]) * one_minus_beta_2, tiny)
        m[i] = mi
        v[i] = vi
        vh = v_hat[i]
        vh = vh if vh >= vi else vi  # a NaN in v propagates
        v_hat[i] = vh
        var[i] -= mi * alpha_t / (math.sqrt(vh) + eps)
    return var


_sgd_update_serial, _sgd_update_parallel = njit_pair(_sgd_update)
_sgd_momentum_update_serial, _sgd_momentum_update_parallel = njit_pair(_sgd_momentum_update)
_rmsprop_update_serial, _rmsprop_update_parallel = njit_pair(_rmsprop_update)
_rmsprop_momentum_update_serial, _rmsprop_momentum_update_parallel = njit_pair(
    _rmsprop_momentum_update
)
_adam_update_serial, _adam_update_parallel = njit_pair(_adam_update)
_adam_amsgrad_update_serial, _adam_amsgrad_update_parallel = njit_pair(_adam_amsgrad_update)


def sgd_update(var, grad, learning_rate):
    """var -= learning_rate * grad."""
    kernel = pick((_sgd_update_serial, _sgd_update_parallel), var.size)
    return kernel(var, grad, float(learning_rate))


def sgd_momentum_update(var, grad, velocity, learning_rate, momentum, nesterov):
    """velocity = momentum*velocity - lr*grad; var += velocity, or with Nesterov
    var += momentum*velocity - lr*grad."""
    kernel = pick((_sgd_momentum_update_serial, _sgd_momentum_update_parallel), var.size)
    return kernel(
        var, grad, velocity, float(learning_rate), float(momentum), bool(nesterov)
    )


def rmsprop_update(var, grad, velocity, learning_rate, rho, epsilon):
    """Plain RMSprop: velocity = rho*velocity + (1-rho)*grad**2;
    var -= lr*grad / sqrt(velocity + epsilon)."""
    kernel = pick((_rmsprop_update_serial, _rmsprop_update_parallel), var.size)
    return kernel(var, grad, velocity, float(learning_rate), float(rho), float(epsilon))


def rmsprop_momentum_update(
    var, grad, velocity, average_grad, momentum_buf, learning_rate, rho, momentum,
    epsilon, centered,
):
    """RMSprop with momentum > 0 and/or centered=True. average_grad is used only
    when centered, momentum_buf only when momentum > 0 (else may be empty)."""
    kernel = pick(
        (_rmsprop_momentum_update_serial, _rmsprop_momentum_update_parallel), var.size
    )
    return kernel(
        var, grad, velocity, average_grad, momentum_buf, float(learning_rate),
        float(rho), float(momentum), float(epsilon), bool(centered),
    )


def adam_update(var, grad, m, v, alpha, beta_1, beta_2, epsilon):
    """Adam with alpha = lr*sqrt(1-beta_2**t)/(1-beta_1**t) from the caller."""
    kernel = pick((_adam_update_serial, _adam_update_parallel), var.size)
    return kernel(
        var, grad, m, v, float(alpha), float(beta_1), float(beta_2), float(epsilon)
    )


def adam_amsgrad_update(var, grad, m, v, v_hat, alpha, beta_1, beta_2, epsilon):
    """Adam with AMSGrad: v_hat = max(v_hat, v) replaces v in the denominator."""
    kernel = pick((_adam_amsgrad_update_serial, _adam_amsgrad_update_parallel), var.size)
    return kernel(
        var, grad, m, v, v_hat, float(alpha), float(beta_1), float(beta_2),
        float(epsilon),
    )
