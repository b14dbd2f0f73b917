"""Input gradients on the JAX backend (`jax.vjp`, `jax.value_and_grad`)."""

import jax
import jax.numpy as jnp


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


def value_and_vjps(fn, x, cotangents_fn, differentiable=True):
    """Returns `(fn(x), G)`, `G[:, m]` the VJP of the m-th of `cotangents_fn(fn(x))`."""
    x = jnp.asarray(x)
    logits, vjp_fn = jax.vjp(fn, x)
    cotangents = jax.lax.stop_gradient(jnp.stack(cotangents_fn(jax.lax.stop_gradient(logits))))
    # One VJP per cotangent, batched by vmap over the M cotangents: (M, B, *input).
    (grads,) = jax.vmap(vjp_fn)(cotangents)
    grads = jnp.moveaxis(grads, 0, 1)
    if not differentiable:
        logits, grads = jax.lax.stop_gradient(logits), jax.lax.stop_gradient(grads)
    return logits, grads


def jit(fn, variables, state=()):
    """Compiles `fn(*tensors)` with `jax.jit`, reading `variables` as inputs.

    A jitted function would otherwise bake the variables' current values in as
    constants and never see later training. Here their values are passed as
    arguments and mapped in with a `keras.StatelessScope`; the new values of
    the `state` variables (e.g. a `SeedGenerator`'s) are written back after
    each call.
    """
    import keras

    variables, state = list(variables), list(state)

    @jax.jit
    def pure(values, state_values, *args):
        mapping = list(zip(variables, values)) + list(zip(state, state_values))
        with keras.StatelessScope(state_mapping=mapping) as scope:
            outputs = fn(*args)
        return outputs, [scope.get_current_value(v) for v in state]

    def call(*args):
        outputs, new_state = pure([v.value for v in variables], [v.value for v in state], *args)
        for variable, value in zip(state, new_state):
            variable.assign(value)
        return outputs

    return call
