"""The authors' AutoAttack as the reference of ours (torch backend).

`pyautoattack` (PyPI, 0.2.0, pinned in constraints.txt and installed by
`make venv` without dependencies) packages Croce & Hein's code
(fra31/auto-attack: `APGDAttack`, `APGDAttack_targeted`, `FABAttack_PT`,
`SquareAttack`, same defaults). On the torch backend a Keras model is a
`torch.nn.Module`; the reference's Square samples squares over the last two
axes (NCHW), so images are handed to it channels-first and turned back to the
model's channels-last layout inside the wrapper. Used by
`tests/attacks/test_autoattack_reference.py` and
`benchmarks/autoattack_speed.py`.
"""

import importlib

import keras
import numpy as np

NORMS = {"linf": "Linf", "l2": "L2"}


def _torch():
    if keras.backend.backend() != "torch":
        raise RuntimeError(
            "The reference AutoAttack runs Keras models only on the torch backend. "
            f"Received: KERAS_BACKEND={keras.backend.backend()!r}"
        )
    return importlib.import_module("torch")


def channels_first_module(model):
    """A `torch.nn.Module` taking NCHW images (or flat rows) and calling the NHWC `model`."""
    torch = _torch()

    class ChannelsFirst(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.model = model

        def forward(self, x):
            if x.ndim == 4:
                x = x.permute(0, 2, 3, 1)
            return self.model(x, training=False)

    return ChannelsFirst().eval()


def reference_autoattack(
    model,
    norm="linf",
    eps=8 / 255,
    version="standard",
    attacks=None,
    seed=0,
    steps=None,
    square_queries=None,
    target_classes=None,
):
    """The reference `AutoAttack` on a Keras `model`, its settings optionally reduced.

    Args:
        model: a Keras model (torch backend) returning logits, channels-last.
        norm, eps, version, seed: as for `hdl_keras.attacks.AutoAttack`.
        attacks: the attack names of `version="custom"`.
        steps, square_queries, target_classes: when given, replace the
            iterations of APGD and FAB, Square's queries and the target count
            of APGD-T and FAB-T (reduced runs; None keeps the reference's).

    Returns:
        The `pyautoattack.AutoAttack` instance, to call with `run(adversary, x, y)`.
    """
    _torch()
    pyautoattack = importlib.import_module("pyautoattack")
    adversary = pyautoattack.AutoAttack(
        channels_first_module(model),
        norm=NORMS[norm],
        eps=eps,
        version=version,
        attacks=attacks,
        seed=seed,
        device="cpu",
    )
    if version == "custom":
        adversary.apgd.n_restarts = 1
        adversary.fab.n_restarts = 1
        adversary.apgd_targeted.n_restarts = 1
    if steps is not None:
        adversary.apgd.n_iter = steps
        adversary.apgd_targeted.n_iter = steps
        adversary.fab.n_iter = steps
    if square_queries is not None:
        adversary.square.n_queries = square_queries
    if target_classes is not None:
        adversary.apgd_targeted.n_target_classes = target_classes
        adversary.fab.n_target_classes = target_classes
    adversary.logger.setLevel("WARNING")
    return adversary


def run(adversary, x, y, batch_size=256):
    """`(x_adv, robust)`: the reference's adversarial examples (NHWC numpy) and robust flags."""
    torch = _torch()
    x_torch = torch.as_tensor(np.asarray(x, dtype="float32"))
    if x_torch.ndim == 4:
        x_torch = x_torch.permute(0, 3, 1, 2).contiguous()
    y_torch = torch.as_tensor(np.asarray(y).astype("int64"))
    x_adv, _ = adversary.run_standard_evaluation(x_torch, y_torch, batch_size=batch_size)
    with torch.no_grad():
        predictions = adversary.get_logits(x_adv).argmax(dim=1).numpy()
    x_adv = x_adv.detach()
    if x_adv.ndim == 4:
        x_adv = x_adv.permute(0, 2, 3, 1)
    return x_adv.numpy(), predictions == np.asarray(y)
