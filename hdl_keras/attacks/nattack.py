"""NAttack: black-box attack learning a Gaussian over adversarial examples, l_inf."""

import keras
import numpy as np
from keras import ops

from hdl_keras.attacks.base import Attack
from hdl_keras.attacks.base import input_dtype

_ARCTANH_SHRINK = 1.0 - 1e-6  # keeps arctanh finite at the bounds (reference code)


class NAttack(Attack):
    """NAttack: natural evolution strategies on a Gaussian in tanh space (Li et al. 2019).

    Uses only the model's logits. Per example, keeps the mean `mu` of an
    isotropic Gaussian `N(mu, sigma^2 I)` over perturbations in the
    arctanh-transformed input space. Each iteration samples `population`
    perturbations `mu + sigma * n_i`, maps each to a candidate
    `Proj(g(arctanh(g^-1(x)) + mu + sigma * n_i))` with `g` the tanh map onto
    `bounds` and `Proj` the clip to the `eps`-ball, and scores it with the
    attack loss, by default the C&W margin `min(max_{k != y} z_k - z_y, 0)`
    (targeted: `min(z_t - max_{k != t} z_k, 0)`), i.e. minus the paper's
    `max(z_y - max_{k != y} z_k, 0)`. The losses are z-scored over the
    population and `mu <- mu + learning_rate / (population * sigma) *
    sum_i score_i n_i` with `score_i` the z-score of `loss_i`. An example
    stops at the first iteration that samples an adversarial candidate, and
    that candidate is returned; an example never fooled is returned
    unchanged. `mu` starts at `init_std * N(0, I)`.

    Queries are counted per example in `self.queries` (numpy int array
    `(batch,)`) after each call: one for the clean input (an example
    misclassified there is returned unchanged, with 1 query), then
    `population` per iteration until the example is adversarial; at most
    `1 + population * max_iterations`. The iterations are compiled steps run
    from a Python loop, so the attack is not traceable into a training step
    (`perturb` is not implemented).

    Dinh et al. (2020) report NAttack accuracy (A_5) with the defaults of attackbox
    (https://github.com/cmhcbb/attackbox), which are this class's defaults:
    `eps=0.031` (about 8/255), `population=300`, `sigma=0.1`,
    `learning_rate=0.02`, `max_iterations=500`, `init_std=1.0` (the authors'
    code starts from `init_std=0.001`; the paper uses `learning_rate=0.008`
    against some defenses). Cost: each iteration evaluates the model on
    `population` candidates per active example, so up to 150,000 forward
    passes per example with the defaults; the candidates of several
    examples are evaluated together, in batches of at most
    `eval_batch_size` (examples are attacked in chunks of
    `max(1, eval_batch_size // population)`).

    Args:
        model: a callable returning logits (see `Attack`).
        eps: l_inf radius of the threat model, default 0.031.
        population: samples per iteration, `>= 2`, default 300.
        sigma: standard deviation of the search Gaussian, default 0.1.
        learning_rate: step size of the update of `mu`, default 0.02.
        max_iterations: iterations per example, `>= 1`, default 500.
        init_std: standard deviation of the initial `mu`, default 1.0.
        eval_batch_size: most candidates per model evaluation, default 4096.
        loss: the loss the search ascends (see `Attack`), default `"cw"`.
        **kwargs: `targeted`, `seed`, `bounds` of `Attack` (norm: `"linf"`
            only).

    Call arguments:
        x: float array `(batch, *input_shape)` with values in `bounds`.
        y: int array `(batch,)` of labels (targets when `targeted`).

    Returns:
        Adversarial inputs, same shape as `x`.

    Examples:
        >>> attack = NAttack(model, eps=8 / 255, seed=0)
        >>> x_adv = attack(x_test[:100], y_test[:100])
        >>> attack.queries.mean()

    Reference:
        Li, Li, Wang, Zhang, Gong, "NATTACK: Learning the Distributions of
        Adversarial Examples for an Improved Black-Box Attack on Deep Neural
        Networks", ICML 2019, https://arxiv.org/abs/1905.00441
    """

    # Queries only: `evaluate` compares it with the white-box attacks (flag black_box_stronger).
    black_box = True
    supported_norms = ("linf",)

    def __init__(
        self,
        model,
        eps=0.031,
        population=300,
        sigma=0.1,
        learning_rate=0.02,
        max_iterations=500,
        init_std=1.0,
        eval_batch_size=4096,
        loss="cw",
        **kwargs,
    ):
        super().__init__(model, eps, loss=loss, **kwargs)
        if population < 2 or max_iterations < 1 or eval_batch_size < 1:
            raise ValueError(
                "population must be >= 2, max_iterations and eval_batch_size >= 1. "
                f"Received: population={population}, max_iterations={max_iterations}, "
                f"eval_batch_size={eval_batch_size}"
            )
        if sigma <= 0 or learning_rate <= 0 or init_std < 0:
            raise ValueError(
                "sigma and learning_rate must be > 0 and init_std >= 0. Received: "
                f"sigma={sigma}, learning_rate={learning_rate}, init_std={init_std}"
            )
        self.population = int(population)
        self.sigma = float(sigma)
        self.learning_rate = float(learning_rate)
        self.max_iterations = int(max_iterations)
        self.init_std = float(init_std)
        self.eval_batch_size = int(eval_batch_size)
        self.queries = None

    def __call__(self, x, y):
        dtype = input_dtype(x)
        x, y = self._check_inputs(x, y)
        chunk = max(1, self.eval_batch_size // self.population)
        results, queries = [], []
        for start in range(0, x.shape[0], chunk):
            x_adv, used = self._attack_chunk(x[start : start + chunk], y[start : start + chunk])
            results.append(x_adv)
            queries.append(ops.convert_to_numpy(used))
        self.queries = np.concatenate(queries).astype(np.int64)
        return ops.cast(ops.concatenate(results, axis=0), dtype)

    def perturb(self, x, y):
        raise NotImplementedError(
            "NAttack runs a Python loop of compiled steps with early stopping: "
            "call the attack, `attack(x, y)`, instead of `perturb`."
        )

    def _attack_chunk(self, x, y):
        """Runs the search on one chunk of examples: `(x_adv, queries)`."""
        state = self.compile(self._init)(x, y)
        step = self.compile(self._step)
        for _ in range(self.max_iterations):
            if bool(ops.all(state[2])):
                break
            state = step(x, y, *state)
        _, x_adv, _, queries = state
        return x_adv, queries

    def _init(self, x, y):
        """Queries the clean inputs: `(mu, x_adv, done, queries)`."""
        done = self.is_adversarial(self.logits(x), y)
        mu = self.init_std * keras.random.normal(ops.shape(x), seed=self.seed_generator)
        return mu, x, done, ops.ones(ops.shape(y), "int32")

    def _step(self, x, y, mu, x_adv, done, queries):
        """One NES iteration for the examples not yet done."""
        batch, shape = ops.shape(x)[0], tuple(x.shape[1:])
        noise = keras.random.normal((batch, self.population) + shape, seed=self.seed_generator)
        candidates = self._candidates(x, mu, noise)
        flat = ops.reshape(candidates, (-1,) + shape)
        labels = ops.reshape(ops.repeat(ops.expand_dims(y, 1), self.population, axis=1), (-1,))
        logits = self.logits(flat)
        losses = ops.reshape(self.loss(logits, labels), (batch, self.population))
        adversarial = ops.reshape(self.is_adversarial(logits, labels), (batch, self.population))

        active = ops.logical_not(done)
        found = ops.logical_and(active, ops.any(adversarial, axis=1))
        first = ops.argmax(ops.cast(adversarial, "int32"), axis=1)
        pick = _expand(ops.one_hot(first, self.population), candidates)
        x_adv = ops.where(_expand(found, x), ops.sum(pick * candidates, axis=1), x_adv)
        queries = queries + self.population * ops.cast(active, "int32")
        done = ops.logical_or(done, found)

        scores = (losses - ops.mean(losses, axis=1, keepdims=True)) / (ops.std(losses, axis=1, keepdims=True) + 1e-7)
        step = self.learning_rate / (self.population * self.sigma)
        mu = mu + step * ops.sum(_expand(scores, noise) * noise, axis=1)
        return mu, x_adv, done, queries

    def _candidates(self, x, mu, noise):
        """`(batch, population, *input_shape)` candidates in the ball and the bounds."""
        low, high = self.bounds
        center, scale = (high + low) / 2.0, (high - low) / 2.0
        x_tanh = ops.arctanh((x - center) / scale * _ARCTANH_SHRINK)
        z = ops.expand_dims(x_tanh + mu, 1) + self.sigma * noise
        candidates = ops.tanh(z) * scale + center
        x_repeated = ops.expand_dims(x, 1)
        return ops.clip(ops.clip(candidates, x_repeated - self.eps, x_repeated + self.eps), low, high)


def _expand(t, like):
    """`t` with trailing unit axes up to the rank of `like`."""
    return ops.reshape(t, tuple(ops.shape(t)) + (1,) * (len(like.shape) - len(t.shape)))
