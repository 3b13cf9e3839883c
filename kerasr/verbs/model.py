"""R keras's model verbs: creating, compiling, fitting, evaluating, predicting, inspecting."""

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
        sample_weight=None, initial_epoch=0, steps_per_epoch=None, validation_steps=None):
    """Trains a model for `epochs` epochs (R keras's default 10). Returns a History.

    `batch_size` defaults to 32; `validation_split` takes the last fraction of the data before
    shuffling, as Keras does.
    """
    return object.fit(x, y, batch_size=batch_size, epochs=epochs, verbose=verbose,
                      callbacks=callbacks, validation_split=validation_split,
                      validation_data=validation_data, shuffle=shuffle, class_weight=class_weight,
                      sample_weight=sample_weight, initial_epoch=initial_epoch,
                      steps_per_epoch=steps_per_epoch, validation_steps=validation_steps)


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
def freeze_weights(object, from_=None, to=None):
    """Makes a model's (or a layer's) weights untrainable, optionally only layers from..to
    (names or 0-based indices, inclusive). Returns the object. Recompile to take effect."""
    _set_trainable(object, False, from_, to)
    return object


@verb(subject=_is_layer_or_model)
def unfreeze_weights(object, from_=None, to=None):
    """Makes weights trainable again (see freeze_weights). Returns the object."""
    _set_trainable(object, True, from_, to)
    return object


def _set_trainable(object, trainable, start, stop):
    if start is None and stop is None:
        object.trainable = trainable
        return
    layers = object.layers
    names = [layer.name for layer in layers]
    first = names.index(start) if isinstance(start, str) else (start or 0)
    last = names.index(stop) if isinstance(stop, str) else (len(layers) - 1 if stop is None else stop)
    object.trainable = True
    for i, layer in enumerate(layers):
        layer.trainable = trainable if first <= i <= last else not trainable


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
def plot(x, metrics=None, filename=None):
    """Plots a History's training (and validation) curves, one panel per metric. Returns the
    matplotlib figure (needs the plot extra: pip install "kerasr[plot]")."""
    from ..plotting import plot_history
    return plot_history(x, metrics=metrics, filename=filename)
