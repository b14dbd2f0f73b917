"""torchattacks as an independent reference for the attack suite (torch backend).

On the torch backend a Keras model is a `torch.nn.Module`, so torchattacks'
attacks run on the very same weights as ours. Used by the agreement tests and
`benchmarks/attack_speed.py`; requires `KERAS_BACKEND=torch` and torchattacks
(`make venv` installs it).
"""

import importlib

import keras
import numpy as np


def reference_attack(name, model, **kwargs):
    """Returns `attack(x, y) -> x_adv` (numpy in and out) from torchattacks.

    Args:
        name: a torchattacks class name, e.g. `"PGD"`, `"FGSM"`, `"Square"`.
        model: a Keras model (torch backend) returning logits.
        **kwargs: the torchattacks constructor's arguments (`eps`, `alpha`, ...).
    """
    if keras.backend.backend() != "torch":
        raise RuntimeError(
            "torchattacks runs Keras models only on the torch backend. "
            f"Received: KERAS_BACKEND={keras.backend.backend()!r}"
        )
    torchattacks = importlib.import_module("torchattacks")
    attack = getattr(torchattacks, name)(model, **kwargs)

    def run(x, y):
        x_adv = attack(keras.ops.convert_to_tensor(x), keras.ops.convert_to_tensor(y, "int64"))
        return keras.ops.convert_to_numpy(x_adv)

    return run


def accuracy(model, x, y, batch_size=256):
    """Top-1 accuracy of `model` on numpy `x, y`."""
    predictions = model.predict(x, batch_size=batch_size, verbose=0)
    return float(np.mean(np.argmax(predictions, axis=1) == y))
