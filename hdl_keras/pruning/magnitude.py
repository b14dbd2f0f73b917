"""Magnitude pruning (Sehwag et al. 2019, sec. 3): masks of the smallest weights or filters, kept at zero.

Sehwag et al. (2019) prune a pre-trained network by weight magnitude and
fine-tunes the rest: a pruning step applies a binary mask `M` to the weights,
`theta <- M * theta`, and fine-tuning minimises the loss over the kept
weights. Unstructured pruning zeroes the connections with the smallest `|w|`;
structured pruning zeroes whole filters (conv) or neurons (dense), those with
the smallest l1 norm (Li et al. 2017).

`magnitude_masks(model, amount)` computes the masks, `apply_masks(model,
masks)` zeroes the pruned weights and keeps them at zero during later
training, and `masks_from_zeros(model)` recovers the masks of a pruned model
(e.g. after loading it).

How pruned weights stay exactly zero: `apply_masks` sets a `MaskConstraint`
as the `constraint` of each masked variable. Keras optimizers apply variable
constraints right after every update, inside the compiled train step, on all
three backends (`optimizer.apply`, `stateless_apply` on JAX), so the pruned
entries are exactly zero after every optimizer step: under `jit_compile`,
with `steps_per_execution > 1`, in `train_on_batch` and in any custom loop
that calls `optimizer.apply`. The alternatives were weighed:

- a callback re-applying masks in `on_train_batch_end` runs outside the
  compiled step, is skipped within `steps_per_execution`, forces a host
  round trip of the whole model state on JAX every batch, and is silently
  lost when a caller forgets to pass it;
- masked layers with a non-trainable mask weight change the architecture (new
  layer classes that every tool, from interval bounds to the physical
  `shrink`, would have to know) and only zero the *effective* kernel.

The constraint is set on the variable, not in the layer's config, so a saved
`.keras` model is plain Keras with the pruned zeros baked into its weights;
`masks_from_zeros(loaded)` gives the masks back to resume fine-tuning. The
masks are constants of a traced train step: `apply_masks` drops the model's
compiled train function so that the next `fit` retraces with them (a model
wrapping the same layers, e.g. `PGDAdversarialTraining.from_model(model)`,
must be given to `apply_masks` itself, or re-compiled).
"""

import numbers

import keras
import numpy as np
from keras import ops

from hdl_keras.layers.masking import MaskedKernelMixin
from hdl_keras.utils.arrays import to_numpy

# Layers whose `kernel` is pruned: the output filters/neurons are the last
# kernel axis, `(*kernel_size, in_channels / groups, filters)` or
# `(in_features, units)`, whatever the data format.
PRUNABLE_LAYERS = (
    keras.layers.Dense,
    keras.layers.Conv1D,
    keras.layers.Conv2D,
    keras.layers.Conv3D,
)

SCOPES = ("layer", "global")


@keras.saving.register_keras_serializable(package="hdl_keras")
class MaskConstraint(keras.constraints.Constraint):
    """Keeps the pruned entries of a variable at exactly zero.

    Returns `where(mask, constraint(w), 0)`: the entries where `mask` is
    False are set to `+0.0`, the others go through the variable's previous
    constraint (if any). `apply_masks` sets it on each masked variable; the
    optimizer applies it after every update.

    Args:
        mask: boolean array of the variable's shape, True where the entry is
            kept (the paper's `M`).
        constraint: the constraint the variable had before, or None.

    Examples:
        >>> constraint = MaskConstraint(np.array([True, False]))
        >>> keras.ops.convert_to_numpy(constraint(np.array([3.0, 4.0]))).tolist()
        [3.0, 0.0]
    """

    def __init__(self, mask, constraint=None):
        self.mask = np.asarray(mask, dtype=bool)
        self.constraint = keras.constraints.get(constraint)

    def __call__(self, w):
        w = ops.convert_to_tensor(w)
        if self.constraint is not None:
            w = self.constraint(w)
        return ops.where(self.mask, w, ops.zeros_like(w))

    def get_config(self):
        return {
            "mask": self.mask.tolist(),
            "constraint": keras.constraints.serialize(self.constraint),
        }


def _check_amount(amount):
    if isinstance(amount, bool) or not isinstance(amount, numbers.Real) or not 0.0 <= amount <= 1.0:
        raise ValueError(
            "Expected `amount` to be the fraction of weights (or filters) to "
            f"prune, a number in [0, 1]. Received: amount={amount!r}"
        )
    return float(amount)


def _layers(model):
    """The layers of `model` in order, nested models flattened, each once."""
    seen = set()
    stack = list(reversed(model.layers))
    while stack:
        layer = stack.pop()
        if id(layer) in seen:
            continue
        seen.add(id(layer))
        if isinstance(layer, keras.Model):
            stack.extend(reversed(layer.layers))
        else:
            yield layer


def _prunable_layers(model, structured=False):
    """The layers magnitude pruning acts on, in the order of `model.layers`.

    `Dense` and `Conv1D/2D/3D` layers (and their subclasses), nested models
    included. With `structured=True` the last of them, the classifier, is left
    out: removing its units would remove classes.

    Args:
        model: a built `keras.Model`.
        structured: whether filters (True) or single weights (False) are pruned.

    Returns:
        A list of layers.

    Raises:
        ValueError: if `model` holds `MaskedDense`/`MaskedConv2D` layers (their
            kernel is gated by a learned mask: export them first with
            `hdl_keras.layers.export_pruned`).
    """
    if not isinstance(model, keras.Model) or not model.built:
        raise ValueError(f"Expected a built keras.Model. Received: model={model!r}")
    layers = []
    for layer in _layers(model):
        if isinstance(layer, MaskedKernelMixin):
            raise ValueError(
                f"Layer {layer.name!r} ({type(layer).__name__}) has a learned "
                "sigmoid mask; magnitude pruning acts on plain kernels. Export "
                "the model with `hdl_keras.layers.export_pruned` first."
            )
        if isinstance(layer, PRUNABLE_LAYERS):
            layers.append(layer)
    if structured:
        layers = layers[:-1]
    return layers


def _smallest(scores, count):
    """Boolean mask of `scores`' shape, False at the `count` smallest entries.

    Ties are broken by position: a stable sort of the flattened (row-major)
    scores, so among equal scores the earlier entry is pruned first.
    """
    keep = np.ones(scores.size, dtype=bool)
    keep[np.argsort(scores, axis=None, kind="stable")[:count]] = False
    return keep.reshape(scores.shape)


def _count(amount, size):
    """`round(amount * size)`, halves rounded up."""
    return int(np.floor(amount * size + 0.5))


def _kernel(layer):
    return np.abs(to_numpy(layer.kernel)).astype("float64")


def _unstructured_masks(layers, amount, scope):
    kernels = [_kernel(layer) for layer in layers]
    if scope == "layer":
        keeps = [_smallest(k, _count(amount, k.size)) for k in kernels]
    else:
        scores = np.concatenate([k.ravel() for k in kernels]) if kernels else np.zeros(0)
        keep = _smallest(scores, _count(amount, scores.size))
        splits = np.cumsum([k.size for k in kernels])[:-1]
        keeps = [part.reshape(k.shape) for part, k in zip(np.split(keep, splits), kernels)]
    return {layer.kernel.path: keep for layer, keep in zip(layers, keeps)}


def _structured_masks(layers, amount):
    masks = {}
    for layer in layers:
        kernel = _kernel(layer)
        norms = kernel.reshape(-1, kernel.shape[-1]).sum(axis=0)
        # A layer keeps at least one filter unless everything is pruned.
        count = _count(amount, norms.size)
        if amount < 1.0:
            count = min(count, norms.size - 1)
        alive = _smallest(norms, count)
        masks[layer.kernel.path] = np.broadcast_to(alive, kernel.shape).copy()
        if layer.bias is not None:
            masks[layer.bias.path] = alive
    return masks


def magnitude_masks(model, amount, structured=False, scope="layer"):
    """Pruning masks of the smallest weights (or filters) of `model`.

    Unstructured (`structured=False`): the `round(amount * n)` kernel entries
    with the smallest `|w|` are pruned, where `n` counts the entries of each
    layer (`scope="layer"`, the same fraction in every layer) or of all
    prunable layers together (`scope="global"`, one threshold). Structured
    (`structured=True`, per layer): in each `Dense`/`Conv` layer but the
    classifier, the `round(amount * filters)` output filters (neurons) with
    the smallest l1 norm `sum |w|` over the filter's kernel slice are pruned,
    kernel slice and bias entry both; a layer keeps at least one filter
    unless `amount == 1`. This is Sehwag et al.'s (2019) constraint (eq. 3), `1 -
    ||theta||_0 / ||theta_p||_0 <= t`, met with the magnitude heuristic of
    its sec. 3 (Han et al. 2015 for weights, Li et al. 2017 for filters).

    Ties (equal magnitudes or norms) are broken by position: the entry that
    comes first in row-major order of the kernel (for `scope="global"`, in
    the order of `model.layers`) is pruned first, so exactly the counted
    number of entries is pruned. Entries that are already zero are the
    smallest, so raising `amount` over pruning steps keeps every earlier
    pruned entry pruned.

    Args:
        model: a built `keras.Model`. Its `Dense` and `Conv1D/2D/3D` layers
            (subclasses and nested models included) are pruned.
        amount: fraction to prune, a number in `[0, 1]`.
        structured: prune filters by l1 norm instead of single weights.
            Defaults to False.
        scope: `"layer"` (default) or `"global"` (unstructured only).

    Returns:
        A dict from variable path (`variable.path`) to a boolean NumPy array
        of the variable's shape, True where the entry is kept: the kernel of
        every prunable layer, and with `structured=True` also its bias.

    Raises:
        ValueError: for an `amount` outside `[0, 1]`, an unknown `scope`,
            `scope="global"` with `structured=True`, or a model holding
            `MaskedDense`/`MaskedConv2D` layers (export them first with
            `hdl_keras.layers.export_pruned`).

    Examples:
        >>> model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(2)])
        >>> model.set_weights([np.array([[1.0, -4.0], [3.0, 0.5]]), np.zeros(2)])
        >>> masks = magnitude_masks(model, 0.5)
        >>> masks[model.layers[0].kernel.path].tolist()
        [[False, True], [True, False]]
    """
    amount = _check_amount(amount)
    if scope not in SCOPES:
        raise ValueError(f"Expected `scope` to be one of {SCOPES}. Received: scope={scope!r}")
    if structured and scope != "layer":
        raise ValueError(
            "Structured pruning removes the same fraction of filters in every "
            f"layer; use scope='layer'. Received: scope={scope!r}"
        )
    layers = _prunable_layers(model, structured=structured)
    _variables_by_path(model)  # masks are keyed by path: paths must be unique
    if structured:
        return _structured_masks(layers, amount)
    return _unstructured_masks(layers, amount, scope)


def _variables_by_path(model):
    variables = {}
    for variable in model.weights:
        if variables.get(variable.path, variable) is not variable:
            raise ValueError(
                f"Model {model.name!r} has two variables with path "
                f"{variable.path!r}; masks are keyed by variable path, so "
                "rename one of the layers."
            )
        variables[variable.path] = variable
    return variables


def apply_masks(model, masks):
    """Zeroes the pruned weights of `model` and keeps them zero in training.

    For each `path -> mask` the variable is set to `mask * w` and its
    `constraint` to `MaskConstraint(mask, previous_constraint)` (a
    `MaskConstraint` already there is replaced, keeping its inner
    constraint), which the optimizer applies after every update. The model's
    compiled train function is dropped, so the next `fit` traces the
    constraints in. A model already fitted shares its variables with wrappers
    (e.g. `PGDAdversarialTraining.from_model(model)`): pass the model that is
    fitted next, or re-compile it.

    Args:
        model: a built `keras.Model`.
        masks: dict from `variable.path` to a boolean array of the variable's
            shape, True where kept (as returned by `magnitude_masks`).

    Raises:
        ValueError: for a path that is not a variable of `model` or a mask
            of the wrong shape.
    """
    variables = _variables_by_path(model)
    for path, mask in masks.items():
        if path not in variables:
            raise ValueError(
                f"Mask for {path!r}, which is not a variable of model "
                f"{model.name!r}. Compute the masks on this model (or one "
                "sharing its layers)."
            )
        variable = variables[path]
        mask = np.asarray(mask, dtype=bool)
        if mask.shape != tuple(variable.shape):
            raise ValueError(
                f"Expected the mask of {path!r} to have the variable's shape "
                f"{tuple(variable.shape)}. Received: shape={mask.shape}"
            )
        constraint = variable.constraint
        if isinstance(constraint, MaskConstraint):
            constraint = constraint.constraint
        variable.constraint = MaskConstraint(mask, constraint)
        variable.assign(variable.constraint(variable))
    model.train_function = None


def masks_from_zeros(model, structured=False):
    """Masks of a pruned model, read from its exact zeros (e.g. after loading).

    Unstructured: each prunable kernel's mask is `kernel != 0`. Structured: a
    filter is pruned when its whole kernel slice is zero, and the mask covers
    its kernel slice and bias entry. A weight that is zero by chance counts
    as pruned.

    Args:
        model: a built `keras.Model`.
        structured: read filter masks (True) or weight masks (False).

    Returns:
        A dict like `magnitude_masks`'s, for `apply_masks`.
    """
    masks = {}
    for layer in _prunable_layers(model, structured=structured):
        kernel = to_numpy(layer.kernel) != 0
        if not structured:
            masks[layer.kernel.path] = kernel
            continue
        alive = kernel.reshape(-1, kernel.shape[-1]).any(axis=0)
        masks[layer.kernel.path] = np.broadcast_to(alive, kernel.shape).copy()
        if layer.bias is not None:
            masks[layer.bias.path] = alive
    return masks
