"""`ObjectiveModel`: the base of the training objectives, and their registry by name.

Every objective of this package (`HolisticModel`, `PGDAdversarialTraining`,
`TRADES`, `TradeOff`, `IBPTraining`) is a functional `keras.Model` whose
`compute_loss` returns its objective, so plain `model.fit` trains it. The base
holds what they share: `from_model` (wrap a built logits network), the
reduction of per-example losses with `sample_weight`, `unwrap()` (the plain
logits network back) and the registry (`get("hdl")`,
`available_objectives()`).
"""

import difflib

import keras
from keras import ops

from hdl_keras.utils.validation import check_fit_arrays

# Keras' loss reductions that average per-example losses (`keras.losses.Loss(reduction=...)`).
REDUCTIONS = ("sum_over_batch_size", "mean_with_sample_weight")

_REGISTRY = {}


@keras.saving.register_keras_serializable(package="hdl_keras")
class ObjectiveModel(keras.Model):
    """A functional logits model whose `compute_loss` is a training objective.

    Subclasses compute per-example losses `L_n`, shape `(B,)`, reduce them
    with `reduce_losses(L, sample_weight)` and add the batch-independent
    terms (penalties, `self.losses`). The reduction follows Keras' losses:
    with weights `w_n` (all 1 when `sample_weight` is None),

        sum_over_batch_size:      sum_n w_n L_n / B          (Keras' default)
        mean_with_sample_weight:  sum_n w_n L_n / sum_n w_n

    so zero weights drop examples: with `mean_with_sample_weight` a batch
    whose second half has weight 0 gives the loss of the first half alone
    (with the default, weight 2 on the first half does).

    A subclass that sets the class attribute `objective_name` is registered
    under it: `hdl_keras.objectives.get(objective_name)` returns the class.

    Args:
        *args: `inputs, outputs` as for `keras.Model`; outputs are logits `(B, K)`.
        reduction: `"sum_over_batch_size"` (default) or
            `"mean_with_sample_weight"`, the reduction above.
        **kwargs: those of `keras.Model` (e.g. `name`).

    Raises:
        ValueError: an unknown `reduction`.
    """

    objective_name = None

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        name = cls.__dict__.get("objective_name")
        if name is not None:
            _REGISTRY[name] = cls

    def __init__(self, *args, reduction="sum_over_batch_size", **kwargs):
        if reduction not in REDUCTIONS:
            raise ValueError(f"Expected `reduction` to be one of {REDUCTIONS}. Received: reduction={reduction!r}")
        super().__init__(*args, **kwargs)
        self.reduction = reduction

    @classmethod
    def from_model(cls, model, **objective_kwargs):
        """Wraps a built functional (or Sequential) logits model, sharing its layers.

        Args:
            model: a built `keras.Model` returning logits `(B, K)`, e.g. one of
                `hdl_keras.models` or the `unwrap()` of another objective.
            **objective_kwargs: arguments of `cls` (its settings, `name`, ...).

        Returns:
            A `cls` on `model.input -> model.output`; training it trains
            `model`'s weights.

        Raises:
            ValueError: `model` is not a built functional or Sequential model.

        Examples:
            >>> model = TRADES.from_model(resnet20(), beta=6.0)
        """
        try:
            inputs, outputs = model.input, model.output
        except (AttributeError, ValueError) as error:
            raise ValueError(
                f"{cls.__name__}.from_model expects a built functional or Sequential "
                f"keras.Model returning logits. Received: {type(model).__name__} ({error}). "
                f"Build the network with keras.Input, or call {cls.__name__}(inputs, outputs)."
            ) from None
        return cls(inputs, outputs, **objective_kwargs)

    def unwrap(self):
        """The plain logits network: a functional `keras.Model` on the same graph.

        Shares the layers and weights (training either trains both) but
        has `keras.Model`'s own `compute_loss`: compile it with a loss to
        evaluate plain cross-entropy, export or attack it.

        Returns:
            `keras.Model(self.input, self.output, name=self.name)`.
        """
        return keras.Model(self.input, self.output, name=self.name)

    def fit(self, x=None, y=None, *args, **kwargs):
        """`keras.Model.fit`, after eager checks of array inputs (finite, labels in range)."""
        check_fit_arrays(self, x, y)
        return super().fit(x, y, *args, **kwargs)

    def example_weights(self, losses, sample_weight):
        """The weights `w` `(B,)` of the per-example `losses` (ones without `sample_weight`)."""
        if sample_weight is None:
            return ops.ones_like(losses)
        return ops.reshape(ops.cast(sample_weight, losses.dtype), (-1,))

    def total_weight(self, weights):
        """The reduction's denominator: `B` or `sum_n w_n` (see the class doc)."""
        if self.reduction == "sum_over_batch_size":
            return ops.cast(ops.shape(weights)[0], weights.dtype)
        return ops.sum(weights)

    def reduce_losses(self, losses, sample_weight=None):
        """Per-example losses `(B,)` to the scalar `sum_n w_n L_n / total_weight(w)`.

        An all-zero batch under `mean_with_sample_weight` gives 0, as in Keras.
        """
        weights = self.example_weights(losses, sample_weight)
        return ops.divide_no_nan(ops.sum(losses * weights), self.total_weight(weights))

    def add_model_losses(self, loss):
        """`loss` plus the layers' losses (`self.losses`, e.g. kernel regularizers)."""
        for extra in self.losses:
            loss = loss + ops.sum(extra)
        return loss

    def get_config(self):
        return {**super().get_config(), "reduction": self.reduction}


def available_objectives():
    """The names `get` accepts, sorted: e.g. `["hdl", "ibp", "pgd", "tradeoff", "trades"]`."""
    return sorted(_REGISTRY)


def get(identifier):
    """The objective class of a name, e.g. `get("hdl")` is `HolisticModel`.

    Args:
        identifier: a name of `available_objectives()` (case-insensitive),
            a class name (`"HolisticModel"`), or an `ObjectiveModel` subclass
            (returned as is).

    Returns:
        The `ObjectiveModel` subclass; build it with `cls.from_model(network,
        **settings)` or `cls(inputs, outputs, **settings)`.

    Raises:
        ValueError: an unknown name (the error lists close names).
        TypeError: an identifier that is neither a str nor a class.

    Examples:
        >>> get("trades").from_model(small_cnn(), beta=6.0)  # doctest: +SKIP
    """
    if isinstance(identifier, type) and issubclass(identifier, ObjectiveModel):
        return identifier
    if not isinstance(identifier, str):
        raise TypeError(
            "Expected an objective name (str) or an ObjectiveModel subclass. Received: "
            f"identifier={identifier!r} of type {type(identifier).__name__}"
        )
    names = {name: cls for name, cls in _REGISTRY.items()}
    names.update({cls.__name__.lower(): cls for cls in _REGISTRY.values()})
    key = identifier.lower()
    if key in names:
        return names[key]
    close = difflib.get_close_matches(key, list(names), n=3, cutoff=0.6)
    hint = f" Did you mean {', '.join(map(repr, close))}?" if close else ""
    raise ValueError(f"Unknown objective {identifier!r}. Expected one of {available_objectives()}.{hint}")
