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


# ---- the other Keras 3 optimizers, weight decay and the weights' moving average -------------
# One call per variable and step, over the variable's flat data: Python only loops over the
# (few) variables of a model. Each element is read and written once; the per-element work is
# a handful of flops, so these are memory-bound and the serial variant is taken below
# PARALLEL_MIN_ELEMENTS (see _jit.py: next to BLAS calls a parallel pool only loses here).


def _adagrad_update(var, grad, accumulator, learning_rate, epsilon):
    lr = dtype_const(var, learning_rate)
    eps = dtype_const(var, epsilon)
    tiny = smallest_normal(var)
    for i in prange(var.shape[0]):
        g = grad[i]
        acc = flush_subnormal(accumulator[i] + g * g, tiny)
        accumulator[i] = acc
        var[i] -= lr * g / math.sqrt(acc + eps)
    return var


def _adadelta_update(var, grad, accumulated_grad, accumulated_delta, learning_rate, rho,
                     epsilon):
    lr = dtype_const(var, learning_rate)
    rho_t = dtype_const(var, rho)
    one_minus_rho = dtype_const(var, 1.0 - rho)
    eps = dtype_const(var, epsilon)
    tiny = smallest_normal(var)
    for i in prange(var.shape[0]):
        g = grad[i]
        acc_g = flush_subnormal(rho_t * accumulated_grad[i] + one_minus_rho * (g * g), tiny)
        accumulated_grad[i] = acc_g
        acc_d = accumulated_delta[i]
        delta = -(math.sqrt(acc_d + eps) * g) / math.sqrt(acc_g + eps)
        accumulated_delta[i] = flush_subnormal(rho_t * acc_d + one_minus_rho * (delta * delta),
                                               tiny)
        var[i] += lr * delta
    return var


def _adamax_update(var, grad, m, u, learning_rate, beta_1, beta_2, one_minus_beta_1_power,
                   epsilon):
    lr = dtype_const(var, learning_rate)
    one_minus_beta_1 = dtype_const(var, 1.0 - beta_1)
    beta_2_t = dtype_const(var, beta_2)
    correction = dtype_const(var, one_minus_beta_1_power)
    eps = dtype_const(var, epsilon)
    tiny = smallest_normal(var)
    for i in prange(var.shape[0]):
        g = grad[i]
        mi = flush_subnormal(m[i] + (g - m[i]) * one_minus_beta_1, tiny)
        m[i] = mi
        decayed = beta_2_t * u[i]
        magnitude = abs(g)
        # As numpy's maximum: a NaN on either side propagates.
        keep = decayed >= magnitude or decayed != decayed
        ui = flush_subnormal(decayed if keep else magnitude, tiny)
        u[i] = ui
        var[i] -= lr * mi / (correction * (ui + eps))
    return var


def _nadam_update(var, grad, m, v, learning_rate, beta_1, beta_2, epsilon, momentum_coef,
                  gradient_coef, one_minus_beta_2_power):
    # m_hat = momentum_coef * m + gradient_coef * g with momentum_coef = u_{t+1} /
    # (1 - prod_{s<=t+1} u_s), gradient_coef = (1 - u_t) / (1 - prod_{s<=t} u_s): the caller
    # computes them once per step.
    lr = dtype_const(var, learning_rate)
    one_minus_beta_1 = dtype_const(var, 1.0 - beta_1)
    one_minus_beta_2 = dtype_const(var, 1.0 - beta_2)
    c_m = dtype_const(var, momentum_coef)
    c_g = dtype_const(var, gradient_coef)
    correction = dtype_const(var, one_minus_beta_2_power)
    eps = dtype_const(var, epsilon)
    tiny = smallest_normal(var)
    for i in prange(var.shape[0]):
        g = grad[i]
        mi = flush_subnormal(m[i] + (g - m[i]) * one_minus_beta_1, tiny)
        vi = flush_subnormal(v[i] + (g * g - v[i]) * one_minus_beta_2, tiny)
        m[i] = mi
        v[i] = vi
        m_hat = c_m * mi + c_g * g
        v_hat = vi / correction
        var[i] -= m_hat * lr / (math.sqrt(v_hat) + eps)
    return var


def _ftrl_update(var, grad, accumulator, linear, learning_rate, learning_rate_power, l1, l2,
                 l2_shrinkage):
    # `l2` already includes beta / (2 lr), as Keras folds it in.
    lr = dtype_const(var, learning_rate)
    power = dtype_const(var, -learning_rate_power)
    l1_t = dtype_const(var, l1)
    two_l2 = dtype_const(var, 2.0 * l2)
    two_shrinkage = dtype_const(var, 2.0 * l2_shrinkage)
    sqrt_power = learning_rate_power == -0.5  # the default: sqrt is exact and faster than pow
    for i in prange(var.shape[0]):
        g = grad[i]
        w = var[i]
        acc = accumulator[i]
        new_acc = acc + g * g
        if sqrt_power:
            new_root = math.sqrt(new_acc)
            old_root = math.sqrt(acc)
        else:
            new_root = new_acc ** power
            old_root = acc ** power
        lin = linear[i] + ((g + two_shrinkage * w) - (new_root - old_root) / lr * w)
        linear[i] = lin
        quadratic = new_root / lr + two_l2
        clipped = lin if lin <= l1_t else l1_t
        clipped = clipped if clipped >= -l1_t else -l1_t
        var[i] = (clipped - lin) / quadratic
        accumulator[i] = new_acc
    return var


def _weight_decay(var, factor):
    f = dtype_const(var, factor)
    for i in prange(var.shape[0]):
        var[i] -= var[i] * f
    return var


def _moving_average_update(average, var, momentum):
    mom = dtype_const(var, momentum)
    one_minus_mom = dtype_const(var, 1.0 - momentum)
    tiny = smallest_normal(var)
    for i in prange(var.shape[0]):
        average[i] = flush_subnormal(mom * average[i] + one_minus_mom * var[i], tiny)
    return average


_adagrad_update_serial, _adagrad_update_parallel = njit_pair(_adagrad_update)
_adadelta_update_serial, _adadelta_update_parallel = njit_pair(_adadelta_update)
_adamax_update_serial, _adamax_update_parallel = njit_pair(_adamax_update)
_nadam_update_serial, _nadam_update_parallel = njit_pair(_nadam_update)
_ftrl_update_serial, _ftrl_update_parallel = njit_pair(_ftrl_update)
_weight_decay_serial, _weight_decay_parallel = njit_pair(_weight_decay)
_moving_average_update_serial, _moving_average_update_parallel = njit_pair(
    _moving_average_update
)


def adagrad_update(var, grad, accumulator, learning_rate, epsilon):
    """accumulator += grad**2; var -= lr*grad / sqrt(accumulator + epsilon)."""
    kernel = pick((_adagrad_update_serial, _adagrad_update_parallel), var.size)
    return kernel(var, grad, accumulator, float(learning_rate), float(epsilon))


def adadelta_update(var, grad, accumulated_grad, accumulated_delta, learning_rate, rho, epsilon):
    """acc_g = rho*acc_g + (1-rho)*g**2; delta = -sqrt(acc_d + eps)*g / sqrt(acc_g + eps);
    acc_d = rho*acc_d + (1-rho)*delta**2; var += lr*delta."""
    kernel = pick((_adadelta_update_serial, _adadelta_update_parallel), var.size)
    return kernel(var, grad, accumulated_grad, accumulated_delta, float(learning_rate),
                  float(rho), float(epsilon))


def adamax_update(var, grad, m, u, learning_rate, beta_1, beta_2, one_minus_beta_1_power,
                  epsilon):
    """m += (g - m)(1 - beta_1); u = max(beta_2*u, |g|);
    var -= lr*m / ((1 - beta_1**t) * (u + epsilon))."""
    kernel = pick((_adamax_update_serial, _adamax_update_parallel), var.size)
    return kernel(var, grad, m, u, float(learning_rate), float(beta_1), float(beta_2),
                  float(one_minus_beta_1_power), float(epsilon))


def nadam_update(var, grad, m, v, learning_rate, beta_1, beta_2, epsilon, momentum_coef,
                 gradient_coef, one_minus_beta_2_power):
    """Nadam: m, v as Adam; var -= lr*m_hat / (sqrt(v / (1 - beta_2**t)) + epsilon) with
    m_hat = momentum_coef*m + gradient_coef*g."""
    kernel = pick((_nadam_update_serial, _nadam_update_parallel), var.size)
    return kernel(var, grad, m, v, float(learning_rate), float(beta_1), float(beta_2),
                  float(epsilon), float(momentum_coef), float(gradient_coef),
                  float(one_minus_beta_2_power))


def ftrl_update(var, grad, accumulator, linear, learning_rate, learning_rate_power, l1, l2,
                l2_shrinkage):
    """FTRL-proximal as Keras: accumulator and linear slots, `l2` including beta/(2 lr)."""
    kernel = pick((_ftrl_update_serial, _ftrl_update_parallel), var.size)
    return kernel(var, grad, accumulator, linear, float(learning_rate),
                  float(learning_rate_power), float(l1), float(l2), float(l2_shrinkage))


def weight_decay(var, factor):
    """var -= var * factor (factor = weight_decay * learning_rate)."""
    kernel = pick((_weight_decay_serial, _weight_decay_parallel), var.size)
    return kernel(var, float(factor))


def moving_average_update(average, var, momentum):
    """average = momentum*average + (1 - momentum)*var (the optimizer's EMA of a weight)."""
    kernel = pick((_moving_average_update_serial, _moving_average_update_parallel), var.size)
    return kernel(average, var, float(momentum))
