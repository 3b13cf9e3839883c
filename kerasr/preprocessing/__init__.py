"""Preparing data: label encoding and scaling (sequences and text come with the datasets issue)."""

from .numeric import normalize, to_categorical  # noqa: F401
