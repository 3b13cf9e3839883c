"""Keras's layers, one class each; the R-named `layer_*` verbs build them."""

from .base import InputSpec, Layer  # noqa: F401
from .core import (Activation, ActivityRegularization, Dense, Dropout, Embedding, Flatten,  # noqa: F401
                   Input, InputLayer, Lambda, Masking, Permute, RepeatVector, Reshape)
from .activation import ELU, LeakyReLU, PReLU, ReLU, Softmax, ThresholdedReLU  # noqa: F401
from .merging import Add, Average, Concatenate, Dot, Maximum, Minimum, Multiply, Subtract  # noqa: F401
from .normalization import BatchNormalization, LayerNormalization  # noqa: F401
from .noise import AlphaDropout, GaussianDropout, GaussianNoise  # noqa: F401
from .blocks import Highway, ResidualBlock  # noqa: F401
from .pooling import (AveragePooling1D, AveragePooling2D, AveragePooling3D, GlobalAveragePooling1D,  # noqa: F401
                      GlobalAveragePooling2D, GlobalAveragePooling3D, GlobalMaxPooling1D,
                      GlobalMaxPooling2D, GlobalMaxPooling3D, KMaxPooling1D, MaxPooling1D,
                      MaxPooling2D, MaxPooling3D)
from .reshaping import (Cropping1D, Cropping2D, Cropping3D, SpatialDropout1D, SpatialDropout2D,  # noqa: F401
                        SpatialDropout3D, UpSampling1D, UpSampling2D, UpSampling3D, ZeroPadding1D,
                        ZeroPadding2D, ZeroPadding3D)
from .convolution import (BaseConv, BaseConvTranspose, Conv1D, Conv1DTranspose, Conv2D,  # noqa: F401
                          Conv2DTranspose, Conv3D, Conv3DTranspose)
from .depthwise import DepthwiseConv1D, DepthwiseConv2D, SeparableConv1D, SeparableConv2D  # noqa: F401
from .locally_connected import LocallyConnected1D, LocallyConnected2D  # noqa: F401
from .recurrent import GRU, LSTM, Recurrent, SimpleRNN  # noqa: F401
from .wrappers import Bidirectional, TimeDistributed, Wrapper  # noqa: F401
from .conv_lstm import ConvLSTM2D  # noqa: F401
