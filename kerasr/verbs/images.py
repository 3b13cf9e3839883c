"""R keras's image verbs: loading, converting and saving images, image_data_generator and its
flows, and the book's fit_generator / evaluate_generator / predict_generator."""

import os
import warnings

from ..preprocessing import image as _image
from .pipe import Verb, is_array_like, verb

__all__ = ["image_load", "image_to_array", "image_array_resize", "image_array_save",
           "image_data_generator", "fit_image_data_generator", "flow_images_from_data",
           "flow_images_from_directory", "generator_next", "fit_generator",
           "evaluate_generator", "predict_generator"]


class _SubjectVerb(Verb):
    """A verb whose subject may also be given by name: `flow_images_from_data(x = x_train,
    generator = datagen)` runs at once, as in R, instead of waiting for a pipe."""

    subject_name = None

    def __call__(self, *args, **kwargs):
        name = self.subject_name
        if (not self._bound[0] and not self._bound[1] and not args and name in kwargs
                and self._subject(kwargs[name])):
            return self._target(**kwargs)
        return super().__call__(*args, **kwargs)


def _subject_verb(subject, name):
    kind = type(f"_SubjectVerb_{name}", (_SubjectVerb,), {"subject_name": name})

    def wrap(function):
        return kind(function, subject=subject)
    return wrap


def _is_image(value):
    return is_array_like(value) or type(value).__module__.startswith("PIL.")


def _is_image_data_generator(value):
    return isinstance(value, _image.ImageDataGenerator)


def _is_batch_generator(value):
    return hasattr(value, "__next__")


def image_load(path, grayscale=False, color_mode="rgb", target_size=None, interpolation="nearest"):
    """Loads an image file. Returns a Pillow image (needs the image extra:
    pip install "kerasr[image]").

    `target_size = c(height, width)` resizes it; `color_mode` is "grayscale", "rgb" or "rgba"
    (`grayscale = TRUE` is the older spelling of color_mode = "grayscale").
    """
    return _image.load_img(path, grayscale=grayscale, color_mode=color_mode,
                           target_size=target_size, interpolation=interpolation)


@_subject_verb(_is_image, "img")
def image_to_array(img, data_format=None, dtype=None):
    """A Pillow image as a 3D array (height, width, channels), in floatx unless `dtype`.
    Returns an array."""
    return _image.img_to_array(img, data_format=data_format, dtype=dtype)


@_subject_verb(_is_image, "img")
def image_array_resize(img, height, width, data_format=None, interpolation="bilinear"):
    """Resizes an image array (h, w, c) or a batch (n, h, w, c) to height x width
    ("bilinear" or "nearest"). Returns an array."""
    return _image.resize_array(img, height, width, data_format=data_format,
                               interpolation=interpolation)


@_subject_verb(_is_image, "img")
def image_array_save(img, path, data_format=None, file_format=None, scale=True):
    """Saves a 3D image array to `path` (values scaled onto 0..255 when `scale`). Returns the
    path."""
    _image.save_img(path, img, data_format=data_format, file_format=file_format, scale=scale)
    return path


def image_data_generator(featurewise_center=False, samplewise_center=False,
                         featurewise_std_normalization=False, samplewise_std_normalization=False,
                         zca_whitening=False, zca_epsilon=1e-6, rotation_range=0,
                         width_shift_range=0, height_shift_range=0, brightness_range=None,
                         shear_range=0, zoom_range=0, channel_shift_range=0, fill_mode="nearest",
                         cval=0, horizontal_flip=False, vertical_flip=False, rescale=None,
                         preprocessing_function=None, data_format=None, validation_split=0):
    """Random augmentation and standardization settings for image batches. Returns an
    ImageDataGenerator, to use with flow_images_from_data() or flow_images_from_directory().

    Ranges as in Keras: `rotation_range` in degrees; shifts as a fraction of the size (< 1) or
    pixels (>= 1, or a list of allowed values); `shear_range` in degrees; `zoom_range` a
    number z ([1 - z, 1 + z]) or c(lower, upper); `fill_mode` one of "constant", "nearest",
    "reflect", "wrap". All random draws follow set_random_seed().
    """
    return _image.ImageDataGenerator(
        featurewise_center=featurewise_center, samplewise_center=samplewise_center,
        featurewise_std_normalization=featurewise_std_normalization,
        samplewise_std_normalization=samplewise_std_normalization, zca_whitening=zca_whitening,
        zca_epsilon=zca_epsilon, rotation_range=rotation_range,
        width_shift_range=width_shift_range, height_shift_range=height_shift_range,
        brightness_range=brightness_range, shear_range=shear_range, zoom_range=zoom_range,
        channel_shift_range=channel_shift_range, fill_mode=fill_mode, cval=cval,
        horizontal_flip=horizontal_flip, vertical_flip=vertical_flip, rescale=rescale,
        preprocessing_function=preprocessing_function, data_format=data_format,
        validation_split=validation_split)


@_subject_verb(_is_image_data_generator, "object")
def fit_image_data_generator(object, x, augment=False, rounds=1, seed=None):
    """Computes a generator's feature-wise statistics (for featurewise_center,
    featurewise_std_normalization, zca_whitening) from sample images `x` (rank 4). Returns the
    generator (changed in place)."""
    return object.fit(x, augment=augment, rounds=rounds, seed=seed)


def _generator_or_default(generator, what):
    if generator is None:
        return _image.ImageDataGenerator()
    if not isinstance(generator, _image.ImageDataGenerator):
        raise TypeError(f"{what}(): generator must be made by image_data_generator(), got "
                        f"{type(generator).__name__}.")
    return generator


@_subject_verb(is_array_like, "x")
def flow_images_from_data(x, y=None, generator=None, batch_size=32, shuffle=True,
                          sample_weight=None, seed=None, save_to_dir=None, save_prefix="",
                          save_format="png", subset=None):
    """Endless batches of augmented images from arrays (`generator` defaults to a fresh
    image_data_generator()). Returns an iterator yielding x, (x, y) or (x, y, sample_weight);
    `len()` of it is the number of batches per epoch. `subset = "training"` or "validation"
    splits by the generator's validation_split (the first fraction is validation)."""
    generator = _generator_or_default(generator, "flow_images_from_data")
    if save_to_dir is not None:
        os.makedirs(save_to_dir, exist_ok=True)
    return generator.flow(x, y, batch_size=batch_size, shuffle=shuffle,
                          sample_weight=sample_weight, seed=seed, save_to_dir=save_to_dir,
                          save_prefix=save_prefix, save_format=save_format, subset=subset)


def flow_images_from_directory(directory, generator=None, target_size=(256, 256),
                               color_mode="rgb", classes=None, class_mode="categorical",
                               batch_size=32, shuffle=True, seed=None, save_to_dir=None,
                               save_prefix="", save_format="png", follow_links=False, subset=None,
                               interpolation="nearest"):
    """Endless batches of images read from `directory`, which holds one sub-folder per class
    (classes in alphabetical order unless `classes` names them). Returns an iterator yielding
    (x, y): y one-hot ("categorical"), 0/1 ("binary"), class numbers ("sparse"), x itself
    ("input"), or only x (class_mode = NULL/None). Needs Pillow (pip install "kerasr[image]")."""
    generator = _generator_or_default(generator, "flow_images_from_directory")
    if save_to_dir is not None:
        os.makedirs(save_to_dir, exist_ok=True)
    return generator.flow_from_directory(
        directory, target_size=target_size, color_mode=color_mode, classes=classes,
        class_mode=class_mode, batch_size=batch_size, shuffle=shuffle, seed=seed,
        save_to_dir=save_to_dir, save_prefix=save_prefix, save_format=save_format,
        follow_links=follow_links, subset=subset, interpolation=interpolation)


@_subject_verb(_is_batch_generator, "generator")
def generator_next(generator):
    """The next batch from a generator or image flow. Returns what it yields (e.g. a tuple
    (x, y))."""
    return next(generator)


def _deprecated(old, new):
    warnings.warn(f"{old}() is deprecated in R keras; use {new}(), which accepts generators.",
                  DeprecationWarning, stacklevel=3)


@verb()
def fit_generator(object, generator, steps_per_epoch=None, epochs=1, verbose="auto",
                  callbacks=None, view_metrics=None, validation_data=None, validation_steps=None,
                  class_weight=None, max_queue_size=10, workers=1, initial_epoch=0):
    """Deprecated (as in R keras): use fit(), which accepts the same generators. Trains a model
    on batches from `generator`, `steps_per_epoch` per epoch. Returns a History.

    `max_queue_size` and `workers` are accepted and ignored (batches are made on demand).
    """
    _deprecated("fit_generator", "fit")
    return object.fit(generator, epochs=epochs, verbose=verbose, callbacks=callbacks,
                      validation_data=validation_data, class_weight=class_weight,
                      initial_epoch=initial_epoch, steps_per_epoch=steps_per_epoch,
                      validation_steps=validation_steps)


@verb()
def evaluate_generator(object, generator, steps=None, max_queue_size=10, workers=1,
                       callbacks=None):
    """Deprecated (as in R keras): use evaluate(). Loss and metrics on `steps` batches from
    `generator`. Returns a dict."""
    _deprecated("evaluate_generator", "evaluate")
    return object.evaluate(generator, steps=steps, callbacks=callbacks, verbose=0,
                           return_dict=True)


@verb()
def predict_generator(object, generator, steps=None, max_queue_size=10, workers=1, verbose=0,
                      callbacks=None):
    """Deprecated (as in R keras): use predict(). Outputs for `steps` batches from `generator`.
    Returns an array."""
    _deprecated("predict_generator", "predict")
    return object.predict(generator, steps=steps, verbose=verbose, callbacks=callbacks)
