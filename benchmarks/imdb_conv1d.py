"""IMDB 1D-convnet speed benchmark: kerasr, and PyTorch / Keras 3 on JAX if installed.

The text model of Deep Learning with R §6.4: embedding (10,000 words, 128) on reviews of
500 words -> conv1d 32 k7 relu -> max pool 5 -> conv1d 32 k7 relu -> global max pool ->
dense 1 (sigmoid here, for binary crossentropy), rmsprop, batch 128, on synthetic word
indices. Prints training and predict samples/s, peak memory and start-up times.

    python benchmarks/imdb_conv1d.py
    python benchmarks/imdb_conv1d.py --samples 1000 --epochs 1 --skip-peers
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _common as C  # noqa: E402

MAX_FEATURES, MAX_LEN, BATCH = 10000, 500, 128
SEED = 42


def make_data(n, seed=SEED):
    import numpy as np

    rng = np.random.default_rng(seed)
    x = rng.integers(1, MAX_FEATURES, (n, MAX_LEN)).astype(np.int32)
    y = rng.integers(0, 2, n).astype(np.float32)
    return x, y


def build_kerasr():
    import kerasr as k

    k.set_random_seed(SEED)
    model = k.keras_model_sequential()
    (model
     | k.layer_embedding(input_dim=MAX_FEATURES, output_dim=128, input_length=MAX_LEN)
     | k.layer_conv_1d(filters=32, kernel_size=7, activation="relu")
     | k.layer_max_pooling_1d(pool_size=5)
     | k.layer_conv_1d(filters=32, kernel_size=7, activation="relu")
     | k.layer_global_max_pooling_1d()
     | k.layer_dense(units=1, activation="sigmoid"))
    model | k.compile(optimizer=k.optimizer_rmsprop(learning_rate=1e-4),
                      loss="binary_crossentropy")
    return k, model


def worker_torch(args):
    torch = C.torch_worker_setup(SEED)
    from torch import nn

    xn, yn = make_data(args.samples)
    x, y = torch.from_numpy(xn.astype("int64")), torch.from_numpy(yn)

    class TextConvnet(nn.Module):
        def __init__(self):
            super().__init__()
            self.embedding = nn.Embedding(MAX_FEATURES, 128)
            self.conv1, self.conv2 = nn.Conv1d(128, 32, 7), nn.Conv1d(32, 32, 7)
            self.pool = nn.MaxPool1d(5)
            self.head = nn.Linear(32, 1)

        def forward(self, words):
            h = self.embedding(words).transpose(1, 2)          # (batch, channels, steps)
            h = self.pool(torch.relu(self.conv1(h)))
            h = torch.relu(self.conv2(h)).amax(dim=2)
            return self.head(h).squeeze(1)

    C.emit_torch(TextConvnet(), nn.BCEWithLogitsLoss(), x, y, args, BATCH, BATCH,
                 learning_rate=1e-4, finish=torch.sigmoid)


def worker_keras_jax(args):
    keras = C.keras_worker_setup(SEED)
    from keras import layers

    x, y = make_data(args.samples)
    model = keras.Sequential([
        keras.Input(shape=(MAX_LEN,), dtype="int32"),
        layers.Embedding(MAX_FEATURES, 128),
        layers.Conv1D(32, 7, activation="relu"), layers.MaxPooling1D(5),
        layers.Conv1D(32, 7, activation="relu"), layers.GlobalMaxPooling1D(),
        layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer=keras.optimizers.RMSprop(1e-4), loss="binary_crossentropy")
    C.emit_keras(model, x, y, args, BATCH, BATCH)


WORKERS = {**C.kerasr_workers(build_kerasr, make_data, BATCH, BATCH),
           "torch": worker_torch, "keras-jax": worker_keras_jax}

if __name__ == "__main__":
    sys.exit(C.main(os.path.abspath(__file__),
                    f"IMDB conv1d (book §6.4), {MAX_LEN} words, rmsprop, batch {BATCH}",
                    WORKERS, default_samples=5000))
