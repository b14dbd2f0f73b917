"""Cross-backend parity: the same weights give the same logits and gradients.

Keras fixes its backend at import, so each backend runs in its own process:
`python -m hdl_keras.testing.parity --out FILE` (with `KERAS_BACKEND` set)
writes the reference model's logits, input gradients and double-backprop error
to an `.npz` file, and `run_parity()` starts one such process per backend and
compares their files.
"""

import argparse
import os
import subprocess
import sys
import tempfile

import numpy as np

INPUT_SHAPE = (28, 28, 1)
NUM_CLASSES = 10


def reference_model(activation="relu", pooling="max"):
    """A small CNN (2 conv + 2 dense) on 28x28x1 inputs, logits out.

    `activation="tanh", pooling="average"` gives a smooth network, for finite
    differences that no kink of ReLU or max-pooling can spoil.
    """
    import keras

    layers = keras.layers
    pool = {"max": layers.MaxPooling2D, "average": layers.AveragePooling2D}[pooling]
    inputs = keras.Input(INPUT_SHAPE)
    h = layers.Conv2D(8, 3, padding="same", activation=activation)(inputs)
    h = pool(pool_size=2)(h)
    h = layers.Conv2D(16, 3, padding="same", activation=activation)(h)
    h = pool(pool_size=2)(h)
    h = layers.Flatten()(h)
    h = layers.Dense(32, activation=activation)(h)
    outputs = layers.Dense(NUM_CLASSES)(h)
    return keras.Model(inputs, outputs, name=f"parity_cnn_{activation}_{pooling}")


def reference_weights(model, seed=0):
    """Deterministic weights from numpy, the same whatever the backend."""
    rng = np.random.default_rng(seed)
    weights = []
    for variable in model.weights:
        shape = tuple(variable.shape)
        fan_in = int(np.prod(shape[:-1])) if len(shape) > 1 else 1
        scale = np.sqrt(2.0 / fan_in) if len(shape) > 1 else 0.1
        weights.append((rng.standard_normal(shape) * scale).astype("float32"))
    return weights


def reference_batch(batch_size=16, seed=0):
    """A batch `(x, y)`: x uniform in [0, 1] of shape `(batch_size, 28, 28, 1)`."""
    rng = np.random.default_rng(seed)
    x = rng.random((batch_size,) + INPUT_SHAPE, dtype=np.float32)
    y = rng.integers(0, NUM_CLASSES, size=batch_size)
    return x, y


def backend_outputs():
    """Computes the parity quantities on the backend this process runs.

    Returns:
        dict of numpy arrays: `logits` (B, K), `loss_input_grad` (B, 28, 28, 1),
        `logit_difference_grads` (B, K, 28, 28, 1), `double_backprop_rel_err` ().
    """
    import keras
    from keras import ops

    from hdl_keras import backend
    from hdl_keras.testing.gradcheck import double_backprop_relative_error
    from hdl_keras.testing.gradcheck import penalty_model_like

    model = reference_model()
    model.set_weights(reference_weights(model))
    x, y = reference_batch()
    cross_entropy = keras.losses.SparseCategoricalCrossentropy(from_logits=True, reduction=None)
    logits = model(x, training=False)
    loss_grad = backend.input_grad(lambda t: cross_entropy(y, model(t, training=False)), x)
    _, difference_grads = backend.logit_difference_grads(lambda t: model(t, training=False), x, y)

    smooth = reference_model(activation="tanh", pooling="average")
    smooth.set_weights(reference_weights(smooth, seed=1))
    rel_err = double_backprop_relative_error(penalty_model_like(smooth), x[:8], y[:8])
    return {
        "logits": ops.convert_to_numpy(logits),
        "loss_input_grad": ops.convert_to_numpy(loss_grad),
        "logit_difference_grads": ops.convert_to_numpy(difference_grads),
        "double_backprop_rel_err": np.asarray(rel_err),
    }


def run_parity(backends=("jax", "tensorflow", "torch"), timeout=600):
    """Runs `backend_outputs` once per backend in a subprocess and compares.

    Returns:
        dict with `backends_ok` (backends whose process succeeded),
        `max_logit_diff`, `max_grad_diff` (max abs difference to the first
        backend that succeeded, over both input gradients),
        `double_backprop_rel_err` (worst over backends) and `errors`
        (backend -> last lines of stderr for those that failed).
    """
    outputs, errors = {}, {}
    with tempfile.TemporaryDirectory() as folder:
        for name in backends:
            path = os.path.join(folder, f"{name}.npz")
            env = {**os.environ, "KERAS_BACKEND": name}
            result = subprocess.run(
                [sys.executable, "-m", "hdl_keras.testing.parity", "--out", path],
                env=env,
                capture_output=True,
                text=True,
                timeout=timeout,
            )
            if result.returncode == 0:
                with np.load(path) as data:
                    outputs[name] = dict(data)
            else:
                errors[name] = "\n".join(result.stderr.strip().splitlines()[-5:])
    return compare_outputs(outputs, errors)


def compare_outputs(outputs, errors=None):
    """Compares per-backend output dicts (see `run_parity` for the result)."""
    names = list(outputs)
    report = {
        "backends_ok": sorted(names),
        "max_logit_diff": None,
        "max_grad_diff": None,
        "double_backprop_rel_err": None,
        "errors": dict(errors or {}),
    }
    if not names:
        return report
    first = outputs[names[0]]
    report["max_logit_diff"] = max(float(np.max(np.abs(outputs[n]["logits"] - first["logits"]))) for n in names)
    report["max_grad_diff"] = max(
        float(np.max(np.abs(outputs[n][key] - first[key])))
        for n in names
        for key in ("loss_input_grad", "logit_difference_grads")
    )
    report["double_backprop_rel_err"] = max(float(outputs[n]["double_backprop_rel_err"]) for n in names)
    return report


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, help="where to write the .npz file")
    args = parser.parse_args(argv)
    np.savez(args.out, **backend_outputs())


if __name__ == "__main__":
    main()
