"""TRADES (Zhang et al. 2019): cross-entropy plus beta times the KL to the attacked prediction."""

import keras
from keras import ops

from hdl_keras.objectives.adversarial import AdversarialModel


def kl_divergence(clean_logits, logits):
    """`KL(softmax(clean_logits) || softmax(logits))` per example.

    Args:
        clean_logits: float tensor `(B, K)`, the reference distribution's logits.
        logits: float tensor `(B, K)`.

    Returns:
        Float tensor `(B,)`, `sum_k p_k (log p_k - log q_k)`, zero when the logits agree.
    """
    log_p = ops.log_softmax(clean_logits, axis=-1)
    log_q = ops.log_softmax(logits, axis=-1)
    return ops.sum(ops.exp(log_p) * (log_p - log_q), axis=-1)


def _attack_kl(logits, clean_logits):
    """The TRADES attack's loss `(logits, clean logits) -> (B,)` for `PGD(loss=...)`."""
    return kl_divergence(clean_logits, logits)


@keras.saving.register_keras_serializable(package="hdl_keras")
class TRADES(AdversarialModel):
    """TRADES: `CE(f(x), y) + beta * KL(softmax f(x) || softmax f(x'))`, averaged over the batch.

    Zhang et al. (2019), eq. 5 with the cross-entropy surrogate; the loss (5)
    of Li, Wang and Xin (2020) with `l` the KL divergence. `x'` maximises the KL term by PGD
    in the `eps`-ball: the attack suite's `PGD` ascends `kl_divergence`
    against the clean logits of the model in inference mode (passed to the
    attack's loss in place of labels). The weights' gradient flows through
    both the clean and the adversarial logits, as in the reference code.

    The KL is zero with a zero gradient at `x' = x`, so the attack needs a
    random start: the suite's uniform start in the ball (the reference code
    starts at `x + 0.001 * N(0, I)`). The defaults are the paper's CIFAR-10
    setting (eps 8/255, step 2/255 (0.007), 10 steps, `beta = 6`).

    Args:
        *args: `inputs, outputs` as for `keras.Model`; outputs are logits `(B, K)`.
        beta: weight of the robust (KL) term, `>= 0`, default 6.0 (`1 / lambda`
            of the paper); `beta = 0` is the cross-entropy.
        **kwargs: the attack's `eps`, `step_size`, `steps`, `random_start`
            (must stay True), `norm`, `bounds`, `seed` (see `AdversarialModel`),
            and those of `keras.Model`.

    Examples:
        >>> base = resnet20()
        >>> model = TRADES(base.input, base.output, beta=6.0)
        >>> model.compile(optimizer=keras.optimizers.SGD(0.1, momentum=0.9), metrics=["accuracy"])
        >>> model.fit(x_train, y_train, batch_size=128, epochs=100)  # doctest: +SKIP

    Reference:
        Zhang, Yu, Jiao, Xing, El Ghaoui, Jordan, "Theoretically Principled
        Trade-off between Robustness and Accuracy", ICML 2019.
    """

    objective_name = "trades"
    attack_loss = staticmethod(_attack_kl)

    def __init__(self, *args, beta=6.0, **kwargs):
        super().__init__(*args, **kwargs)
        if beta < 0:
            raise ValueError(f"beta must be >= 0. Received: beta={beta}")
        if not self.random_start:
            raise ValueError(
                "TRADES' attack starts at x, where the KL has a zero gradient; it needs "
                "random_start=True. Received: random_start=False"
            )
        self.beta = float(beta)

    def attack_targets(self, x, labels):
        """The clean logits `(B, K)` in inference mode, the KL's reference distribution."""
        del labels
        return ops.stop_gradient(self(x, training=False))

    def objective(self, labels, logits, adversarial_logits):
        natural = ops.sparse_categorical_crossentropy(labels, logits, from_logits=True)
        return natural + self.beta * kl_divergence(logits, adversarial_logits)

    def get_config(self):
        return {**super().get_config(), "beta": self.beta}
