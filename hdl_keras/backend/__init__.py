"""Backend core: the only place in hdl_keras that imports jax, tensorflow or torch.

Every backend module (`jax.py`, `tensorflow.py`, `torch.py`) exposes the same
functions; this package re-exports the ones of the backend Keras runs on
(`keras.backend.backend()`), so the rest of the library stays in `keras.ops`.

Public API:

- `input_grad(fn, x)`: d sum(fn(x)) / dx, same shape as `x`.
- `value_and_input_grad(fn, x)`: `(fn(x), input_grad(fn, x))` in one pass.
- `logit_jacobian(fn, x)`: `(logits, J)` with `J[b, k] = d logits[b, k] / d x[b]`.
- `logit_difference_grads(fn, x, y)`: `(logits, G)` with
  `G[b, k] = d (logits[b, k] - logits[b, y[b]]) / d x[b]`, the gradients the
  HDL robust loss (Bertsimas et al. 2023, eq. 7) takes the dual norm of.
- `value_and_vjps(fn, x, cotangents_fn)`: `(fn(x), G)` with `G[:, m]` the
  vector-Jacobian product of the m-th cotangent `cotangents_fn(fn(x))[m]`
  (each `(B, K)`, chosen from the outputs, e.g. the top classes); the piece
  each backend module implements, behind the two functions above.
- `jit(fn, variables, state=())`: `fn(*tensors)` compiled the way the
  backend allows (`jax.jit` with the variables passed as inputs and `state`
  written back, `tf.function`, eager torch under `no_grad`); the attack suite
  runs its loops through it.

All of them run eagerly, inside `model.fit` at the default `jit_compile` of
their backend, and are differentiable: a loss that contains an input gradient
has the correct gradient with respect to the weights ("double backprop").
Pass `differentiable=False` when only the values are needed (attacks): the
result is then cut from the weights' graph, which is cheaper on every backend.

The functions assume `fn` treats examples independently (no batch statistics,
e.g. batch norm in inference mode), so that the gradient of the batch sum is the
per-example gradient.
"""

import keras

from hdl_keras.backend._common import class_cotangents

_BACKEND = keras.backend.backend()

if _BACKEND == "jax":
    from hdl_keras.backend.jax import jit
    from hdl_keras.backend.jax import value_and_input_grad
    from hdl_keras.backend.jax import value_and_vjps
elif _BACKEND == "tensorflow":
    from hdl_keras.backend.tensorflow import jit
    from hdl_keras.backend.tensorflow import value_and_input_grad
    from hdl_keras.backend.tensorflow import value_and_vjps
elif _BACKEND == "torch":
    from hdl_keras.backend.torch import jit
    from hdl_keras.backend.torch import value_and_input_grad
    from hdl_keras.backend.torch import value_and_vjps
else:
    raise ImportError(
        f"hdl_keras supports the jax, tensorflow and torch backends of Keras. "
        f"Received: KERAS_BACKEND={_BACKEND!r}. Set the environment variable "
        "KERAS_BACKEND to one of them before importing keras."
    )

SUPPORTED_BACKENDS = ("jax", "tensorflow", "torch")


def input_grad(fn, x, differentiable=True):
    """Returns d sum(fn(x)) / dx, same shape as `x`."""
    return value_and_input_grad(fn, x, differentiable=differentiable)[1]


def logit_jacobian(fn, x, differentiable=True):
    """Returns `(logits, J)`, `J[b, k] = d logits[b, k] / d x[b]`, shape `(B, K, *x.shape[1:])`."""
    return value_and_vjps(fn, x, class_cotangents, differentiable)


def logit_difference_grads(fn, x, y, differentiable=True):
    """Returns `(logits, G)`, `G[b, k] = d (logits[b, k] - logits[b, y[b]]) / d x[b]`."""
    return value_and_vjps(fn, x, lambda logits: class_cotangents(logits, y), differentiable)


def name():
    """Returns the name of the backend Keras runs on, e.g. `"tensorflow"`."""
    return _BACKEND


__all__ = [
    "SUPPORTED_BACKENDS",
    "input_grad",
    "jit",
    "logit_difference_grads",
    "logit_jacobian",
    "name",
    "value_and_input_grad",
    "value_and_vjps",
]
