"""Input gradients on the TensorFlow backend (`tf.GradientTape`).

Tapes nest, so an outer tape (Keras' `train_step`) records the inner gradient
computation and differentiates through it. One `tape.gradient` call per class
cotangent is used instead of `batch_jacobian`, which is pathological under XLA.
"""

import tensorflow as tf

from hdl_keras.backend._common import stack_grads


def value_and_input_grad(fn, x, differentiable=True):
    """Returns `(fn(x), d sum(fn(x)) / dx)`; see `hdl_keras.backend`."""
    x = tf.convert_to_tensor(x)
    with tf.GradientTape() as tape:
        tape.watch(x)
        value = fn(x)
    grad = tape.gradient(value, x, unconnected_gradients=tf.UnconnectedGradients.ZERO)
    if not differentiable:
        value, grad = tf.stop_gradient(value), tf.stop_gradient(grad)
    return value, grad


def value_and_vjps(fn, x, cotangents_fn, differentiable=True):
    """Returns `(fn(x), G)`, `G[:, m]` the VJP of the m-th of `cotangents_fn(fn(x))`."""
    x = tf.convert_to_tensor(x)
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(x)
        logits = fn(x)
    cotangents = [tf.stop_gradient(c) for c in cotangents_fn(tf.stop_gradient(logits))]
    grads = [
        tape.gradient(logits, x, output_gradients=c, unconnected_gradients=tf.UnconnectedGradients.ZERO)
        for c in cotangents
    ]
    del tape
    grads = stack_grads(grads)
    if not differentiable:
        logits, grads = tf.stop_gradient(logits), tf.stop_gradient(grads)
    return logits, grads


def jit(fn, variables, state=()):
    """Compiles `fn(*tensors)` into a TensorFlow graph (`tf.function`).

    Variables are captured by reference, so `variables` and `state` are not
    needed here.
    XLA stays off, as Keras does on CPU; Python loops in `fn` are unrolled.
    """
    del variables, state
    return tf.function(fn, autograph=False, reduce_retracing=True)
