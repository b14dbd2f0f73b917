"""The between-epoch steps of RVSM, RGSM and ADMM (Dinh et al. 2020, sec. 4).

`hdl_keras.pruning.splitting` attaches each method to a kernel as a kernel
regularizer; these callbacks run what happens between epochs. They find
their kernels by the regularizer's `split_step` attribute (the regularizer
alone, or one term of a sum that lists its terms in `regularizers`):

- `"replace"` (`RVSM`, `RGSM`): `ReplaceWithU` sets `w <- prox(w)`;
- `"admm"` (`ADMM`, with its state `u`, `z`): `ADMMUpdate` runs the u- and
  z-steps.

So this module needs none of the regularizer classes, and any regularizer
with a `prox(w)` method and a `split_step` joins in.
"""

import keras
from keras import ops


def _terms(regularizer):
    if regularizer is None:
        return []
    return list(getattr(regularizer, "regularizers", [regularizer]))


def split_kernels(model, split_step):
    """Pairs `(kernel variable, regularizer)` of `model`'s trainable kernels whose regularizer has `split_step`.

    Args:
        model: a `keras.Model`.
        split_step: `"replace"` (RVSM, RGSM) or `"admm"` (ADMM).

    Returns:
        A list of `(variable, regularizer)`, the regularizer being the term
        of a sum that has the step.
    """
    pairs = []
    for variable in model.trainable_variables:
        for term in _terms(variable.regularizer):
            if getattr(term, "split_step", None) == split_step:
                pairs.append((variable, term))
                break
    return pairs


@keras.saving.register_keras_serializable(package="hdl_keras")
class ReplaceWithU(keras.callbacks.Callback):
    """Replaces each RVSM / RGSM kernel `w` by its sparse `u = prox(w)` once per epoch.

    Dinh et al. (2020), sec. 4.1: "At the end of each training epoch, we replace w by
    u for the validation process." Within `fit`, the replacement runs when
    validation begins (`on_test_begin`) or, without validation data, at
    `on_epoch_end`; once per epoch. `model.evaluate` outside `fit` replaces
    nothing. The kernels are found by their regularizer (`apply_rvsm`,
    `apply_rgsm`, or `kernel_regularizer=RVSM(...)` set by hand); `fit`
    raises a ValueError if there are none.

    Examples:
        >>> model.fit(x, y, epochs=10, callbacks=[ReplaceWithU()],
        ...           validation_data=(x_val, y_val))  # doctest: +SKIP
    """

    def __init__(self):
        super().__init__()
        self._kernels = []
        self._pending = False

    def get_config(self):
        return {}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def on_train_begin(self, logs=None):
        self._kernels = split_kernels(self.model, "replace")
        if not self._kernels:
            raise ValueError(
                f"ReplaceWithU found no RVSM or RGSM kernel in model {self.model.name!r}. "
                "Attach them with `apply_rvsm(model, ...)` or `apply_rgsm(model, ...)` first."
            )

    def on_epoch_begin(self, epoch, logs=None):
        self._pending = True

    def on_test_begin(self, logs=None):
        self._replace()

    def on_epoch_end(self, epoch, logs=None):
        self._replace()

    def on_train_end(self, logs=None):
        self._pending = False
        self._kernels = []

    def _replace(self):
        if not self._pending:
            return
        for variable, regularizer in self._kernels:
            variable.assign(regularizer.prox(variable))
        self._pending = False


@keras.saving.register_keras_serializable(package="hdl_keras")
class ADMMUpdate(keras.callbacks.Callback):
    """ADMM's u- and z-steps (Dinh et al. 2020, eq. 3) between epochs: `u <- prox(w + z)`, `z <- z + w - u`.

    Runs at the end of every `update_every`-th epoch (Dinh et al.'s (2020) ADMM code,
    Zhang et al.'s, updates every few thousand steps; the paper's own
    reference updates after every batch, which a compiled Keras train step
    cannot do without leaving the compiled loop). With `hard_prune=True`,
    `w` is set to its latest `u` when training ends (the hard-pruning step
    of Zhang et al.; Dinh et al. (2020) measure ADMM's sparsity on `w` without it).

    Args:
        update_every: epochs between updates, a positive integer (default 1).
        hard_prune: replace `w` by `u` at the end of training (default False).
    """

    def __init__(self, update_every=1, hard_prune=False):
        super().__init__()
        if isinstance(update_every, bool) or not isinstance(update_every, int) or update_every < 1:
            raise ValueError(
                f"Expected `update_every` to be a positive integer (epochs). Received: update_every={update_every!r}"
            )
        if not isinstance(hard_prune, bool):
            raise ValueError(f"Expected `hard_prune` to be a bool. Received: hard_prune={hard_prune!r}")
        self.update_every = update_every
        self.hard_prune = hard_prune
        self._kernels = []

    def get_config(self):
        return {"update_every": self.update_every, "hard_prune": self.hard_prune}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def on_train_begin(self, logs=None):
        self._kernels = split_kernels(self.model, "admm")
        if not self._kernels or any(regularizer.u is None for _, regularizer in self._kernels):
            raise ValueError(
                f"ADMMUpdate found no ADMM kernel with state in model {self.model.name!r}. "
                "Attach them with `apply_admm(model, ...)` first."
            )

    def on_epoch_end(self, epoch, logs=None):
        if (epoch + 1) % self.update_every:
            return
        for variable, regularizer in self._kernels:
            w = ops.convert_to_tensor(variable)
            u = regularizer.prox(ops.add(w, regularizer.z))
            regularizer.z.assign(ops.subtract(ops.add(regularizer.z, w), u))
            regularizer.u.assign(u)

    def on_train_end(self, logs=None):
        if self.hard_prune:
            for variable, regularizer in self._kernels:
                variable.assign(regularizer.u)
        self._kernels = []
