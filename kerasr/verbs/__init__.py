"""The R-named verbs: argument coercion and dispatch over kerasr's classes, no math."""

from .layers import *  # noqa: F401,F403
from .layers import __all__ as _layer_verbs
from .model import (compile, count_params, evaluate, fit, freeze_weights, get_layer,  # noqa: F401
                    get_weights, keras_model, keras_model_sequential, layer_input, normalize,
                    plot, pop_layer, predict, predict_on_batch, set_weights, summary,
                    test_on_batch, to_categorical, train_on_batch, unfreeze_weights)
from .custom import clone_model, create_layer, new_layer_class  # noqa: F401
from .merging import *  # noqa: F401,F403
from .merging import __all__ as _merge_verbs
from .normalization import *  # noqa: F401,F403
from .normalization import __all__ as _normalization_verbs
from .pooling import *  # noqa: F401,F403
from .pooling import __all__ as _pooling_verbs
from .depthwise import *  # noqa: F401,F403
from .depthwise import __all__ as _depthwise_verbs
from .convolution import *  # noqa: F401,F403
from .convolution import __all__ as _convolution_verbs
from .pipe import Verb  # noqa: F401

__all__ = list(_layer_verbs) + list(_merge_verbs) + list(_normalization_verbs) + list(
    _pooling_verbs) + list(_depthwise_verbs) + list(_convolution_verbs) + [
    "compile", "count_params", "evaluate", "fit", "freeze_weights", "get_layer", "get_weights",
    "keras_model", "keras_model_sequential", "layer_input", "normalize", "plot", "pop_layer",
    "predict", "predict_on_batch", "set_weights", "summary", "test_on_batch", "to_categorical",
    "train_on_batch", "unfreeze_weights", "clone_model", "create_layer", "new_layer_class"]
