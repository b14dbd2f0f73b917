"""Square attack: query-efficient black-box random search, l_inf."""

import keras
import numpy as np
from keras import ops

from hdl_keras.attacks.base import Attack
from hdl_keras.attacks.base import input_dtype

# Piecewise-constant schedule of p (Andriushchenko et al. 2020, reference code):
# p_init is halved at these iterations, counted as if the budget were 10000.
_HALVING_ITERATIONS = (10, 50, 200, 500, 1000, 2000, 4000, 6000, 8000)


class Square(Attack):
    """Square attack: random search over squares of +-eps (Andriushchenko et al. 2020).

    Uses only the model's logits. Starts from vertical stripes of `+-eps`
    (one random sign per column and channel), then at each iteration
    proposes, per example, a random square of side `s` set to `+-eps` (one
    random sign per channel) and keeps it if the attack loss increases: by
    default the margin `min(max_{k != y} z_k - z_y, 0)` (targeted:
    `min(z_t - max_{k != t} z_k, 0)`): on examples not yet adversarial, minus
    the margin loss `z_y - max_{k != y} z_k` that the paper minimizes.
    `s = round(sqrt(p * height * width))`, between 1 and `min(height, width) - 1`,
    where `p` starts at `p_init` and is halved at iterations 10, 50, 200, 500,
    1000, 2000, 4000, 6000 and 8000 of a budget rescaled to 10000 queries.
    A proposal that would not change the square (it repeats the current
    signs) gets its signs flipped (the reference code redraws them).

    Each example stops once it is adversarial. Queries are counted per
    example in `self.queries` (numpy int array `(batch,)`) after each call:
    one for the clean input (an example misclassified there is returned
    unchanged, with 1 query), one for the stripes, one per iteration while
    the example is not yet adversarial; at most `n_queries`. The iterations
    are compiled steps run from a Python loop that ends when every example is
    adversarial or the budget is spent, so the attack is not traceable into a
    training step (`perturb` is not implemented).

    The training-techniques report evaluates its CNNs with `Square(model, eps=16/255,
    n_queries=5000)` on MNIST and `Square(model, eps=8/255, n_queries=5000)`
    on CIFAR-10 (one restart). Cost: one forward pass of the whole batch per
    iteration until every example is adversarial, so up to `n_queries`
    forward passes; e.g. 1000 queries on 100 MNIST images with
    `hdl_keras.models.small_cnn()`, no example fooled, take about 30 s on
    TensorFlow or JAX and 90 s on torch (2 busy CPU cores).

    Args:
        model: a callable returning logits (see `Attack`).
        eps: l_inf radius of the threat model, default 8/255.
        n_queries: query budget per example (including the clean input),
            `>= 2`, default 5000.
        p_init: initial fraction of pixels changed per iteration, in (0, 1],
            default 0.8.
        loss: the loss the search ascends (see `Attack`), default `"cw"`
            (the paper's margin loss); `"ce"` is the reference code's other
            option.
        **kwargs: `targeted`, `seed`, `bounds` of `Attack` (norm: `"linf"`
            only; the paper's l_2 variant is not implemented).

    Call arguments:
        x: float array `(batch, height, width, channels)` with values in
            `bounds`, height and width `>= 2`.
        y: int array `(batch,)` of labels (targets when `targeted`).

    Returns:
        Adversarial inputs, same shape as `x`.

    Examples:
        >>> attack = Square(model, eps=16 / 255, n_queries=5000, seed=0)
        >>> x_adv = attack(x_test[:100], y_test[:100])
        >>> attack.queries.mean()

    Reference:
        Andriushchenko, Croce, Flammarion, Hein, "Square Attack: a
        query-efficient black-box adversarial attack via random search",
        ECCV 2020, https://arxiv.org/abs/1912.00049
    """

    # Queries only: `evaluate` compares it with the white-box attacks (flag black_box_stronger).
    black_box = True
    supported_norms = ("linf",)

    def __init__(self, model, eps=8 / 255, n_queries=5000, p_init=0.8, loss="cw", **kwargs):
        super().__init__(model, eps, loss=loss, **kwargs)
        if n_queries < 2:
            raise ValueError(
                "n_queries must be >= 2 (one query for the clean input, one for the "
                f"initial stripes). Received: n_queries={n_queries}"
            )
        if not 0 < p_init <= 1:
            raise ValueError(f"p_init must be in (0, 1]. Received: p_init={p_init}")
        self.n_queries = int(n_queries)
        self.p_init = float(p_init)
        self.queries = None

    def __call__(self, x, y):
        dtype = input_dtype(x)
        x, y = self._check_inputs(x, y)
        _check_images(x)
        height, width = x.shape[1:3]
        state = self.compile(self._init)(x, y)
        step = self.compile(self._step)
        for iteration in range(self.n_queries - 2):
            if bool(ops.all(state[2])):
                break
            side = self.square_side(iteration, height, width)
            state = step(x, y, *state, ops.convert_to_tensor(side, "int32"))
        x_best, _, _, queries = state
        self.queries = ops.convert_to_numpy(queries).astype(np.int64)
        return ops.cast(x_best, dtype)

    def perturb(self, x, y):
        raise NotImplementedError(
            "Square runs a Python loop of compiled steps with early stopping: "
            "call the attack, `attack(x, y)`, instead of `perturb`."
        )

    def square_side(self, iteration, height, width):
        """Side of the squares at `iteration` (0-based) of the random search."""
        rescaled = int(iteration / self.n_queries * 10000)
        halvings = sum(rescaled > it for it in _HALVING_ITERATIONS)
        p = self.p_init / 2**halvings
        side = int(round(np.sqrt(p * height * width)))
        return min(max(side, 1), min(height, width) - 1)

    def _init(self, x, y):
        """Queries the clean inputs and the stripes: `(x_best, loss, done, queries)`."""
        clean_logits = self.logits(x)
        clean_done = self.is_adversarial(clean_logits, y)
        _, _, width, channels = x.shape
        signs = _random_signs((ops.shape(x)[0], 1, width, channels), self.seed_generator)
        stripes = ops.clip(x + self.eps * signs, *self.bounds)
        logits = self.logits(stripes)
        x_best = ops.where(_per_pixel(clean_done), x, stripes)
        loss = ops.where(clean_done, self.loss(clean_logits, y), self.loss(logits, y))
        done = ops.logical_or(clean_done, self.is_adversarial(logits, y))
        queries = ops.where(clean_done, 1, 2)
        return x_best, loss, done, ops.cast(queries, "int32")

    def _step(self, x, y, x_best, loss, done, queries, side):
        """One iteration of the random search for the examples not yet done."""
        window = _random_window(x, side, self.seed_generator)
        signs = _random_signs((ops.shape(x)[0], 1, 1, x.shape[3]), self.seed_generator)
        delta = x_best - x
        proposal = ops.clip(x + ops.where(window, self.eps * signs, delta), *self.bounds)
        changes = ops.where(window, ops.abs(proposal - x_best), 0.0)
        unchanged = ops.max(changes, axis=(1, 2, 3)) < 1e-7
        signs = ops.where(_per_pixel(unchanged), -signs, signs)
        proposal = ops.clip(x + ops.where(window, self.eps * signs, delta), *self.bounds)

        logits = self.logits(proposal)
        new_loss = self.loss(logits, y)
        adversarial = self.is_adversarial(logits, y)
        active = ops.logical_not(done)
        accept = ops.logical_and(active, ops.logical_or(new_loss > loss, adversarial))
        x_best = ops.where(_per_pixel(accept), proposal, x_best)
        loss = ops.where(accept, new_loss, loss)
        done = ops.logical_or(done, ops.logical_and(accept, adversarial))
        queries = queries + ops.cast(active, "int32")
        return x_best, loss, done, queries


def _check_images(x):
    if len(x.shape) != 4 or min(x.shape[1:3]) < 2:
        raise ValueError(
            "Square expects images of shape (batch, height, width, channels) with "
            f"height and width >= 2. Received: x.shape={tuple(x.shape)}"
        )


def _per_pixel(per_example):
    return ops.reshape(per_example, (-1, 1, 1, 1))


def _random_signs(shape, seed_generator):
    """Independent +-1 of the given shape, float32."""
    coins = keras.random.uniform(shape, seed=seed_generator)
    return ops.where(coins < 0.5, -1.0, 1.0)


def _random_window(x, side, seed_generator):
    """Boolean `(batch, height, width, 1)`: one random `side x side` square per example.

    The top-left corner is uniform on `[0, height - side) x [0, width - side)`,
    as in the reference code; `side` is an int32 scalar tensor.
    """
    _, height, width, _ = x.shape
    coins = keras.random.uniform((ops.shape(x)[0], 2), seed=seed_generator)
    limits = ops.cast(ops.stack([height - side, width - side]), "float32")
    corner = ops.cast(ops.floor(coins * limits), "int32")
    corner = ops.minimum(corner, ops.cast(limits, "int32") - 1)
    rows = ops.reshape(ops.arange(height, dtype="int32"), (1, height, 1, 1))
    cols = ops.reshape(ops.arange(width, dtype="int32"), (1, 1, width, 1))
    top = ops.reshape(corner[:, 0], (-1, 1, 1, 1))
    left = ops.reshape(corner[:, 1], (-1, 1, 1, 1))
    in_rows = ops.logical_and(rows >= top, rows < top + side)
    in_cols = ops.logical_and(cols >= left, cols < left + side)
    return ops.logical_and(in_rows, in_cols)
