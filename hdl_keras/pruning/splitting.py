"""RVSM, RGSM and ADMM pruning inside `model.fit` (Dinh et al. 2020, sec. 4).

Each method splits a kernel `w` into itself and a sparse copy `u` coupled by
`(beta / 2) * ||w - u||^2` (the relaxed augmented Lagrangian, eq. 4; ADMM's
eq. 2 adds the multiplier `z`). Here a method is two Keras objects:

- a **kernel regularizer** (`RVSM`, `RGSM`, `ADMM`) for the w-step. The
  coupling gradient `beta * (w - u)` of Algorithm 1 is the gradient of
  `(beta / 2) * ||w - stop_gradient(u(w))||^2`, so the regularizer returns
  that penalty (RGSM adds `lam2 * ||w||_GL`, Algorithm 2's `f~`; ADMM uses
  `(rho / 2) * ||w - u + z||^2`). `Model.compute_loss` and every objective of
  `hdl_keras.objectives` (`PGDAdversarialTraining`, `TRADES`, `TradeOff`,
  `HolisticModel`) add `model.losses`, so the coupling joins whatever loss
  the train step minimises, is traced into the compiled (`jit_compile`)
  step on jax, tensorflow and torch, and shows in the logged loss. With
  `keras.optimizers.SGD(eta)` (no momentum) one step is exactly Algorithm
  1's `w <- w - eta * grad f(w) - eta * beta * (w - u)` with `u = H(w)`,
  recomputed from the current `w` at every step (the u-update
  `argmin_u L_beta(w, u)` after each w-step, as in Dinh et al.'s (2020) reference
  code). With momentum or Adam the coupling goes through the optimizer like
  the loss gradient (the reference code subtracts it outside the momentum).
- a **callback** for what happens between epochs: `ReplaceWithU` replaces
  `w` by `u` (Dinh et al. 2020: "at the end of each training epoch, we replace w by
  u for the validation process": it runs before validation, in
  `on_test_begin` within `fit`, or at `on_epoch_end` without validation);
  `ADMMUpdate` runs ADMM's u- and z-steps (eq. 3) every `update_every`
  epochs. Keras runs callbacks with the variables synced on every backend
  (the jax trainer writes its functional state back before validation and
  `on_epoch_end` and reads it again at the next epoch), and the assigned
  values are exact zeros.

Why not an optimizer wrapper or a `train_step` mixin: a wrapper would have
to forward `apply`/`stateless_apply`, the learning rate and its own
serialization for every optimizer, and a mixin would have to be mixed into
each objective class and each backend's `train_step`; a regularizer composes
with every train step that adds `model.losses`, with no change to either.

ADMM's `u` and `z` are state updated between epochs, so they must be part of
the model's state: a variable outside it would be captured as a constant
when jax traces the train step. `apply_admm` therefore adds them to each
layer as non-trainable weights `admm_u` and `admm_z`, the way Keras'
`enable_lora` adds weights to a built layer.

What a `.keras` file keeps: the `RVSM` and `RGSM` regularizers are set as
the layer's `kernel_regularizer`, so they are in its config and a loaded
model fits with the coupling again (`remove_splitting` drops them). The
`ADMM` regularizer and its `u`, `z` are not saved (the layers save their
kernel, bias and mask only): a saved ADMM model loads as a plain model.
Callbacks are never part of a `.keras` file; their `get_config` round-trips.
Call `remove_splitting(model)` before `model.load_weights` on a model with
ADMM state attached (the extra weights make the variable counts differ).

The regularizers are defined in `hdl_keras.pruning.splitting_regularizers`
and re-exported here; this module attaches them to models.
"""

from hdl_keras.callbacks.splitting import ADMMUpdate
from hdl_keras.callbacks.splitting import ReplaceWithU
from hdl_keras.layers import MaskedKernelMixin
from hdl_keras.measure import prunable_layers
from hdl_keras.utils.graph import add_weight_to_built_layer
from hdl_keras.utils.graph import untrack_variable
from hdl_keras.pruning.splitting_regularizers import ADMM
from hdl_keras.pruning.splitting_regularizers import ADMM_STRUCTURES
from hdl_keras.pruning.splitting_regularizers import RGSM
from hdl_keras.pruning.splitting_regularizers import RVSM
from hdl_keras.pruning.splitting_regularizers import SPLITTING_TYPES
from hdl_keras.pruning.splitting_regularizers import RegularizerSum


def _parts(regularizer):
    if regularizer is None:
        return []
    if isinstance(regularizer, RegularizerSum):
        return list(regularizer.regularizers)
    return [regularizer]


def _split_part(regularizer, types=SPLITTING_TYPES):
    """The splitting regularizer inside `regularizer` (alone or in a sum), or None."""
    for part in _parts(regularizer):
        if isinstance(part, types):
            return part
    return None


def _without_split(regularizer):
    """`regularizer` with its splitting part removed (None when nothing is left)."""
    others = [part for part in _parts(regularizer) if not isinstance(part, SPLITTING_TYPES)]
    if not others:
        return None
    return others[0] if len(others) == 1 else RegularizerSum(others)


def _with_split(regularizer, split):
    base = _without_split(regularizer)
    return split if base is None else RegularizerSum([base, split])


def _has_float_kernel(layer):
    return isinstance(layer, MaskedKernelMixin) or (
        layer.quantization_mode is None and not getattr(layer, "lora_enabled", False)
    )


def _kernel_variable(layer):
    """The trainable kernel variable of a prunable layer (`W` of a masked layer)."""
    if isinstance(layer, MaskedKernelMixin):
        return layer.unmasked_kernel
    if not _has_float_kernel(layer):
        raise ValueError(
            f"Layer {layer.name!r} is quantized or has LoRA enabled; the splitting methods "
            "need a plain float kernel variable."
        )
    return layer.kernel


def _target_layers(model, layers):
    candidates = prunable_layers(model)
    if layers is None:
        if not candidates:
            raise ValueError(
                f"Model {model.name!r} has no built Dense or Conv2D layer to prune. "
                "Build the model (call it on a batch) first."
            )
        return candidates
    by_name = {layer.name: layer for layer in candidates}
    chosen = []
    for item in layers:
        layer = by_name.get(item) if isinstance(item, str) else item
        if not any(layer is candidate for candidate in candidates):
            raise ValueError(
                "Expected `layers` to hold built Dense or Conv2D layers of the model (objects "
                f"or names), one of {sorted(by_name)}. Received: {item!r}"
            )
        chosen.append(layer)
    return chosen


def _reset_compiled_functions(model):
    # A train step traced before the regularizers changed would not include them.
    model.train_function = None
    model.test_function = None


def _attach_admm_state(layer, kernel, regularizer):
    u, z = (
        add_weight_to_built_layer(
            layer,
            name=name,
            shape=kernel.shape,
            initializer="zeros",
            dtype=kernel.dtype,
            trainable=False,
        )
        for name in ("admm_u", "admm_z")
    )
    u.assign(regularizer.prox(kernel))
    regularizer.u, regularizer.z = u, z


def _detach_admm_state(layer, regularizer):
    for variable in (regularizer.u, regularizer.z):
        if variable is not None:
            untrack_variable(layer, variable)
    regularizer.u = regularizer.z = None


def _detach(layer):
    kernel = _kernel_variable(layer)
    admm = _split_part(kernel.regularizer, ADMM)
    if admm is not None:
        _detach_admm_state(layer, admm)
    kernel.regularizer = _without_split(kernel.regularizer)
    layer.kernel_regularizer = _without_split(layer.kernel_regularizer)


def _attach(model, make_regularizer, layers, in_config):
    for layer in _target_layers(model, layers):
        _detach(layer)
        kernel = _kernel_variable(layer)
        regularizer = make_regularizer()
        if isinstance(regularizer, ADMM):
            _attach_admm_state(layer, kernel, regularizer)
        kernel.regularizer = _with_split(kernel.regularizer, regularizer)
        if in_config:
            layer.kernel_regularizer = _with_split(layer.kernel_regularizer, regularizer)
    _reset_compiled_functions(model)


def apply_rvsm(model, beta, lam, layers=None):
    """Attaches RVSM (Dinh et al. 2020, Algorithm 1) to the kernels of a built model.

    Sets an `RVSM(beta, lam)` regularizer on every prunable kernel (`Dense`,
    `Conv2D` and the masked layers' `W`; or those of `layers`), keeping any
    regularizer already there (as a `RegularizerSum`), replacing an earlier
    splitting regularizer, and resetting the model's compiled train and test
    functions so the next `fit` traces the coupling. Call it on the model you
    `fit`, before or after `compile`; to keep a weight decay set by
    `hdl_keras.recipes.add_weight_decay`, call that first (it overwrites).

    Args:
        model: a built `keras.Model` (any objective, e.g. `PGDAdversarialTraining`).
        beta: coupling weight `> 0`.
        lam: l0 weight `>= 0`; the threshold is `sqrt(2 * lam / beta)`.
        layers: optional list of the model's `Dense`/`Conv2D` layers (objects
            or names) to prune; default all of them. Dinh et al.'s (2020) reference
            code prunes the convolutions only.

    Returns:
        A `ReplaceWithU` callback to pass to `fit`.

    Examples:
        >>> model = PGDAdversarialTraining.from_model(resnet20(), **ATTACK_PRESETS["cifar10"])
        >>> replace = apply_rvsm(model, beta=0.5, lam=1e-6)
        >>> model.compile(optimizer=keras.optimizers.SGD(0.1, momentum=0.9), jit_compile=True)
        >>> model.fit(x, y, epochs=200, callbacks=[replace])  # doctest: +SKIP
    """
    RVSM(beta, lam)  # Checks the arguments before any layer changes.
    _attach(model, lambda: RVSM(beta, lam), layers, in_config=True)
    return ReplaceWithU()


def apply_rgsm(model, beta, lam1, lam2, penalty="group_l0", channel_axis=-1, layers=None):
    """Attaches RGSM (Dinh et al. 2020, Algorithm 2) to the kernels of a built model.

    As `apply_rvsm`, with `RGSM(beta, lam1, lam2, penalty, channel_axis)`.

    Args:
        model: a built `keras.Model`.
        beta: coupling weight `> 0`.
        lam1: channel penalty on `u`, `>= 0`.
        lam2: group-lasso weight on `w`, `>= 0`.
        penalty: `"group_l0"` (default) or `"group_lasso"`.
        channel_axis: `-1` (output channels, default) or `-2` (input channels).
        layers: optional list of layers (objects or names); default all prunable.

    Returns:
        A `ReplaceWithU` callback to pass to `fit`.

    Examples:
        >>> replace = apply_rgsm(model, beta=1.0, lam1=5e-2, lam2=1e-5)
        >>> model.fit(x, y, epochs=200, callbacks=[replace])  # doctest: +SKIP
    """
    RGSM(beta, lam1, lam2, penalty, channel_axis)  # Checks the arguments first.
    _attach(model, lambda: RGSM(beta, lam1, lam2, penalty, channel_axis), layers, in_config=True)
    return ReplaceWithU()


def apply_admm(model, rho, lam=None, sparsity=None, structure="weight", channel_axis=-1, layers=None):
    """Attaches ADMM (Dinh et al.'s (2020) baseline, eq. 2-3) to the kernels of a built model.

    Sets an `ADMM` regularizer (one per kernel, not in the layer config) and
    adds the non-trainable weights `admm_u = prox(w)` and `admm_z = 0` to each
    layer. Resets the compiled train and test functions.

    Args:
        model: a built `keras.Model`.
        rho: penalty weight `> 0`.
        lam: l1 weight (give this or `sparsity`).
        sparsity: fraction pruned by the projection, in [0, 1].
        structure: `"weight"` (default) or `"channel"`.
        channel_axis: `-1` (output channels, default) or `-2` (input channels).
        layers: optional list of layers (objects or names); default all prunable.

    Returns:
        An `ADMMUpdate()` callback (u- and z-steps every epoch) to pass to
        `fit`; build your own `ADMMUpdate(update_every=..., hard_prune=True)`
        for other settings.

    Examples:
        >>> update = apply_admm(model, rho=1e-2, sparsity=0.8)
        >>> model.fit(x, y, epochs=200, callbacks=[update])  # doctest: +SKIP
    """
    ADMM(rho, lam, sparsity, structure, channel_axis)  # Checks the arguments first.
    _attach(model, lambda: ADMM(rho, lam, sparsity, structure, channel_axis), layers, in_config=False)
    return ADMMUpdate()


def remove_splitting(model):
    """Removes the RVSM / RGSM / ADMM regularizers and ADMM state from `model`.

    Other regularizers stay. The kernels keep their current values (after
    `ReplaceWithU`, the sparse `u`). Resets the compiled train and test
    functions.

    Args:
        model: a built `keras.Model`.

    Returns:
        `model`.
    """
    for layer in prunable_layers(model):
        if _has_float_kernel(layer):
            _detach(layer)
    _reset_compiled_functions(model)
    return model


__all__ = [
    "ADMM",
    "ADMM_STRUCTURES",
    "RGSM",
    "RVSM",
    "RegularizerSum",
    "SPLITTING_TYPES",
    "apply_admm",
    "apply_rgsm",
    "apply_rvsm",
    "remove_splitting",
]
