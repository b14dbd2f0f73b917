"""Transfer attack: adversarial examples crafted on a source model, used on a target."""

import numpy as np
from keras import ops

from hdl_keras.attacks.base import Attack
from hdl_keras.attacks.base import input_dtype


class Transfer(Attack):
    """Transfer (black-box) attack: a white-box attack on a source model.

    The examples are crafted by a white-box attack on `source` (a surrogate
    the attacker owns, e.g. a model trained on the same data) and evaluated
    on the target, which the attack never queries: `Transfer(...)(x, y)`
    returns the source's adversarial examples, and the target is whatever
    model scores them (e.g. `evaluate(target, x, y, attacks=...)`). A model
    that resists white-box attacks better than transfer attacks likely masks
    its gradients (Athalye et al. 2018, section 5).

    `black_box = True`; after each call, `queries` is a zero int array
    `(batch,)` (no query to the target). `eps`, `norm`, `targeted`, `seed`
    and `bounds` are the source attack's.

    Args:
        source: an `Attack` built on the source model, or the source model
            itself when `attack_factory` is given.
        attack_factory: callable `model -> Attack` (e.g. an attack class such
            as `PGD`, or `lambda m: PGD(m, eps=0.1)`), called with `source`;
            default None (`source` is an attack).

    Call arguments:
        x: float array `(batch, *input_shape)` with values in `bounds`.
        y: int array `(batch,)` of labels.

    Returns:
        The source attack's adversarial inputs, same shape as `x`.

    Examples:
        >>> attack = Transfer(PGD(surrogate, eps=8 / 255, steps=20))
        >>> report = evaluate(target, x, y, attacks={"transfer": attack})
        >>> # or: Transfer(surrogate, lambda m: PGD(m, eps=8 / 255, steps=20))

    Reference:
        Papernot et al., "Practical Black-Box Attacks against Machine
        Learning", AsiaCCS 2017, https://arxiv.org/abs/1602.02697.
    """

    black_box = True

    def __init__(self, source, attack_factory=None):
        attack = _source_attack(source, attack_factory)
        super().__init__(
            attack.model,
            attack.eps,
            norm=attack.norm,
            targeted=attack.targeted,
            seed=attack.seed,
            bounds=attack.bounds,
        )
        self.attack = attack
        self.queries = None

    def __call__(self, x, y):
        dtype = input_dtype(x)
        x, y = self._check_inputs(x, y)
        x_adv = self.attack(x, y)
        self.queries = np.zeros(x.shape[0], dtype="int64")
        return ops.cast(x_adv, dtype)

    def perturb(self, x, y):
        return self.attack.perturb(x, y)


def _source_attack(source, attack_factory):
    if attack_factory is None:
        if not isinstance(source, Attack):
            raise ValueError(
                "Transfer needs an Attack built on the source model, or the source "
                "model and an attack_factory. Received: source of type "
                f"{type(source).__name__} and attack_factory=None"
            )
        return source
    if isinstance(source, Attack):
        raise ValueError(
            "Transfer takes either an attack, or a source model and an attack_factory. "
            f"Received: source={type(source).__name__} (an Attack) and an attack_factory"
        )
    attack = attack_factory(source)
    if not isinstance(attack, Attack):
        raise ValueError(f"attack_factory must return an hdl_keras Attack. Received: {type(attack).__name__}")
    return attack
