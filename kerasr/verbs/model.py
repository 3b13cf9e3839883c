"""R keras's model verbs: creating, compiling, fitting, evaluating, predicting, inspecting."""

import numpy as np

from ..layers.base import Layer
from ..layers.core import Input, InputLayer
from ..models import Functional, Sequential
from ..preprocessing import numeric
from .pipe import Verb, builtin_compile, is_array_like, is_builtin_compile_call, verb


def keras_model_sequential(layers=None, name=None, input_shape=None, input_dtype=None):
    """A new, empty (or pre-filled) Sequential model. Returns the model.

    `input_shape` (an int or a tuple, the batch axis excluded) fixes the input shape up front.
    """
    model = Sequential(name=name)
    if input_shape is not None:
        model.add(InputLayer(shape=input_shape, dtype=input_dtype))
    for layer in layers or []:
        model.add(layer)
    return model


def keras_model(inputs, outputs=None, name=None):
    """A Functional model from input and output tensors. Returns the model."""
    return Functional(inputs=inputs, outputs=outputs, name=name)


def layer_input(shape=None, batch_size=None, name=None, dtype=None, sparse=None, tensor=None,
                batch_shape=None):
    """A symbolic input tensor for the functional API. Returns the tensor."""
    if sparse:
        raise ValueError("layer_input(): sparse inputs are not supported by kerasr.")
    return Input(shape=shape, batch_size=batch_size, dtype=dtype, batch_shape=batch_shape, name=name)


class _CompileVerb(Verb):
    """`compile` is also Python's builtin: called with the builtin's arguments, it is the builtin."""

    def __call__(self, *args, **kwargs):
        if not self._bound[0] and not self._bound[1] and is_builtin_compile_call(args, kwargs):
            return builtin_compile(*args, **kwargs)
        return super().__call__(*args, **kwargs)


def _compile(object, optimizer="rmsprop", loss=None, metrics=None, loss_weights=None,
             weighted_metrics=None, run_eagerly=None, steps_per_execution=1, jit_compile=None):
    """Configures a model for training. Returns the model (changed in place).

    `compile(model, optimizer="rmsprop", loss="categorical_crossentropy", metrics="accuracy")`
    or `model | compile(...)`. Called with the builtin's arguments (`compile(source, filename,
    mode)`), it is Python's `compile`.
    """
    object.compile(optimizer=optimizer, loss=loss, metrics=metrics, loss_weights=loss_weights,
                   weighted_metrics=weighted_metrics, run_eagerly=run_eagerly,
                   steps_per_execution=steps_per_execution, jit_compile=jit_compile)
    return object


compile = _CompileVerb(_compile)  # noqa: A001 (R keras's name; the builtin still works, see above)


@verb()
def fit(object, x=None, y=None, batch_size=None, epochs=10, verbose="auto", callbacks=None,
        validation_split=0.0, validation_data=None, shuffle=True, class_weight=None,
        sample_weight=None, initial_epoch=0, steps_per_epoch=None, validation_steps=None,
        validation_batch_size=None, validation_freq=1):
    """Trains a model for `epochs` epochs (R keras's default 10). Returns a History.

    `batch_size` defaults to 32; `validation_split` takes the last fraction of the data before
    shuffling, as Keras does. `initial_epoch` is 0-based, like every index in kerasr.
    """
    return object.fit(x, y, batch_size=batch_size, epochs=epochs, verbose=verbose,
                      callbacks=callbacks, validation_split=validation_split,
                      validation_data=validation_data, shuffle=shuffle, class_weight=class_weight,
                      sample_weight=sample_weight, initial_epoch=initial_epoch,
                      steps_per_epoch=steps_per_epoch, validation_steps=validation_steps,
                      validation_batch_size=validation_batch_size,
                      validation_freq=validation_freq)


@verb()
def evaluate(object, x=None, y=None, batch_size=None, verbose="auto", sample_weight=None,
             steps=None, callbacks=None):
    """Loss and metrics of a model on data. Returns a dict, e.g. {"loss": .., "accuracy": ..}."""
    return object.evaluate(x, y, batch_size=batch_size, verbose=verbose,
                           sample_weight=sample_weight, steps=steps, callbacks=callbacks,
                           return_dict=True)


@verb()
def predict(object, x, batch_size=None, verbose="auto", steps=None, callbacks=None):
    """A model's outputs for `x`. Returns an array (a list of arrays for several outputs)."""
    return object.predict(x, batch_size=batch_size, verbose=verbose, steps=steps,
                          callbacks=callbacks)


@verb()
def predict_on_batch(object, x):
    """A model's outputs for one batch. Returns an array."""
    return object.predict_on_batch(x)


@verb()
def train_on_batch(object, x, y, class_weight=None, sample_weight=None):
    """One gradient step on one batch. Returns the loss, or a list of loss and metrics."""
    return object.train_on_batch(x, y, sample_weight=sample_weight, class_weight=class_weight)


@verb()
def test_on_batch(object, x, y, sample_weight=None):
    """Loss (and metrics) on one batch, without training. Returns a number or a list."""
    return object.test_on_batch(x, y, sample_weight=sample_weight)


@verb()
def summary(object, line_length=None, positions=None, expand_nested=False, show_trainable=False):
    """Prints the model's table of layers, output shapes and parameters. Returns nothing."""
    object.summary(line_length=line_length, positions=positions, expand_nested=expand_nested,
                   show_trainable=show_trainable)


def _is_layer_or_model(value):
    return isinstance(value, Layer)


@verb(subject=_is_layer_or_model)
def get_weights(object):
    """The weights of a model or a layer. Returns a list of arrays, in Keras's order."""
    return object.get_weights()


@verb(subject=_is_layer_or_model)
def set_weights(object, weights):
    """Sets the weights of a model or layer from a list of arrays. Returns the object."""
    object.set_weights(weights)
    return object


@verb(subject=_is_layer_or_model)
def count_params(object):
    """The number of weights in a model or a built layer. Returns an int."""
    return object.count_params()


@verb()
def get_layer(object, name=None, index=None):
    """A model's layer by name or 0-based index. Returns the layer."""
    return object.get_layer(name=name, index=index)


@verb()
def pop_layer(object):
    """Removes a Sequential model's last layer. Returns the model."""
    if not hasattr(object, "pop"):
        raise TypeError(f"pop_layer() needs a Sequential model, got a {type(object).__name__}.")
    return object.pop()


@verb(subject=_is_layer_or_model)
def freeze_weights(object, from_=None, to=None, which=None, **kwargs):
    """Makes a model's (or a layer's) weights untrainable. Returns the object.

    R's `from` is a Python keyword: write `from_=` (or `**{"from": ...}`). `from_` and `to`
    (a layer, a layer name or a 0-based index; both inclusive) freeze that range of layers
    and make every other layer trainable, as R keras does; `which` (names, indices, layers,
    a list of booleans, or a function layer -> bool) freezes exactly those layers. A compiled
    model keeps training the weights that were trainable when it was compiled: compile it
    again after freezing or unfreezing (R keras and Keras require it; kerasr warns).
    """
    _set_trainable(object, False, _from(from_, kwargs, "freeze_weights"), to, which)
    return object


@verb(subject=_is_layer_or_model)
def unfreeze_weights(object, from_=None, to=None, which=None, **kwargs):
    """Makes weights trainable again (see freeze_weights: the same `from_`/`to`/`which`,
    layers outside the range are frozen). Returns the object. Compile again afterwards."""
    _set_trainable(object, True, _from(from_, kwargs, "unfreeze_weights"), to, which)
    return object


def _from(from_, kwargs, verb_name):
    if "from" in kwargs:
        if from_ is not None:
            raise TypeError(f"{verb_name}(): give `from_` or `from`, not both.")
        from_ = kwargs.pop("from")
    if kwargs:
        raise TypeError(f"{verb_name}() got unexpected argument(s): {', '.join(kwargs)}.")
    return from_


def _layer_position(object, layers, spec, role):
    """0-based position in `layers` of a layer given by name, index or instance."""
    names = [layer.name for layer in layers]
    if isinstance(spec, Layer):
        for i, layer in enumerate(layers):
            if layer is spec:
                return i
        raise ValueError(f"{role}: layer {spec.name!r} is not a layer of {object.name}.")
    if isinstance(spec, str):
        if spec not in names:
            raise ValueError(f"{role}: {object.name} has no layer named {spec!r}; its layers "
                             f"are: {', '.join(names)}.")
        return names.index(spec)
    if isinstance(spec, bool) or not isinstance(spec, (int, np.integer)):
        raise ValueError(f"{role} must be a layer, a layer name or a 0-based index, got {spec!r}.")
    if not -len(layers) <= spec < len(layers):
        raise ValueError(f"{role}={spec} is out of range: {object.name} has {len(layers)} layers "
                         f"(0-based indices 0 to {len(layers) - 1}).")
    return int(spec) % len(layers)


def _set_trainable(object, trainable, start, stop, which=None):
    if start is None and stop is None and which is None:
        object.trainable = trainable
        return
    layers = getattr(object, "layers", None)
    if layers is None:
        raise ValueError(f"{object.name} is a layer, not a model: from_/to/which select layers "
                         "of a model; call without them to (un)freeze the whole layer.")
    if which is not None:
        if start is not None or stop is not None:
            raise ValueError("Give either which or from_/to, not both.")
        if callable(which) and not isinstance(which, Layer):
            chosen = {i for i, layer in enumerate(layers) if which(layer)}
        else:
            specs = list(which) if isinstance(which, (list, tuple, np.ndarray)) else [which]
            if specs and all(isinstance(w, (bool, np.bool_)) for w in specs):
                if len(specs) != len(layers):
                    raise ValueError(f"which has {len(specs)} booleans for {len(layers)} layers.")
                chosen = {i for i, flag in enumerate(specs) if flag}
            else:
                chosen = {_layer_position(object, layers, w, "which") for w in specs}
        if trainable and not object.trainable:  # the model itself must train, not its layers
            flags = [layer.trainable for layer in layers]
            object.trainable = True
            for layer, flag in zip(layers, flags):
                layer.trainable = flag
        for i in sorted(chosen):
            layers[i].trainable = trainable
        return
    first = 0 if start is None else _layer_position(object, layers, start, "from_")
    last = len(layers) - 1 if stop is None else _layer_position(object, layers, stop, "to")
    if first > last:
        raise ValueError(f"from_ ({layers[first].name}, index {first}) comes after to "
                         f"({layers[last].name}, index {last}).")
    object.trainable = True
    for i, layer in enumerate(layers):
        layer.trainable = trainable if first <= i <= last else not trainable


@verb(subject=_is_layer_or_model)
def reset_states(object):
    """Resets the states of a model's (or a recurrent layer's) stateful layers. Returns the
    object."""
    if not callable(getattr(object, "reset_states", None)):
        raise TypeError(f"reset_states(): {object.name} ({type(object).__name__}) has no state.")
    object.reset_states()
    return object


@verb(subject=is_array_like)
def to_categorical(y, num_classes=None, dtype="float32"):
    """One-hot encodes integer class labels (0-based). Returns an array."""
    return numeric.to_categorical(y, num_classes=num_classes, dtype=dtype)


@verb(subject=is_array_like)
def normalize(x, axis=-1, order=2):
    """Scales each vector along `axis` to unit norm. Returns an array."""
    return numeric.normalize(x, axis=axis, order=order)


def _is_history(value):
    from ..callbacks import History
    return isinstance(value, History)


@verb(subject=_is_history)
def plot(x, metrics=None, smooth=None, file=None, filename=None):
    """Plots a History as R keras does: one panel per metric, training and validation points,
    and loess-smoothed curves once there are 10 epochs or more (`smooth=False` turns them
    off). `file="history.png"` saves a PNG. Returns the matplotlib figure (needs the plot
    extra: pip install "kerasr[plot]")."""
    from ..plotting import plot_history
    return plot_history(x, metrics=metrics, smooth=smooth, file=file if file is not None else filename)


@verb(subject=_is_history)
def as_data_frame(x):
    """A History as R's long table, one row per epoch, metric and data set, with columns
    epoch (1-based), value, metric (without "val_") and data ("training" or "validation").
    Returns a pandas DataFrame when pandas is installed, else a list of row dicts."""
    from ..plotting import history_data_frame
    return history_data_frame(x)
