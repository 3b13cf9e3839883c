"""R keras's `layer_*` verbs for the pooling layers, kerasr's k-max pooling, and the spatial
reshaping layers (upsampling, zero padding, cropping, spatial dropout). Same shape as the
core verbs: `object` first, then the layer's arguments in Keras's order with Keras's
defaults, then the common ones. Sizes may be one int for every axis (R's `pool_size = 2`)."""

from .. import layers
from .pipe import make_layer

__all__ = [
    "layer_max_pooling_1d",
    "layer_max_pooling_2d",
    "layer_max_pooling_3d",
    "layer_average_pooling_1d",
    "layer_average_pooling_2d",
    "layer_average_pooling_3d",
    "layer_global_max_pooling_1d",
    "layer_global_max_pooling_2d",
    "layer_global_max_pooling_3d",
    "layer_global_average_pooling_1d",
    "layer_global_average_pooling_2d",
    "layer_global_average_pooling_3d",
    "layer_k_max_pooling_1d",
    "layer_upsampling_1d",
    "layer_upsampling_2d",
    "layer_upsampling_3d",
    "layer_zero_padding_1d",
    "layer_zero_padding_2d",
    "layer_zero_padding_3d",
    "layer_cropping_1d",
    "layer_cropping_2d",
    "layer_cropping_3d",
    "layer_spatial_dropout_1d",
    "layer_spatial_dropout_2d",
    "layer_spatial_dropout_3d",
]


def layer_max_pooling_1d(object=None, pool_size=2, strides=None, padding="valid", data_format=None,
                         input_shape=None, batch_input_shape=None, batch_size=None, dtype=None,
                         name=None, trainable=None, weights=None):
    """Max pooling over 1-D windows of `pool_size` moved by `strides` (default: pool_size)."""
    return make_layer(layers.MaxPooling1D, locals())


def layer_max_pooling_2d(object=None, pool_size=(2, 2), strides=None, padding="valid",
                         data_format=None, input_shape=None, batch_input_shape=None,
                         batch_size=None, dtype=None, name=None, trainable=None, weights=None):
    """Max pooling over 2-D windows of `pool_size` moved by `strides` (default: pool_size)."""
    return make_layer(layers.MaxPooling2D, locals())


def layer_max_pooling_3d(object=None, pool_size=(2, 2, 2), strides=None, padding="valid",
                         data_format=None, input_shape=None, batch_input_shape=None,
                         batch_size=None, dtype=None, name=None, trainable=None, weights=None):
    """Max pooling over 3-D windows of `pool_size` moved by `strides` (default: pool_size)."""
    return make_layer(layers.MaxPooling3D, locals())


def layer_average_pooling_1d(object=None, pool_size=2, strides=None, padding="valid",
                             data_format=None, input_shape=None, batch_input_shape=None,
                             batch_size=None, dtype=None, name=None, trainable=None, weights=None):
    """Average pooling over 1-D windows ("same" borders average their real entries)."""
    return make_layer(layers.AveragePooling1D, locals())


def layer_average_pooling_2d(object=None, pool_size=(2, 2), strides=None, padding="valid",
                             data_format=None, input_shape=None, batch_input_shape=None,
                             batch_size=None, dtype=None, name=None, trainable=None, weights=None):
    """Average pooling over 2-D windows ("same" borders average their real entries)."""
    return make_layer(layers.AveragePooling2D, locals())


def layer_average_pooling_3d(object=None, pool_size=(2, 2, 2), strides=None, padding="valid",
                             data_format=None, input_shape=None, batch_input_shape=None,
                             batch_size=None, dtype=None, name=None, trainable=None, weights=None):
    """Average pooling over 3-D windows ("same" borders average their real entries)."""
    return make_layer(layers.AveragePooling3D, locals())


def layer_global_max_pooling_1d(object=None, data_format=None, keepdims=False, input_shape=None,
                                batch_input_shape=None, batch_size=None, dtype=None, name=None,
                                trainable=None, weights=None):
    """Max over the 1 spatial axes: (batch, channels), or with `keepdims` size-1 spatial
    axes."""
    return make_layer(layers.GlobalMaxPooling1D, locals())


def layer_global_max_pooling_2d(object=None, data_format=None, keepdims=False, input_shape=None,
                                batch_input_shape=None, batch_size=None, dtype=None, name=None,
                                trainable=None, weights=None):
    """Max over the 2 spatial axes: (batch, channels), or with `keepdims` size-1 spatial
    axes."""
    return make_layer(layers.GlobalMaxPooling2D, locals())


def layer_global_max_pooling_3d(object=None, data_format=None, keepdims=False, input_shape=None,
                                batch_input_shape=None, batch_size=None, dtype=None, name=None,
                                trainable=None, weights=None):
    """Max over the 3 spatial axes: (batch, channels), or with `keepdims` size-1 spatial
    axes."""
    return make_layer(layers.GlobalMaxPooling3D, locals())


def layer_global_average_pooling_1d(object=None, data_format=None, keepdims=False,
                                    input_shape=None, batch_input_shape=None, batch_size=None,
                                    dtype=None, name=None, trainable=None, weights=None):
    """Mean over the 1 spatial axes: (batch, channels), or with `keepdims` size-1 spatial axes.
    A mask skips the masked steps."""
    return make_layer(layers.GlobalAveragePooling1D, locals())


def layer_global_average_pooling_2d(object=None, data_format=None, keepdims=False,
                                    input_shape=None, batch_input_shape=None, batch_size=None,
                                    dtype=None, name=None, trainable=None, weights=None):
    """Mean over the 2 spatial axes: (batch, channels), or with `keepdims` size-1 spatial
    axes."""
    return make_layer(layers.GlobalAveragePooling2D, locals())


def layer_global_average_pooling_3d(object=None, data_format=None, keepdims=False,
                                    input_shape=None, batch_input_shape=None, batch_size=None,
                                    dtype=None, name=None, trainable=None, weights=None):
    """Mean over the 3 spatial axes: (batch, channels), or with `keepdims` size-1 spatial
    axes."""
    return make_layer(layers.GlobalAveragePooling3D, locals())


def layer_k_max_pooling_1d(object=None, k=None, input_shape=None, batch_input_shape=None,
                           batch_size=None, dtype=None, name=None, trainable=None, weights=None):
    """The `k` largest values over time of each channel, in time order: (batch, steps,
    channels) -> (batch, k, channels). kerasr's own (no Keras layer)."""
    return make_layer(layers.KMaxPooling1D, locals(), first_argument="k")


def layer_upsampling_1d(object=None, size=2, input_shape=None, batch_input_shape=None,
                        batch_size=None, dtype=None, name=None, trainable=None, weights=None):
    """Repeats each time step `size` times."""
    return make_layer(layers.UpSampling1D, locals())


def layer_upsampling_2d(object=None, size=(2, 2), data_format=None, interpolation="nearest",
                        input_shape=None, batch_input_shape=None, batch_size=None, dtype=None,
                        name=None, trainable=None, weights=None):
    """Scales rows and columns up by `size`, repeating entries ("nearest") or interpolating
    ("bilinear")."""
    return make_layer(layers.UpSampling2D, locals())


def layer_upsampling_3d(object=None, size=(2, 2, 2), data_format=None, input_shape=None,
                        batch_input_shape=None, batch_size=None, dtype=None, name=None,
                        trainable=None, weights=None):
    """Repeats entries along the three spatial axes by `size`."""
    return make_layer(layers.UpSampling3D, locals())


def layer_zero_padding_1d(object=None, padding=1, data_format=None, input_shape=None,
                          batch_input_shape=None, batch_size=None, dtype=None, name=None,
                          trainable=None, weights=None):
    """Adds zeros at the start and end of the time axis: `padding` = n or (before, after)."""
    return make_layer(layers.ZeroPadding1D, locals())


def layer_zero_padding_2d(object=None, padding=(1, 1), data_format=None, input_shape=None,
                          batch_input_shape=None, batch_size=None, dtype=None, name=None,
                          trainable=None, weights=None):
    """Adds rows and columns of zeros: n, (rows, cols), or ((top, bottom), (left, right))."""
    return make_layer(layers.ZeroPadding2D, locals())


def layer_zero_padding_3d(object=None, padding=((1, 1), (1, 1), (1, 1)), data_format=None,
                          input_shape=None, batch_input_shape=None, batch_size=None, dtype=None,
                          name=None, trainable=None, weights=None):
    """Adds zeros along three spatial axes: n, three symmetric sizes, or three (before, after)
    pairs."""
    return make_layer(layers.ZeroPadding3D, locals())


def layer_cropping_1d(object=None, cropping=(1, 1), input_shape=None, batch_input_shape=None,
                      batch_size=None, dtype=None, name=None, trainable=None, weights=None):
    """Removes steps at the start and end of the time axis: `cropping` = n or (before,
    after)."""
    return make_layer(layers.Cropping1D, locals())


def layer_cropping_2d(object=None, cropping=((0, 0), (0, 0)), data_format=None, input_shape=None,
                      batch_input_shape=None, batch_size=None, dtype=None, name=None,
                      trainable=None, weights=None):
    """Removes rows and columns: n, (rows, cols), or ((top, bottom), (left, right))."""
    return make_layer(layers.Cropping2D, locals())


def layer_cropping_3d(object=None, cropping=((1, 1), (1, 1), (1, 1)), data_format=None,
                      input_shape=None, batch_input_shape=None, batch_size=None, dtype=None,
                      name=None, trainable=None, weights=None):
    """Removes entries along three spatial axes: n, three symmetric sizes, or three pairs."""
    return make_layer(layers.Cropping3D, locals())


def layer_spatial_dropout_1d(object=None, rate=None, seed=None, input_shape=None,
                             batch_input_shape=None, batch_size=None, dtype=None, name=None,
                             trainable=None, weights=None):
    """Drops whole channels of (batch, steps, channels) inputs with probability `rate` in
    training."""
    return make_layer(layers.SpatialDropout1D, locals(), first_argument="rate")


def layer_spatial_dropout_2d(object=None, rate=None, data_format=None, seed=None, input_shape=None,
                             batch_input_shape=None, batch_size=None, dtype=None, name=None,
                             trainable=None, weights=None):
    """Drops whole 2-D feature maps with probability `rate` in training."""
    return make_layer(layers.SpatialDropout2D, locals(), first_argument="rate")


def layer_spatial_dropout_3d(object=None, rate=None, data_format=None, seed=None, input_shape=None,
                             batch_input_shape=None, batch_size=None, dtype=None, name=None,
                             trainable=None, weights=None):
    """Drops whole 3-D feature volumes with probability `rate` in training."""
    return make_layer(layers.SpatialDropout3D, locals(), first_argument="rate")
