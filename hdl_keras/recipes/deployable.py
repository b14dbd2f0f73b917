"""Robust, channel-sparse and low-bit in one recipe: sparsify, shrink, quantize, then export.

`train_deployable` composes what the library has separately, on one model:

1. **Sparsify** (`sparsify_epochs`): the robust objective (`"pgd"`: PGD
   adversarial training, Madry et al. 2018; `"trades"`; `"tradeoff"`: Li,
   Wang, Xin's `alpha L_nat + beta L_rob`) with RGSM (Dinh et al., Algorithm
   2: relaxed group sparsity on output channels, `apply_rgsm`) on every
   Dense/Conv2D kernel; `ReplaceWithU` sets each kernel to its sparse copy
   `u` at the end of every epoch, so channels below the threshold are exact
   zeros. With `channel_sparsity` set, ADMM (Dinh et al.'s (2020) baseline,
   `apply_admm(structure="channel")`) instead projects every hidden
   Dense/Conv2D kernel (all but the first and the last) on the set with that
   fraction of its output channels zero, and hard-prunes them when the phase
   ends: a chosen size, where RGSM's one threshold for all layers keeps
   all or none of a layer's channels unless `rgsm_lam1` is tuned.
2. **Shrink**: the splitting regularizers are removed and `shrink` rebuilds
   the network without its zero channels (constant channels folded into the
   next layer): a physically smaller float network.
3. **Quantize and fine-tune** (`quantize_epochs`): `to_quantized` gives the
   shrunk network low-bit kernels (`"binary"`, `"ternary"`, `"4bit"`), and
   the same robust objective fine-tunes it with BinaryRelax (Li, Wang, Xin,
   Algorithm 1; `lambda` grows by `relax_rho` per epoch, exact quantization
   from the last epoch) or BinaryConnect.

Shrinking comes before quantizing because a binary kernel has no zero
level: `mean|w| * sign(w)` would give every pruned channel weights again.
The result exports with `hdl_keras.deploy.export` (integer kernels, no
custom operators). Each phase is one `model.fit` call; the schedule is the
order above.
"""

import math

import keras
import numpy as np

from hdl_keras import quantizers
from hdl_keras.callbacks import ADMMUpdate
from hdl_keras.callbacks import BinaryRelax
from hdl_keras.layers import to_quantized
from hdl_keras.layers.quantized_conversion import check_float_layers
from hdl_keras.pruning import apply_admm
from hdl_keras.pruning import apply_rgsm
from hdl_keras.pruning import remove_splitting
from hdl_keras.pruning import shrink
from hdl_keras.recipes.recipes import OBJECTIVES
from hdl_keras.recipes.training import train
from hdl_keras.utils.graph import flatten_layers

SCHEMES = ("binaryconnect", "binaryrelax")


def _check_positive_int(value, name):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"Expected `{name}` to be an int >= 1. Received: {name}={value!r}")
    return int(value)


def _fit(base, objective, x, y, epochs, learning_rate, batch_size, seed, attack, callbacks, verbose):
    """One robust-training phase on `base` (its weights are trained in place)."""
    model = OBJECTIVES[objective].from_model(base, seed=seed, **attack)
    model.compile(optimizer=keras.optimizers.SGD(learning_rate, momentum=0.9), metrics=["accuracy"])
    history = train(
        model, x, y, batch_size=batch_size, epochs=epochs, callbacks=callbacks, verbose=verbose, shuffle=True
    )[-1]
    return history.history


_KERNEL_LAYERS = (keras.layers.Dense, keras.layers.Conv2D)
ADMM_RHO = 1e-2  # ADMM's penalty weight of the channel pruning (`admm_channel_pruning`)


def _channel_count(model):
    return sum(int(layer.kernel.shape[-1]) for layer in flatten_layers(model) if isinstance(layer, _KERNEL_LAYERS))


def admm_channel_pruning(model, channel_sparsity, rho=ADMM_RHO):
    """Attaches ADMM channel pruning to every hidden Dense/Conv2D layer of `model` (all but the first and the last).

    ADMM (Dinh et al.'s (2020) baseline, eq. 2-3, `apply_admm(structure="channel")`)
    projects each of those kernels on the set with `channel_sparsity` of its
    output channels zero; the returned callback runs the u- and z-steps after
    every epoch and hard-prunes the kernels when `fit` ends.

    Args:
        model: a built `keras.Model`.
        channel_sparsity: fraction in (0, 1) of each hidden layer's output channels pruned.
        rho: ADMM's penalty weight.

    Returns:
        The `ADMMUpdate(hard_prune=True)` callback to pass to `fit`.
    """
    hidden = [layer.name for layer in flatten_layers(model) if isinstance(layer, _KERNEL_LAYERS)][1:-1]
    apply_admm(model, rho=rho, sparsity=channel_sparsity, structure="channel", layers=hidden)
    return ADMMUpdate(hard_prune=True)


def train_deployable(
    base,
    x,
    y,
    *,
    objective="pgd",
    eps=0.1,
    attack_steps=10,
    step_size=None,
    sparsify_epochs=10,
    quantize_epochs=5,
    rgsm_beta=1.0,
    rgsm_lam1=5e-2,
    rgsm_lam2=1e-5,
    channel_sparsity=None,
    admm_rho=ADMM_RHO,
    kernel_quantizer="binary",
    float_layers=(),
    scheme="binaryrelax",
    relax_rho=2.0,
    learning_rate=0.01,
    quantize_learning_rate=None,
    batch_size=128,
    seed=0,
    verbose=1,
):
    """Trains a robust, channel-sparse, low-bit model from `base` (see the module docstring).

    Args:
        base: a built functional or Sequential float model returning logits
            (e.g. `hdl_keras.models.small_cnn()`), trained in place in the
            first phase.
        x: training inputs, float32 in [0, 1], `(N, *input_shape)`.
        y: int labels `(N,)`.
        objective: `"pgd"`, `"trades"` or `"tradeoff"` (`OBJECTIVES`).
        eps: l_inf radius of the training attack.
        attack_steps: PGD steps of the training attack.
        step_size: PGD step, default `2.5 * eps / attack_steps`.
        sparsify_epochs: epochs of phase 1 (robust + RGSM).
        quantize_epochs: epochs of phase 3 (robust + quantized).
        rgsm_beta: RGSM's coupling weight `beta`.
        rgsm_lam1: RGSM's channel penalty `lam1` (group l0: the threshold on
            a channel's l2 norm is `sqrt(2 * lam1 / beta)`).
        rgsm_lam2: RGSM's group-lasso weight `lam2`.
        channel_sparsity: None (RGSM), or the fraction in (0, 1) of output
            channels ADMM prunes from each hidden Dense/Conv2D layer.
        admm_rho: ADMM's penalty weight `rho` (with `channel_sparsity`).
        kernel_quantizer: `"binary"`, `"ternary"`, `"4bit"` or any
            quantizer `hdl_keras.quantizers.get` resolves.
        float_layers: names of Dense/Conv2D layers kept float in phase 3
            (`to_quantized`'s option), e.g. `("conv1",)`: the stem of
            `small_cnn`, as the zoo's RobustSparseBinary entries keep it.
        scheme: `"binaryrelax"` (default) or `"binaryconnect"`.
        relax_rho: BinaryRelax's growth of `lambda` per epoch.
        learning_rate: SGD (momentum 0.9) learning rate of phase 1.
        quantize_learning_rate: that of phase 3, default `learning_rate / 10`.
        batch_size: batch size of both phases.
        seed: seed of the attacks, the shuffling and the initial weights.
        verbose: Keras `fit` verbosity.

    Returns:
        `(model, summary)`: the quantized, shrunk `keras.Model` (exactly
        quantized kernels, ready for `hdl_keras.deploy.export`) and a dict
        with `parameters` and `channels` before and after shrinking and the
        per-phase `history`.

    Examples:

        ```python
        model, summary = train_deployable(small_cnn(), x_train, y_train, eps=0.3,
                                          sparsify_epochs=10, quantize_epochs=5)
        hdl_keras.deploy.export(model, "mnist.onnx")
        ```
    """
    if objective not in OBJECTIVES:
        raise ValueError(f"Expected objective in {sorted(OBJECTIVES)}. Received: objective={objective!r}")
    if scheme not in SCHEMES:
        raise ValueError(f"Expected scheme in {SCHEMES}. Received: scheme={scheme!r}")
    if quantizers.get(kernel_quantizer) is None:
        raise ValueError(
            "Expected a kernel quantizer ('binary', 'ternary', '4bit', ...). "
            f"Received: kernel_quantizer={kernel_quantizer!r}"
        )
    sparsify_epochs = _check_positive_int(sparsify_epochs, "sparsify_epochs")
    quantize_epochs = _check_positive_int(quantize_epochs, "quantize_epochs")
    attack_steps = _check_positive_int(attack_steps, "attack_steps")
    if channel_sparsity is not None and not (
        isinstance(channel_sparsity, (int, float))
        and not isinstance(channel_sparsity, bool)
        and 0 < channel_sparsity < 1
    ):
        raise ValueError(
            f"Expected `channel_sparsity` to be None or a fraction in (0, 1). Received: channel_sparsity={channel_sparsity!r}"
        )
    if not (isinstance(eps, (int, float)) and math.isfinite(eps) and eps > 0):
        raise ValueError(f"Expected `eps` to be a number > 0. Received: eps={eps!r}")
    check_float_layers(base, float_layers)  # before phase 1, not after it
    attack = {
        "eps": float(eps),
        "steps": attack_steps,
        "step_size": float(step_size) if step_size is not None else 2.5 * float(eps) / attack_steps,
    }
    x = np.asarray(x, dtype="float32")
    y = np.asarray(y).astype("int64")
    keras.utils.set_random_seed(seed)

    if channel_sparsity is None:
        pruning = apply_rgsm(base, beta=rgsm_beta, lam1=rgsm_lam1, lam2=rgsm_lam2)
    else:
        pruning = admm_channel_pruning(base, channel_sparsity, rho=admm_rho)
    sparsify = _fit(base, objective, x, y, sparsify_epochs, learning_rate, batch_size, seed, attack, [pruning], verbose)
    remove_splitting(base)
    shrunk = shrink(base)

    quantized = to_quantized(shrunk, kernel_quantizer, float_layers=float_layers)
    callbacks = []
    if scheme == "binaryrelax":
        callbacks.append(BinaryRelax(lambda_0=1.0, rho=relax_rho, switch_epoch=quantize_epochs))
    quantize_lr = learning_rate / 10 if quantize_learning_rate is None else quantize_learning_rate
    fine_tune = _fit(
        quantized, objective, x, y, quantize_epochs, quantize_lr, batch_size, seed, attack, callbacks, verbose
    )
    summary = {
        "parameters": {"before": int(base.count_params()), "after": int(shrunk.count_params())},
        "channels": {"before": _channel_count(base), "after": _channel_count(shrunk)},
        "history": {"sparsify": sparsify, "quantize": fine_tune},
    }
    return quantized, summary
