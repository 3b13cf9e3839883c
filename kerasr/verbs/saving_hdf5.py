"""R keras's HDF5 verbs: whole models and weights in Keras's `.h5` layout (Keras 2, tf.keras and
R keras files), through h5py, the optional extra `pip install "kerasr[hdf5]"`."""

from ..saving import hdf5 as _hdf5
from .pipe import verb

__all__ = ["save_model_hdf5", "load_model_hdf5", "save_model_weights_hdf5",
           "load_model_weights_hdf5"]


@verb()
def save_model_hdf5(object, filepath, overwrite=True, include_optimizer=True):
    """Saves a Sequential or functional model (architecture, weights and, when compiled and
    `include_optimizer`, its compile settings) to an HDF5 file in Keras's layout, atomically.
    Returns the model, so it can end a pipe."""
    _hdf5.save_model_hdf5(object, filepath, overwrite=overwrite,
                          include_optimizer=include_optimizer)
    return object


def load_model_hdf5(filepath, custom_objects=None, compile=True):
    """A model from an HDF5 file written by Keras 2, tf.keras, R keras or kerasr. Layers kerasr
    does not have come through `custom_objects` (a dict of name -> class); nothing in the file
    is run. When `compile` and the file holds compile settings, the model comes back compiled
    (the optimizer's state is not restored)."""
    return _hdf5.load_model_hdf5(filepath, custom_objects=custom_objects, compile=compile)


@verb()
def save_model_weights_hdf5(object, filepath, overwrite=True):
    """Saves a model's weights to an HDF5 file in Keras's layout, atomically. Returns the
    model."""
    _hdf5.save_model_weights_hdf5(object, filepath, overwrite=overwrite)
    return object


@verb()
def load_model_weights_hdf5(object, filepath, by_name=False, skip_mismatch=False, reshape=False):
    """Loads weights from a Keras HDF5 file (weights-only or whole-model) into a model: in
    layer order (layers without weights do not count), or by layer name when `by_name`.
    `skip_mismatch` skips mismatched weights with a warning. Returns the model."""
    return _hdf5.load_model_weights_hdf5(object, filepath, by_name=by_name,
                                         skip_mismatch=skip_mismatch, reshape=reshape)
