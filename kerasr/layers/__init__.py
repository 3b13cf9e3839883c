"""Keras's layers, one class each; the R-named `layer_*` verbs build them."""

from .base import InputSpec, Layer  # noqa: F401
from .core import (Activation, ActivityRegularization, Dense, Dropout, Embedding, Flatten,  # noqa: F401
                   Input, InputLayer, Lambda, Masking, Permute, RepeatVector, Reshape)
from .activation import ELU, LeakyReLU, PReLU, ReLU, Softmax, ThresholdedReLU  # noqa: F401
from .merging import Add, Average, Concatenate, Dot, Maximum, Minimum, Multiply, Subtract  # noqa: F401
from .normalization import BatchNormalization, LayerNormalization  # noqa: F401
from .noise import AlphaDropout, GaussianDropout, GaussianNoise  # noqa: F401
from .blocks import Highway, ResidualBlock  # noqa: F401
