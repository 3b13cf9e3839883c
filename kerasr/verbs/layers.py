"""R keras's `layer_*` verbs for the core layers.

Every verb has the same shape: `object` first, then Keras's arguments in Keras's order with
Keras's defaults, then the common layer arguments. It returns:
- the model, with the layer added, when `object` is a Sequential model;
- the layer's output when `object` is a tensor (symbolic or data);
- the layer itself when `object` is omitted (pipe it or call it later).
"""

from .. import layers
from .pipe import make_layer

__all__ = [
    "layer_dense",
    "layer_activation",
    "layer_dropout",
    "layer_flatten",
    "layer_reshape",
    "layer_permute",
    "layer_repeat_vector",
    "layer_lambda",
    "layer_activity_regularization",
    "layer_masking",
    "layer_embedding",
    "layer_activation_relu",
    "layer_activation_leaky_relu",
    "layer_activation_parametric_relu",
    "layer_activation_elu",
    "layer_activation_selu",
    "layer_activation_softmax",
    "layer_activation_thresholded_relu",
]


def layer_dense(object=None, units=None, activation=None, use_bias=True,
                kernel_initializer="glorot_uniform", bias_initializer="zeros",
                kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                kernel_constraint=None, bias_constraint=None, input_shape=None,
                batch_input_shape=None, batch_size=None, dtype=None, name=None, trainable=None,
                weights=None):
    """A densely connected layer: activation(inputs @ kernel + bias)."""
    return make_layer(layers.Dense, locals(), first_argument="units")


def layer_activation(object=None, activation=None, input_shape=None, batch_input_shape=None,
                     batch_size=None, dtype=None, name=None, trainable=None, weights=None):
    """Applies an activation function (by name or function) to its input."""
    return make_layer(layers.Activation, locals(), first_argument="activation")


def layer_dropout(object=None, rate=None, noise_shape=None, seed=None, input_shape=None,
                  batch_input_shape=None, batch_size=None, dtype=None, name=None, trainable=None,
                  weights=None):
    """Randomly sets a fraction `rate` of inputs to 0 during training."""
    return make_layer(layers.Dropout, locals(), first_argument="rate")


def layer_flatten(object=None, data_format=None, input_shape=None, batch_input_shape=None,
                  batch_size=None, dtype=None, name=None, trainable=None, weights=None):
    """Flattens each sample to a vector."""
    return make_layer(layers.Flatten, locals())


def layer_reshape(object=None, target_shape=None, input_shape=None, batch_input_shape=None,
                  batch_size=None, dtype=None, name=None, trainable=None, weights=None):
    """Reshapes each sample to `target_shape` (the batch axis excluded)."""
    return make_layer(layers.Reshape, locals(), first_argument="target_shape")


def layer_permute(object=None, dims=None, input_shape=None, batch_input_shape=None,
                  batch_size=None, dtype=None, name=None, trainable=None, weights=None):
    """Permutes the axes of each sample; `dims` counts axes from 1, as Keras and R keras do."""
    return make_layer(layers.Permute, locals(), first_argument="dims")


def layer_repeat_vector(object=None, n=None, input_shape=None, batch_input_shape=None,
                        batch_size=None, dtype=None, name=None, trainable=None, weights=None):
    """Repeats each input vector `n` times: (batch, features) -> (batch, n, features)."""
    return make_layer(layers.RepeatVector, locals(), first_argument="n")


def layer_lambda(object=None, f=None, output_shape=None, mask=None, arguments=None,
                 input_shape=None, batch_input_shape=None, batch_size=None, dtype=None, name=None,
                 trainable=None, weights=None):
    """Wraps a function of tensors (written with `k_*` ops) as a layer; it is differentiated
    automatically."""
    arguments_ = dict(locals())
    arguments_["function"] = arguments_.pop("f")
    return make_layer(layers.Lambda, arguments_, first_argument="function")


def layer_activity_regularization(object=None, l1=0.0, l2=0.0, input_shape=None,
                                  batch_input_shape=None, batch_size=None, dtype=None, name=None,
                                  trainable=None, weights=None):
    """Passes its input through and adds an L1/L2 activity penalty to the loss."""
    return make_layer(layers.ActivityRegularization, locals())


def layer_masking(object=None, mask_value=0.0, input_shape=None, batch_input_shape=None,
                  batch_size=None, dtype=None, name=None, trainable=None, weights=None):
    """Masks the time steps whose features all equal `mask_value`."""
    return make_layer(layers.Masking, locals())


def layer_embedding(object=None, input_dim=None, output_dim=None, embeddings_initializer="uniform",
                    embeddings_regularizer=None, activity_regularizer=None,
                    embeddings_constraint=None, mask_zero=False, input_length=None,
                    input_shape=None, batch_input_shape=None, batch_size=None, dtype=None,
                    name=None, trainable=None, weights=None):
    """Turns integer indices (0 to input_dim - 1) into dense vectors of size `output_dim`."""
    return make_layer(layers.Embedding, locals(), first_argument="input_dim")


def layer_activation_relu(object=None, max_value=None, negative_slope=0.0, threshold=0.0,
                          input_shape=None, batch_input_shape=None, batch_size=None, dtype=None,
                          name=None, trainable=None, weights=None):
    """Rectified linear unit, with optional cap, leak and threshold."""
    return make_layer(layers.ReLU, locals())


def layer_activation_leaky_relu(object=None, negative_slope=0.3, input_shape=None,
                                batch_input_shape=None, batch_size=None, dtype=None, name=None,
                                trainable=None, weights=None, alpha=None):
    """Leaky ReLU: x for x > 0, negative_slope * x otherwise (`alpha` is its older R name)."""
    arguments = dict(locals())
    alpha = arguments.pop("alpha")
    if alpha is not None:
        arguments["negative_slope"] = alpha
    return make_layer(layers.LeakyReLU, arguments)


def layer_activation_parametric_relu(object=None, alpha_initializer="zeros",
                                     alpha_regularizer=None, alpha_constraint=None,
                                     shared_axes=None, input_shape=None, batch_input_shape=None,
                                     batch_size=None, dtype=None, name=None, trainable=None,
                                     weights=None):
    """Parametric ReLU: x for x > 0, a learned alpha * x otherwise."""
    return make_layer(layers.PReLU, locals())


def layer_activation_elu(object=None, alpha=1.0, input_shape=None, batch_input_shape=None,
                         batch_size=None, dtype=None, name=None, trainable=None, weights=None):
    """Exponential linear unit."""
    return make_layer(layers.ELU, locals())


def layer_activation_selu(object=None, input_shape=None, batch_input_shape=None, batch_size=None,
                          dtype=None, name=None, trainable=None, weights=None):
    """Scaled exponential linear unit."""
    return make_layer(layers.Activation, dict(locals(), activation="selu"))


def layer_activation_softmax(object=None, axis=-1, input_shape=None, batch_input_shape=None,
                             batch_size=None, dtype=None, name=None, trainable=None, weights=None):
    """Softmax along `axis`."""
    return make_layer(layers.Softmax, locals())


def layer_activation_thresholded_relu(object=None, theta=1.0, input_shape=None,
                                      batch_input_shape=None, batch_size=None, dtype=None,
                                      name=None, trainable=None, weights=None):
    """x where x > theta, 0 elsewhere."""
    return make_layer(layers.ThresholdedReLU, locals())
