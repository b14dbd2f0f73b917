"""The trade-off loss of Li, Wang and Xin (2020): `alpha * L_nat + beta * L_rob`."""

import keras
from keras import ops

from hdl_keras.objectives.adversarial import AdversarialModel


@keras.saving.register_keras_serializable(package="hdl_keras")
class TradeOff(AdversarialModel):
    """`alpha * CE(f(x), y) + beta * CE(f(x'), y)`, averaged over the batch.

    The trade-off loss (6) of Li, Wang, Xin: `L = alpha * L_nat + beta * L_rob`,
    `L_nat` the cross-entropy on clean inputs and `L_rob` the adversarial loss
    of their eq. 3, the cross-entropy at the PGD maximiser `x'` of the
    cross-entropy in the `eps`-ball. `alpha = 0, beta = 1` is PGD adversarial
    training; the paper's grid is `alpha = 1, beta in {1, 4, 8}` and its
    quantized, sparsity and dataset tables use `alpha = 1, beta = 8`, the
    defaults. Unlike TRADES (the loss (5) of the paper), the robust term
    compares the attacked prediction with the label, not with the clean
    prediction.

    Args:
        *args: `inputs, outputs` as for `keras.Model`; outputs are logits `(B, K)`.
        alpha: weight of the natural loss, `>= 0`, default 1.0.
        beta: weight of the robust loss, `>= 0`, default 8.0; `alpha + beta > 0`.
        **kwargs: the attack's `eps`, `step_size`, `steps`, `random_start`,
            `norm`, `bounds`, `seed` (see `AdversarialModel`; defaults: paper
            001's IFGSM^10 with step 2/255, eps 8/255), and those of
            `keras.Model`.

    Examples:
        >>> base = resnet20()
        >>> model = TradeOff(base.input, base.output, alpha=1.0, beta=8.0)
        >>> model.compile(optimizer=keras.optimizers.SGD(0.1, momentum=0.9), metrics=["accuracy"])
        >>> model.fit(x_train, y_train, batch_size=128, epochs=200)  # doctest: +SKIP

    Reference:
        Li, Wang, Xin, "An Integrated Approach to Produce Robust Models with
        High Efficiency" (Li et al. 2020), sec. IV, eq. 6.
    """

    objective_name = "tradeoff"

    def __init__(self, *args, alpha=1.0, beta=8.0, **kwargs):
        super().__init__(*args, **kwargs)
        if alpha < 0 or beta < 0 or alpha + beta <= 0:
            raise ValueError(
                f"Expected alpha >= 0, beta >= 0 and alpha + beta > 0. Received: alpha={alpha}, beta={beta}"
            )
        self.alpha = float(alpha)
        self.beta = float(beta)

    def objective(self, labels, logits, adversarial_logits):
        natural = ops.sparse_categorical_crossentropy(labels, logits, from_logits=True)
        robust = ops.sparse_categorical_crossentropy(labels, adversarial_logits, from_logits=True)
        return self.alpha * natural + self.beta * robust

    def get_config(self):
        return {**super().get_config(), "alpha": self.alpha, "beta": self.beta}
