"""kerasr: R keras's interface to Keras, in Python, on numpy and Numba kernels.

`from kerasr import *` gives R keras's names: `keras_model_sequential`, `layer_dense`,
`compile`, `fit`, ... with `|` as magrittr's `%>%`. Python's builtins stay untouched except
`compile`, which still behaves as the builtin when called with the builtin's arguments.
"""

from . import (activations, backend, callbacks, config, constraints, initializers, layers,  # noqa: F401
               losses, metrics, ops, optimizers, regularizers, schedules)
from . import random as _random
from .backend import *  # noqa: F401,F403
from .callbacks import Callback, History, new_callback_class  # noqa: F401
from .datasets import (dataset_boston_housing, dataset_cifar10, dataset_cifar100,  # noqa: F401
                       dataset_fashion_mnist, dataset_imdb, dataset_imdb_word_index,
                       dataset_mnist, dataset_reuters, dataset_reuters_word_index, get_file)
from .engine import GradientTape, Tensor, Variable  # noqa: F401
from .layers import Layer  # noqa: F401
from .models import Functional, Model, Sequential  # noqa: F401
from .verbs import *  # noqa: F401,F403
from .verbs import __all__ as _verbs

__version__ = "0.1.0"

set_random_seed = _random.set_random_seed
custom_metric = metrics.custom_metric


def _r_names(module, prefix):
    return [name for name in dir(module) if name.startswith(prefix)]


for _module, _prefix in ((activations, ""), (callbacks, "callback_"), (optimizers, "optimizer_"), (losses, "loss_"),
                         (metrics, "metric_"), (initializers, "initializer_"),
                         (regularizers, "regularizer_"), (constraints, "constraint_"),
                         (schedules, "learning_rate_schedule_")):
    if _prefix:
        globals().update({name: getattr(_module, name) for name in _r_names(_module, _prefix)})

# activation_relu(x), activation_softmax(x), ...: the activation functions under R keras's names.
globals().update({f"activation_{name}": fn for name, fn in activations.ACTIVATIONS.items()})

__all__ = sorted(
    list(_verbs)
    + [name for name in dir(backend) if name.startswith("k_")]
    + [f"activation_{name}" for name in activations.ACTIVATIONS]
    + [name for module, prefix in ((callbacks, "callback_"), (optimizers, "optimizer_"), (losses, "loss_"),
                                   (metrics, "metric_"), (initializers, "initializer_"),
                                   (regularizers, "regularizer_"), (constraints, "constraint_"),
                                   (schedules, "learning_rate_schedule_"))
       for name in _r_names(module, prefix)]
    + ["dataset_boston_housing", "dataset_cifar10", "dataset_cifar100", "dataset_fashion_mnist",
       "dataset_imdb", "dataset_imdb_word_index", "dataset_mnist", "dataset_reuters",
       "dataset_reuters_word_index", "get_file",
       "set_random_seed", "custom_metric", "Callback", "History", "new_callback_class", "Layer", "Model",
       "Sequential", "Functional", "GradientTape", "Tensor", "Variable"])
