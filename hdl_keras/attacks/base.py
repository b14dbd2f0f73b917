"""The shared base of every attack: threat model, bounds, projection, losses."""

import keras
import numpy as np
from keras import ops

from hdl_keras import backend
from hdl_keras.attacks import losses
from hdl_keras.utils import validation
from hdl_keras.utils.validation import check_in_bounds  # noqa: F401  (public name, kept)

NORMS = ("linf", "l2")


class Attack:
    """Base class of the attack suite.

    An attack maps clean inputs `x` (in `bounds`, channels-last) and labels `y`
    to adversarial inputs within `eps` of `x` in `norm`, also in `bounds`. The
    model must return logits; normalization belongs inside the model.

    Args:
        model: a callable `x -> logits` (usually a `keras.Model`), called with
            `training=False` when it accepts it.
        eps: radius of the threat model, finite, `eps >= 0`; for l_inf at
            most `high - low` (a radius of half the range or more warns:
            usually 8 meant as 8/255).
        norm: `"linf"` or `"l2"`, default `"linf"`.
        targeted: if True, `y` holds target classes and the attack pushes the
            model towards them; default False (push away from `y`).
        seed: int seed of the attack's randomness (random starts), default None.
        bounds: `(low, high)` of valid inputs, default `(0.0, 1.0)`.
        loss: the per-example loss the attack ascends, resolved by
            `hdl_keras.attacks.losses.get`: `"ce"` (cross-entropy, default),
            `"cw"` (Carlini-Wagner margin; the targeted margin when
            `targeted`), `"dlr"`, or a callable `(logits, labels) -> (B,)`.

    Call arguments:
        x: non-empty float array or tensor of any backend `(batch,
            *input_shape)`, finite, with values in `bounds`.
        y: int array `(batch,)` of labels (or targets when `targeted`) in
            `[0, num_classes)`.

    Returns:
        Adversarial inputs, same shape and floating dtype as `x` (the attack
        itself runs in float32), as a backend tensor.

    Raises:
        ValueError: bad inputs (`hdl_keras.utils.validation`): an empty batch,
            NaN/inf or out-of-bounds values, labels of the wrong shape or out
            of the model's range, a model with several outputs.

    Subclasses implement `perturb(x, y)` in `keras.ops`, traceable (no Python
    branch on tensor values): `__call__` runs it compiled by
    `hdl_keras.backend.jit`, and training objectives call it inside their own
    traced `train_step`. An attack whose loop is too long to unroll compiles
    one iteration with `self.compile(step_fn)` and loops in Python instead.
    """

    supported_norms = NORMS

    def __init__(self, model, eps, norm="linf", targeted=False, seed=None, bounds=(0.0, 1.0), loss="ce"):
        if norm not in self.supported_norms:
            raise ValueError(f"{type(self).__name__} supports norm in {self.supported_norms}. Received: norm={norm!r}")
        low, high = validation.check_bounds(bounds)
        eps = validation.check_eps(eps, norm=norm, bounds=(low, high), owner=type(self).__name__)
        self.model = model
        self.eps = eps
        self.norm = norm
        self.targeted = bool(targeted)
        self.seed = seed
        self.bounds = (float(low), float(high))
        self.loss_identifier = loss
        self._loss_fn = losses.get(loss, targeted=self.targeted)
        self.seed_generator = keras.random.SeedGenerator(seed)
        self._compiled = {}

    def __call__(self, x, y):
        dtype = input_dtype(x)
        x, y = self._check_inputs(x, y)
        x_adv = self.compile(self.perturb)(x, y)
        return x_adv if dtype == "float32" else ops.cast(x_adv, dtype)

    def __copy__(self):
        """A shallow copy with its own compilation cache and seed generator.

        Compiled functions are bound to the attack they were traced for, so a
        copy whose settings change (e.g. `eps`) must trace its own.
        """
        clone = object.__new__(type(self))
        clone.__dict__.update(self.__dict__)
        clone._compiled = {}
        clone.seed_generator = keras.random.SeedGenerator(self.seed)
        return clone

    def variable_sources(self):
        """The models whose variables a compiled attack reads: the attacked model."""
        return (self.model,)

    def compile(self, fn):
        """`fn(*tensors)` compiled by `hdl_keras.backend.jit`, cached by name.

        The trainable variables of `variable_sources()` are read as inputs;
        their non-trainable variables and the attack's seed state may change
        and are kept.
        """
        name = fn.__name__
        if name not in self._compiled:
            sources = self.variable_sources()
            variables = _unique(getattr(m, "trainable_variables", []) for m in sources)
            state = _unique(getattr(m, "non_trainable_variables", []) for m in sources)
            self._compiled[name] = backend.jit(fn, variables, state=state + [self.seed_generator.state])
        return self._compiled[name]

    def perturb(self, x, y):
        """Returns adversarial examples for tensors `x`, `y` (see class doc)."""
        raise NotImplementedError

    def logits(self, x):
        """The model's logits on `x`, in inference mode."""
        return self.model(x, training=False)

    def loss(self, logits, y):
        """Per-example loss `(B,)` the attack ascends (see `losses.get`).

        By default the cross-entropy, negated when `targeted`.
        """
        return self._loss_fn(logits, y)

    def loss_and_grad(self, x, y):
        """Returns `(per-example loss, d loss / dx)` at `x`; no weights graph kept."""
        return backend.value_and_input_grad(lambda t: self.loss(self.logits(t), y), x, differentiable=False)

    def project(self, x_adv, x):
        """Projects `x_adv` onto the `eps`-ball around `x` intersected with `bounds`."""
        delta = x_adv - x
        if self.norm == "linf":
            delta = ops.clip(delta, -self.eps, self.eps)
        else:
            norms = _per_example_l2(delta)
            factor = ops.minimum(1.0, self.eps / ops.maximum(norms, 1e-12))
            delta = delta * _expand_like(factor, delta)
        return ops.clip(x + delta, *self.bounds)

    def step_direction(self, grad):
        """The steepest-ascent direction of unit `norm`: sign(g) or g / ||g||_2."""
        if self.norm == "linf":
            return ops.sign(grad)
        return grad / _expand_like(ops.maximum(_per_example_l2(grad), 1e-12), grad)

    def is_adversarial(self, logits, y):
        """Boolean `(batch,)`: misclassified (untargeted) or hits the target."""
        predictions = ops.argmax(logits, axis=-1)
        hits = ops.equal(predictions, ops.cast(y, predictions.dtype))
        return hits if self.targeted else ops.logical_not(hits)

    def _check_inputs(self, x, y):
        """Eager checks of a call's inputs (never traced), then float32 / int32 tensors."""
        owner = type(self).__name__
        validation.check_images(x, self.bounds, owner)
        validation.check_input_shape(self.model, x, owner)
        num_classes = validation.logits_width(self.model)
        y = validation.check_labels(y, x.shape[0], num_classes, owner)
        return ops.convert_to_tensor(x, dtype="float32"), ops.convert_to_tensor(y, dtype="int32")


def input_dtype(x):
    """The dtype name of `x` when it is floating, else "float32": the dtype `__call__` returns."""
    dtype = keras.backend.standardize_dtype(getattr(x, "dtype", np.asarray(x).dtype))
    return dtype if "float" in dtype else "float32"


def _unique(variable_lists):
    """The variables of all lists, once each (models may share layers)."""
    unique = {}
    for variables in variable_lists:
        for variable in variables:
            unique.setdefault(id(variable), variable)
    return list(unique.values())


def _per_example_l2(t):
    flat = ops.reshape(t, (ops.shape(t)[0], -1))
    return ops.sqrt(ops.sum(ops.square(flat), axis=1))


def _expand_like(per_example, t):
    return ops.reshape(per_example, (-1,) + (1,) * (len(t.shape) - 1))


def random_start(x, eps, norm, seed_generator):
    """A uniformly random point of the `eps`-ball around `x` (before clipping).

    l_inf: uniform in the box. l_2: a uniform direction times `eps * u^(1/d)`.
    """
    if norm == "linf":
        return x + keras.random.uniform(ops.shape(x), -eps, eps, seed=seed_generator)
    noise = keras.random.normal(ops.shape(x), seed=seed_generator)
    direction = noise / _expand_like(ops.maximum(_per_example_l2(noise), 1e-12), noise)
    dims = float(np.prod(x.shape[1:]))
    radius = eps * keras.random.uniform((ops.shape(x)[0],), seed=seed_generator) ** (1.0 / dims)
    return x + direction * _expand_like(radius, x)
