"""Input gradients on the PyTorch backend (`torch.autograd.grad`).

Keras runs `predict`/`evaluate` under `torch.no_grad`, so gradients are taken
under `torch.enable_grad()`. With `differentiable=True` and grad mode on at the
call site (as in `train_step`), the graph of the gradient is kept
(`create_graph=True`) so the loss can be differentiated through it; this needs
eager torch: `torch.compile` (Keras `jit_compile=True`) has no double backward.
"""

import torch

from hdl_keras.backend._common import stack_grads


def _prepare(x):
    x = torch.as_tensor(x)
    if not x.requires_grad:
        x = x.detach().requires_grad_(True)
    return x


def _keep_graph(differentiable):
    return differentiable and torch.is_grad_enabled()


def value_and_input_grad(fn, x, differentiable=True):
    """Returns `(fn(x), d sum(fn(x)) / dx)`; see `hdl_keras.backend`."""
    create_graph = _keep_graph(differentiable)
    with torch.enable_grad():
        x = _prepare(x)
        value = fn(x)
        (grad,) = torch.autograd.grad(value.sum(), x, create_graph=create_graph)
    if not create_graph:
        value = value.detach()
    return value, grad


def value_and_vjps(fn, x, cotangents_fn, differentiable=True):
    """Returns `(fn(x), G)`, `G[:, m]` the VJP of the m-th of `cotangents_fn(fn(x))`."""
    create_graph = _keep_graph(differentiable)
    with torch.enable_grad():
        x = _prepare(x)
        logits = fn(x)
        cotangents = [c.detach() for c in cotangents_fn(logits.detach())]
        grads = [
            torch.autograd.grad(logits, x, grad_outputs=c, retain_graph=True, create_graph=create_graph)[0]
            for c in cotangents
        ]
    if not create_graph:
        logits = logits.detach()
    return logits, stack_grads(grads)


def jit(fn, variables, state=()):
    """Runs `fn(*tensors)` eagerly under `torch.no_grad()`.

    `torch.compile` costs more to compile than an attack runs here, so no
    compilation; under `no_grad` only the input gradients build a graph.
    """
    del variables, state

    def call(*args):
        with torch.no_grad():
            return fn(*args)

    return call
