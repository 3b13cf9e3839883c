"""The differentiation engine: tensors, variables and the gradient tape."""

from .tensor import Tensor, Variable, as_tensor  # noqa: F401
from .tape import GradientTape, record  # noqa: F401
