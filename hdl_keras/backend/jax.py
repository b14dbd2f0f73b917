"""Input gradients on the JAX backend (`jax.vjp`, `jax.value_and_grad`)."""

import jax
import jax.numpy as jnp

from hdl_keras.backend._common import class_cotangents


def value_and_input_grad(fn, x, differentiable=True):
    """Returns `(fn(x), d sum(fn(x)) / dx)`; see `hdl_keras.backend`."""
    x = jnp.asarray(x)

    def summed(inputs):
        value = fn(inputs)
        return jnp.sum(value), value

    (_, value), grad = jax.value_and_grad(summed, has_aux=True)(x)
    if not differentiable:
        value, grad = jax.lax.stop_gradient(value), jax.lax.stop_gradient(grad)
    return value, grad


def input_grad(fn, x, differentiable=True):
    """Returns d sum(fn(x)) / dx, same shape as `x`."""
    return value_and_input_grad(fn, x, differentiable=differentiable)[1]


def _class_vjps(fn, x, labels, differentiable):
    x = jnp.asarray(x)
    logits, vjp_fn = jax.vjp(fn, x)
    num_classes = logits.shape[-1]
    cotangents = jnp.stack(
        class_cotangents(num_classes, x.shape[0], labels, logits.dtype)
    )
    # One VJP per class, batched by vmap over the K cotangents: (K, B, *input).
    (grads,) = jax.vmap(vjp_fn)(cotangents)
    grads = jnp.moveaxis(grads, 0, 1)
    if not differentiable:
        logits, grads = jax.lax.stop_gradient(logits), jax.lax.stop_gradient(grads)
    return logits, grads


def logit_jacobian(fn, x, differentiable=True):
    """Returns `(logits, J)`, `J` of shape `(B, K, *x.shape[1:])`."""
    return _class_vjps(fn, x, None, differentiable)


def logit_difference_grads(fn, x, y, differentiable=True):
    """Returns `(logits, G)`, `G[b, k] = d(z_k - z_{y_b}) / dx[b]`."""
    return _class_vjps(fn, x, y, differentiable)
