"""Models: the graph of layers, the Sequential stack and the training loop."""

from .functional import Functional, Model  # noqa: F401
from .sequential import Sequential  # noqa: F401
