"""Saving and loading: the minimal part that callbacks need now.

What is here (kerasr's own formats, never pickle):
- `save_weights(model, path)` / `load_weights(model, path)`: the model's weights (the order of
  `get_weights()`) as a numpy `.npz`, read back with `allow_pickle=False`;
- `save_model(model, path)` / `load_model(path, custom_objects, compile, safe_mode)`: a
  `.keras` zip holding `config.json` (Keras 3's layout for Sequential, graph and nested
  models, and the compile settings: optimizer config with its learning-rate schedule, losses
  and metrics by name or config), `metadata.json` (kerasr version, date), `model.weights.npz`
  and `optimizer.npz` (the optimizer's iterations, learning rate and slots, so training
  resumes exactly where it stopped); `serialize_model` / `unserialize_model` are the same zip
  as bytes in memory, `model_to_json` / `model_from_json` the architecture alone;
- `load_weights(model, path, by_name=, skip_mismatch=)`: by layer name for transfer learning;
- custom classes and functions through `custom_objects` or `register_keras_serializable`;
  functions (a Lambda layer's, a custom loss or metric) are stored by name, never as code, and
  a file holding code (Keras's `__lambda__`) is refused whatever `safe_mode` says: kerasr never
  runs code from a file;
- `training_state` / `restore_training_state`: weights, optimizer state, epoch and the random
  generator's state in one `.npz` (what `callback_backup_and_restore` writes each epoch);
- `atomic_write(path)`: every file above is written to a temporary file in the target's folder,
  flushed and fsync'ed, then renamed over the target, so a crash or a kill mid-write leaves the
  previous file intact.

Still to come (issue 8): Keras's HDF5 layout (`save_model_hdf5`, ...) and the fuzzing of
every reader against hostile files (zip bombs, hostile member paths, shape bombs,
truncation). The readers here refuse pickled arrays, unknown or missing members, oversized
members, unknown or wrong-typed config fields, and weights whose shapes or dtypes do not
match the architecture.
"""

from ._atomic import atomic_write
from .model_file import (load_model, model_from_json, model_to_json, save_model,
                         serialize_model, unserialize_model)
from .serialization import (get_registered_name, get_registered_object,
                            register_keras_serializable)
from .state import (load_optimizer_state, optimizer_state, restore_training_state,
                    training_state)
from .weights import load_weights, save_weights

# R keras's names.
save_model_weights = save_weights
load_model_weights = load_weights

__all__ = ["atomic_write", "save_weights", "load_weights", "save_model", "load_model",
           "save_model_weights", "load_model_weights", "serialize_model", "unserialize_model",
           "model_to_json", "model_from_json", "register_keras_serializable",
           "get_registered_name", "get_registered_object", "optimizer_state",
           "load_optimizer_state", "training_state", "restore_training_state"]
