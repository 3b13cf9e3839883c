"""The R-named verbs: argument coercion and dispatch over kerasr's classes, no math."""

from .layers import *  # noqa: F401,F403
from .layers import __all__ as _layer_verbs
from .model import (compile, count_params, evaluate, fit, freeze_weights, get_layer,  # noqa: F401
                    get_weights, keras_model, keras_model_sequential, layer_input, normalize,
                    plot, pop_layer, predict, predict_on_batch, set_weights, summary,
                    test_on_batch, to_categorical, train_on_batch, unfreeze_weights)
from .model import as_data_frame, reset_states  # noqa: F401
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
from .recurrent import *  # noqa: F401,F403
from .recurrent import __all__ as _recurrent_verbs
from .wrappers import *  # noqa: F401,F403
from .wrappers import __all__ as _wrapper_verbs
from .preprocessing import *  # noqa: F401,F403
from .preprocessing import __all__ as _preprocessing_verbs
from .images import *  # noqa: F401,F403
from .images import __all__ as _image_verbs
from .conv_lstm import *  # noqa: F401,F403
from .conv_lstm import __all__ as _conv_lstm_verbs
from .saving import *  # noqa: F401,F403
from .saving import __all__ as _saving_verbs
from .saving_hdf5 import *  # noqa: F401,F403
from .saving_hdf5 import __all__ as _saving_hdf5_verbs
from .pipe import Verb  # noqa: F401

__all__ = [*_layer_verbs, *_merge_verbs, *_normalization_verbs, *_pooling_verbs,
           *_depthwise_verbs, *_convolution_verbs, *_recurrent_verbs, *_conv_lstm_verbs,
           *_wrapper_verbs, *_preprocessing_verbs, *_image_verbs, *_saving_verbs, *_saving_hdf5_verbs,
           "compile", "count_params", "evaluate", "fit", "freeze_weights", "get_layer",
           "get_weights", "keras_model", "keras_model_sequential", "layer_input", "normalize",
           "plot", "pop_layer", "predict", "predict_on_batch", "set_weights", "summary",
           "test_on_batch", "to_categorical", "train_on_batch", "unfreeze_weights", "as_data_frame", "reset_states",
           "clone_model", "create_layer", "new_layer_class"]
