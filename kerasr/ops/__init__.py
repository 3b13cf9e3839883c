"""Differentiable ops: forward/backward pairs the gradient tape records."""

from .math import (abs, add, cast, clip, concatenate, divide, dot, exp, expand_dims, getitem,  # noqa: F401
                   log, matmul, max, maximum, mean, min, minimum, multiply, negative, power,
                   repeat, reshape, sign, sqrt, square, squeeze, stack, stop_gradient, subtract,
                   sum, transpose, unbroadcast, where)
from .nn import (activation, dense, dropout, embedding, logits_of, sigmoid_cross_entropy,  # noqa: F401
                 softmax, softmax_cross_entropy, sparse_softmax_cross_entropy)


def tanh(x):
    return activation(x, "tanh")


def sigmoid(x):
    return activation(x, "sigmoid")


def relu(x):
    return activation(x, "relu")
