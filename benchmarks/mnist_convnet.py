"""MNIST convnet speed benchmark: kerasr, and PyTorch / Keras 3 on JAX if installed.

The network of Deep Learning with R §5.1: conv 32 3x3 relu -> max pool 2 -> conv 64 3x3
relu -> max pool 2 -> conv 64 3x3 relu -> flatten -> dense 64 relu -> dense 10 softmax,
rmsprop, categorical crossentropy, batch 64, on synthetic 28x28x1 images. Prints training
and predict (batch 128) samples/s, peak memory, and import-to-first-batch seconds with a
cold and a warm Numba cache.

    python benchmarks/mnist_convnet.py
    python benchmarks/mnist_convnet.py --samples 2000 --epochs 1 --skip-peers
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _common as C  # noqa: E402

BATCH, PREDICT_BATCH = 64, 128
SEED = 42


def make_data(n, seed=SEED):
    import numpy as np

    rng = np.random.default_rng(seed)
    x = rng.random((n, 28, 28, 1), dtype=np.float32)
    y = np.zeros((n, 10), dtype=np.float32)
    y[np.arange(n), rng.integers(0, 10, n)] = 1.0
    return x, y


def build_kerasr():
    import kerasr as k

    k.set_random_seed(SEED)
    model = k.keras_model_sequential()
    (model
     | k.layer_conv_2d(filters=32, kernel_size=c(3, 3), activation="relu", input_shape=c(28, 28, 1))
     | k.layer_max_pooling_2d(pool_size=c(2, 2))
     | k.layer_conv_2d(filters=64, kernel_size=c(3, 3), activation="relu")
     | k.layer_max_pooling_2d(pool_size=c(2, 2))
     | k.layer_conv_2d(filters=64, kernel_size=c(3, 3), activation="relu")
     | k.layer_flatten()
     | k.layer_dense(units=64, activation="relu")
     | k.layer_dense(units=10, activation="softmax"))
    model | k.compile(optimizer="rmsprop", loss="categorical_crossentropy")
    return k, model


def c(*values):
    """R's c(), as the book writes the sizes."""
    return values


def worker_torch(args):
    torch = C.torch_worker_setup(SEED)
    from torch import nn

    xn, yn = make_data(args.samples)
    x = torch.from_numpy(xn).permute(0, 3, 1, 2).contiguous()
    labels = torch.from_numpy(yn.argmax(axis=1))
    model = nn.Sequential(
        nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(64, 64, 3), nn.ReLU(), nn.Flatten(),
        nn.Linear(576, 64), nn.ReLU(), nn.Linear(64, 10))
    C.emit_torch(model, nn.CrossEntropyLoss(), x, labels, args, BATCH, PREDICT_BATCH,
                 finish=lambda out: torch.softmax(out, dim=1))


def worker_keras_jax(args):
    keras = C.keras_worker_setup(SEED)
    from keras import layers

    x, y = make_data(args.samples)
    model = keras.Sequential([
        keras.Input(shape=(28, 28, 1)),
        layers.Conv2D(32, 3, activation="relu"), layers.MaxPooling2D(2),
        layers.Conv2D(64, 3, activation="relu"), layers.MaxPooling2D(2),
        layers.Conv2D(64, 3, activation="relu"), layers.Flatten(),
        layers.Dense(64, activation="relu"), layers.Dense(10, activation="softmax")])
    model.compile(optimizer="rmsprop", loss="categorical_crossentropy")
    C.emit_keras(model, x, y, args, BATCH, PREDICT_BATCH)


WORKERS = {**C.kerasr_workers(build_kerasr, make_data, BATCH, PREDICT_BATCH),
           "torch": worker_torch, "keras-jax": worker_keras_jax}

if __name__ == "__main__":
    sys.exit(C.main(os.path.abspath(__file__),
                    f"MNIST convnet (book §5.1), rmsprop, batch {BATCH}", WORKERS,
                    default_samples=10000))
