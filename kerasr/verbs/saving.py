"""R keras's saving verbs: whole models (`save_model`, `load_model`, in memory with
`serialize_model`), weights (`save_model_weights`, `load_model_weights`), architectures as JSON
(`model_to_json`, `model_from_json`) and `register_keras_serializable` for custom objects.
The work is kerasr.saving's; files never hold code and loading never runs any."""

from .. import saving
from .pipe import verb


@verb()
def save_model(object, filepath, overwrite=True, include_optimizer=True):
    """Saves the model (architecture, compile settings, weights, optimizer state) to a
    `.keras` file, atomically. `overwrite=False` refuses an existing file. Returns the
    model."""
    return saving.save_model(object, filepath, overwrite=overwrite,
                             include_optimizer=include_optimizer)


def load_model(filepath, custom_objects=None, compile=True, safe_mode=True):
    """A model saved by `save_model`, compiled as it was and ready to resume training.
    `custom_objects`: {name: class or function} for unregistered custom layers, losses,
    metrics and Lambda functions. `safe_mode` is accepted for R keras's signature: kerasr never
    runs code from a file, so files holding code are refused either way."""
    return saving.load_model(filepath, custom_objects=custom_objects, compile=compile,
                             safe_mode=safe_mode)


@verb()
def save_model_weights(object, filepath, overwrite=True):
    """Saves the model's weights to a `.weights.npz` file, atomically. Returns the model."""
    return saving.save_weights(object, filepath, overwrite=overwrite)


@verb()
def load_model_weights(object, filepath, by_name=False, skip_mismatch=False):
    """Loads weights saved by `save_model_weights` into the model (same architecture, or
    layer by layer with `by_name=True`; `skip_mismatch=True` then skips layers that differ).
    Returns the model."""
    return saving.load_weights(object, filepath, by_name=by_name, skip_mismatch=skip_mismatch)


@verb()
def serialize_model(object, include_optimizer=True):
    """The model as bytes (the `.keras` zip, in memory). Returns bytes."""
    return saving.serialize_model(object, include_optimizer=include_optimizer)


def unserialize_model(object, custom_objects=None, compile=True, safe_mode=True):
    """The model in bytes made by `serialize_model`."""
    return saving.unserialize_model(object, custom_objects=custom_objects, compile=compile,
                                    safe_mode=safe_mode)


@verb()
def model_to_json(object):
    """The model's architecture as a JSON string (no weights)."""
    return saving.model_to_json(object)


def model_from_json(json, custom_objects=None):
    """A new model (freshly initialized weights) from `model_to_json`'s string."""
    return saving.model_from_json(json, custom_objects=custom_objects)


def register_keras_serializable(object=None, name=None, package=None):
    """Registers a custom class or function under "package>name" so saved models find it
    without `custom_objects`. R keras's form returns the object:
    `register_keras_serializable(my_fn, package = "mine")`; as a Python decorator:
    `@register_keras_serializable(package="mine")`."""
    return saving.register_keras_serializable(object, name=name, package=package)


__all__ = ["save_model", "load_model", "save_model_weights", "load_model_weights",
           "serialize_model", "unserialize_model", "model_to_json", "model_from_json",
           "register_keras_serializable"]
