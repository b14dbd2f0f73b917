"""`HolisticModel`: the 8 objectives of Holistic Deep Learning inside `model.fit`."""

import keras
from keras import ops

from hdl_keras.objectives.base import ObjectiveModel
from hdl_keras.objectives.robust import DUAL_NORMS
from hdl_keras.objectives.robust import robust_cross_entropy
from hdl_keras.objectives.sparse import sparsity_penalty
from hdl_keras.objectives.stable import check_subset_size
from hdl_keras.objectives.stable import worst_subset_loss
from hdl_keras.utils.validation import check_number

METHODS = {
    "DL": (),
    "Robust": ("robust",),
    "Stable": ("stable",),
    "Sparse": ("sparse",),
    "Robust+Sparse": ("robust", "sparse"),
    "Stable+Sparse": ("stable", "sparse"),
    "Stable+Robust": ("stable", "robust"),
    "HDL": ("stable", "robust", "sparse"),
}


@keras.saving.register_keras_serializable(package="hdl_keras")
class HolisticModel(ObjectiveModel):
    """A functional model trained with one of the 8 HDL objectives (Table 1).

    The loss is eq. 4 of Bertsimas et al. (2023), with each part switched on
    by `method`:

    `lambda * sum_j c sigmoid(beta s_j)` (sparse; `c` the gates' `gate_scale`) `+ theta + (1/a) sum_n [L_n - theta]^+`
    (stable, `a = alpha * batch`) where `L_n` is the robust loss of eq. 7
    (robust) or the cross-entropy. Without stability the loss is the mean of
    `L_n`. Regularization losses of the layers are added as usual.

    With `sample_weight`, `L_n` is weighted by `w_n` and the batch is the
    weighted sample: the mean is `ObjectiveModel.reduce_losses` and the
    stable term sums `w_n [L_n - theta]^+` with `a = alpha * sum_n w_n`
    (`alpha * batch` under the default `reduction="sum_over_batch_size"`).

    Build it like a functional model from logits outputs (or wrap one with
    `HolisticModel.from_model(network, method=...)`); the sparse methods
    need masked layers (`hdl_keras.layers.MaskedDense`/`MaskedConv2D`). Compile
    with an optimizer only (the objective is the loss); metrics work as usual.

    Positional and keyword arguments of `keras.Model` (`inputs`, `outputs`,
    `name`) build the functional graph; its outputs are logits `(B, K)`.
    The keyword `reduction` (how weighted per-example losses are averaged,
    default `"sum_over_batch_size"`) goes to `ObjectiveModel`.

    Args:
        method: one of `"DL", "Robust", "Stable", "Sparse", "Robust+Sparse",
            "Stable+Sparse", "Stable+Robust", "HDL"`. Default `"HDL"`.
        rho: radius of the robust term, default 1e-3.
        sparsity_lambda: weight of the sparsity penalty, default 1e-4.
        stability_alpha: subset fraction `a / batch` of the stable term, default 0.7;
            `alpha * batch` must be at least 1 (checked at the first batch).
        norm: `"linf"` (default) or `"l2"` uncertainty set.
        robust_top_k: `None` (default, exact robust term) or `k`: penalise
            only the k most competing classes (see `robust_cross_entropy`).

    Raises:
        ValueError: an unknown `method`; `rho` or `sparsity_lambda` NaN, inf
            or negative; `stability_alpha` outside (0, 1]; with the stable
            term, a (first) batch with `alpha * batch < 1`.

    Examples:
        >>> inputs = keras.Input((784,))
        >>> h = MaskedDense(128, activation="relu")(inputs)
        >>> model = HolisticModel(inputs, MaskedDense(10)(h), method="HDL", rho=1e-2)
        >>> model.compile(optimizer="adam", metrics=["sparse_categorical_accuracy"])
        >>> model.fit(x, y, epochs=1)  # doctest: +SKIP

    Reference:
        Bertsimas, Villalobos Carballo, Boussioux, Li, Paskov, Paskov,
        "Holistic Deep Learning", Machine Learning 2023.
    """

    objective_name = "hdl"

    def __init__(
        self,
        *args,
        method="HDL",
        rho=1e-3,
        sparsity_lambda=1e-4,
        stability_alpha=0.7,
        norm="linf",
        robust_top_k=None,
        **kwargs,
    ):
        super().__init__(*args, **kwargs)
        if method not in METHODS:
            raise ValueError(f"method must be one of {list(METHODS)}. Received: method={method!r}")
        self.method = method
        self.rho = check_number(rho, "rho", low=0.0)
        self.sparsity_lambda = check_number(sparsity_lambda, "sparsity_lambda", low=0.0)
        self.stability_alpha = check_number(stability_alpha, "stability_alpha", low=0.0, high=1.0, low_inclusive=False)
        if norm not in DUAL_NORMS:
            raise ValueError(f"norm must be one of {sorted(DUAL_NORMS)}. Received: norm={norm!r}")
        self.norm = norm
        self.robust_top_k = robust_top_k
        self.theta = self.add_weight(
            shape=(),
            initializer="zeros",
            trainable="stable" in self.components,
            name="stability_theta",
        )

    @property
    def components(self):
        """The parts of the objective `method` turns on, e.g. `("stable", "robust")`."""
        return METHODS[self.method]

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        labels = ops.reshape(ops.cast(y, "int32"), (-1,))
        if "robust" in self.components:
            losses = robust_cross_entropy(
                lambda t: self(t, training=training),
                x,
                labels,
                self.rho,
                self.norm,
                top_k=self.robust_top_k,
            )
        else:
            losses = ops.sparse_categorical_crossentropy(labels, y_pred, from_logits=True)
        if "stable" in self.components:
            check_subset_size(self.stability_alpha, losses.shape[0])
            weights = self.example_weights(losses, sample_weight)
            loss = worst_subset_loss(losses, self.theta, self.stability_alpha, weights, self.total_weight(weights))
        else:
            loss = self.reduce_losses(losses, sample_weight)
        if "sparse" in self.components:
            loss = loss + self.sparsity_lambda * sparsity_penalty(self)
        return self.add_model_losses(loss)

    def get_config(self):
        return {
            **super().get_config(),
            "method": self.method,
            "rho": self.rho,
            "sparsity_lambda": self.sparsity_lambda,
            "stability_alpha": self.stability_alpha,
            "norm": self.norm,
            "robust_top_k": self.robust_top_k,
        }
