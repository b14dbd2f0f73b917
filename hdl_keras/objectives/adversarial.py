"""Adversarial training inside `model.fit`: the shared base and PGD adversarial training."""

import keras
from keras import ops

from hdl_keras import presets
from hdl_keras.attacks import PGD
from hdl_keras.objectives.base import ObjectiveModel

ATTACK_PRESETS = {
    # Dinh et al. (2020) (CIFAR-10 PGD training: IFGSM^10, alpha 2/255, random start) and the
    # training-techniques report (CIFAR-10).
    "cifar10": presets.pgd_settings("dinh2020enresnet-pgd10"),
    # The training-techniques report (MNIST).
    "mnist": presets.pgd_settings("techniques_report-mnist-pgd20"),
}
# Fast adversarial training (Wong, Rice, Kolter 2020): one FGSM step of 1.25 eps from a uniform start.
FAST_STEP_RATIO = 1.25


def fast_at_settings(eps, step_ratio=FAST_STEP_RATIO):
    """The training attack of fast adversarial training (Wong, Rice, Kolter 2020) at radius `eps`.

    FGSM with random start: `x' = Proj(x + delta + alpha * sign(grad_x CE))`
    with `delta ~ U[-eps, eps]^d` and `alpha = step_ratio * eps` (1.25 eps
    in the paper), i.e. `PGD` with one step. Pass the result as keyword
    arguments of an `AdversarialModel` (e.g. `PGDAdversarialTraining`) and
    train on a one-cycle learning rate (`hdl_keras.recipes.OneCycle`), with
    `RobustValidation` to detect catastrophic overfitting.

    Args:
        eps: l_inf radius, `> 0`.
        step_ratio: the FGSM step as a multiple of `eps`, `> 0`, default 1.25.

    Returns:
        `{"eps", "step_size", "steps": 1, "random_start": True}`.

    Examples:
        >>> fast_at_settings(0.1)["step_size"]
        0.125
    """
    if not eps > 0 or not step_ratio > 0:
        raise ValueError(f"eps and step_ratio must be > 0. Received: eps={eps}, step_ratio={step_ratio}")
    return {"eps": float(eps), "step_size": float(step_ratio * eps), "steps": 1, "random_start": True}


@keras.saving.register_keras_serializable(package="hdl_keras")
class AdversarialModel(ObjectiveModel):
    """Base of the adversarial objectives: a functional model that attacks its own batches.

    Each training (and evaluation) batch is attacked by the attack suite's
    `PGD` (`hdl_keras.attacks.PGD(...).perturb`, traced into the train step,
    so it is compiled with it and never retraced), with the model in inference
    mode (`training=False`: batch norm uses its moving statistics and dropout
    is off during the attack, as in the reference implementations of Madry et
    al. and TRADES), and the result is cut from the graph (`stop_gradient`: the
    weights' gradient is Danskin's, taken at the attack's point). Input
    gradients are taken without the weights' graph (`differentiable=False`), so
    a PGD-k step costs about k forward and input-backward passes on top of the
    training step. The model on the adversarial batch then runs with
    `training=True`.

    Keras' train step computes the clean logits `f(x)` before `compute_loss`
    (the `y_pred` the objectives read and the compiled metrics see), so the
    batch-norm moving statistics are updated by the clean and the adversarial
    batch alike.

    Subclasses set `attack_loss` (passed to `PGD`) and implement `objective`;
    they may override `attack_targets`, the second argument of the attack's
    loss. Besides the compiled metrics, the model tracks `adversarial_accuracy`,
    the accuracy on the attacked batch: its validation value
    (`val_adversarial_accuracy`) is the PGD validation accuracy of the training-techniques report's
    pocket criterion, e.g. `keras.callbacks.ModelCheckpoint(path,
    monitor="val_adversarial_accuracy", mode="max", save_best_only=True)`.
    The loss of `evaluate` and `val_loss` are the objective itself, attack
    included. With `sample_weight` the per-example objectives are weighted
    and reduced by `ObjectiveModel.reduce_losses`.

    Args:
        *args: `inputs, outputs` as for `keras.Model`; outputs are logits `(B, K)`,
            inputs in `bounds` (normalization belongs inside the model).
        eps: radius of the threat model, default 8/255.
        step_size: PGD step, default 2/255.
        steps: PGD iterations k, default 10.
        random_start: start from a uniform point of the ball, default True.
        norm: `"linf"` (default) or `"l2"`.
        bounds: `(low, high)` of valid inputs, default `(0.0, 1.0)`.
        seed: int seed of the random starts, default None.
        **kwargs: `reduction` (see `ObjectiveModel`) and those of
            `keras.Model` (e.g. `name`).

    `ATTACK_PRESETS["cifar10"]` and `ATTACK_PRESETS["mnist"]` hold the papers'
    settings (eps, step_size, steps) to pass as keyword arguments.
    """

    attack_loss = "ce"

    def __init__(
        self,
        *args,
        eps=8 / 255,
        step_size=2 / 255,
        steps=10,
        random_start=True,
        norm="linf",
        bounds=(0.0, 1.0),
        seed=None,
        **kwargs,
    ):
        super().__init__(*args, **kwargs)
        self.attack = PGD(
            self,
            eps=eps,
            step_size=step_size,
            steps=steps,
            random_start=random_start,
            norm=norm,
            bounds=bounds,
            seed=seed,
            loss=self.attack_loss,
        )
        self.eps = self.attack.eps
        self.step_size = self.attack.step_size
        self.steps = self.attack.steps
        self.random_start = self.attack.random_start
        self.norm = self.attack.norm
        self.bounds = self.attack.bounds
        self.seed = seed
        # Tracked by the model: its state is a model variable, so compiled train steps advance it.
        self.attack_seed_generator = self.attack.seed_generator
        self.adversarial_accuracy = keras.metrics.SparseCategoricalAccuracy(name="adversarial_accuracy")

    def attack_targets(self, x, labels):
        """The second argument of the attack's loss: the int labels `(B,)`."""
        del x
        return labels

    def adversarial_examples(self, x, labels):
        """PGD examples `(B, *input_shape)` for the batch, in inference mode, gradient-free."""
        return ops.stop_gradient(self.attack.perturb(x, self.attack_targets(x, labels)))

    def objective(self, labels, logits, adversarial_logits):
        """Per-example losses `(B,)` from the clean and the adversarial logits `(B, K)`."""
        raise NotImplementedError(f"{type(self).__name__} must implement objective().")

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        x = ops.convert_to_tensor(x)
        labels = ops.reshape(ops.cast(y, "int32"), (-1,))
        adversarial_logits = self(self.adversarial_examples(x, labels), training=training)
        self.adversarial_accuracy.update_state(labels, adversarial_logits, sample_weight)
        losses = self.objective(labels, y_pred, adversarial_logits)
        return self.add_model_losses(self.reduce_losses(losses, sample_weight))

    def get_config(self):
        return {
            **super().get_config(),
            "eps": self.eps,
            "step_size": self.step_size,
            "steps": self.steps,
            "random_start": self.random_start,
            "norm": self.norm,
            "bounds": self.bounds,
            "seed": self.seed,
        }


@keras.saving.register_keras_serializable(package="hdl_keras")
class PGDAdversarialTraining(AdversarialModel):
    """PGD adversarial training (Madry et al. 2018): the cross-entropy at PGD examples.

    Minimises `(1/B) sum_n CE(f(x'_n), y_n)` with `x'_n` the PGD-k maximiser of
    the cross-entropy in the `eps`-ball around `x_n` (Dinh et al. 2020, eq. 7-8;
    Li, Wang and Xin (2020), eq. 3). The defaults are Dinh et al.'s (2020) CIFAR-10 setting: IFGSM^10
    with step 2/255, eps = 8/255 and a uniform random start; the training-techniques report's MNIST
    setting is `ATTACK_PRESETS["mnist"]` (eps 16/255, step 2/255, 20 steps).

    Build it like a functional model from logits outputs (or wrap one with
    `PGDAdversarialTraining.from_model(base)`) and compile with an optimizer (the
    objective is the loss) and metrics. Compiled metrics see the clean
    logits; `adversarial_accuracy` is the accuracy on the PGD batch. See
    `AdversarialModel` for the attack's arguments and the inference-mode
    attack.

    Args:
        *args: `inputs, outputs` as for `keras.Model`; outputs are logits `(B, K)`.
        **kwargs: the attack's `eps`, `step_size`, `steps`, `random_start`,
            `norm`, `bounds`, `seed` (see `AdversarialModel`), and those of
            `keras.Model`.

    Examples:
        >>> base = small_cnn(input_shape=(28, 28, 1))
        >>> model = PGDAdversarialTraining(base.input, base.output, **ATTACK_PRESETS["mnist"])
        >>> model.compile(optimizer=keras.optimizers.SGD(0.1, momentum=0.9), metrics=["accuracy"])
        >>> model.fit(x_train, y_train, batch_size=128, epochs=10)  # doctest: +SKIP

    Reference:
        Madry, Makelov, Schmidt, Tsipras, Vladu, "Towards Deep Learning Models
        Resistant to Adversarial Attacks", ICLR 2018.
    """

    objective_name = "pgd"

    def objective(self, labels, logits, adversarial_logits):
        del logits
        return ops.sparse_categorical_crossentropy(labels, adversarial_logits, from_logits=True)
