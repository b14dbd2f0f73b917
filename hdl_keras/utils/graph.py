"""The package's only access to private Keras API, one small named function per use.

Keras 3 keeps the layer walk, the functional graph, variable tracking and the
`fit` resume point behind underscored attributes. Every module of hdl_keras
that needs one of them calls the function here instead, so a Keras release
that renames one breaks this module alone (and tests/utils/test_graph.py,
which checks each function against the public behaviour it stands for).

- `flatten_layers(model, include_self=True)`: every layer of a model, nested
  models searched, each once (`Layer._flatten_layers`);
- `graph_nodes(model)`: the nodes of a functional or Sequential model in
  topological order (`KerasTensor._keras_history`, `Operation._inbound_nodes`);
- `run_through_graph(model, inputs, call_fn)`: evaluates a functional model's
  graph with `call_fn(layer, *args, **kwargs)` in place of each layer call
  (`Functional._run_through_graph`);
- `add_weight_to_built_layer(layer, **kwargs)`: `layer.add_weight` on a built
  (locked) layer (`Layer._tracker`);
- `untrack_variable(layer, variable)`: the inverse (`Layer._untrack_variable`);
- `seed_generators(layer)`: a layer's own `keras.random.SeedGenerator`s
  (`Layer._seed_generators`);
- `set_initial_epoch(model, epoch)`: the epoch `fit` starts from, as
  `keras.callbacks.BackupAndRestore` sets it (`Model._initial_epoch`).
"""

import keras


def flatten_layers(model, include_self=True):
    """Every layer of `model` (a layer or model), nested models searched, each once.

    Args:
        model: a `keras.layers.Layer` (a `keras.Model` is one).
        include_self: whether `model` itself comes first (default True).

    Returns:
        A list of layers, depth first in the order Keras tracks them.
    """
    return list(model._flatten_layers(include_self=include_self))


def _node_of(tensor):
    operation, node_index, _ = tensor._keras_history
    return operation._inbound_nodes[node_index]


def graph_nodes(model):
    """The nodes that compute `model.outputs`, in topological order.

    Each node has `operation` (the layer called), `input_tensors`, `outputs`
    and `arguments` (the call's symbolic arguments). Input nodes (of
    `keras.Input`) are included; their `operation` is an `InputLayer`.

    Args:
        model: a built functional or Sequential `keras.Model`.

    Returns:
        A list of nodes, each after the nodes that compute its inputs.
    """
    if not isinstance(model, keras.Model):
        raise ValueError(f"Expected a keras.Model. Received: model={type(model).__name__}")
    try:
        outputs = model.outputs
    except (AttributeError, ValueError):
        outputs = None
    if not model.built or not outputs:
        raise ValueError(
            f"Expected a built functional or Sequential model. Model "
            f"'{model.name}' ({type(model).__name__}) has no symbolic outputs: "
            "build it, e.g. by calling it on a `keras.Input`."
        )
    order, visited = [], set()
    stack = [(_node_of(tensor), False) for tensor in reversed(outputs)]
    while stack:  # Iterative depth-first post-order (deep ResNets).
        node, expanded = stack.pop()
        if id(node) in visited:
            continue
        if expanded:
            visited.add(id(node))
            order.append(node)
            continue
        stack.append((node, True))
        for tensor in reversed(node.input_tensors):
            parent = _node_of(tensor)
            if id(parent) not in visited:
                stack.append((parent, False))
    return order


def has_graph(model):
    """Whether `run_through_graph` can evaluate `model` (a functional model, Sequential included)."""
    return hasattr(model, "_run_through_graph")


def run_through_graph(model, inputs, call_fn):
    """Evaluates the graph of functional `model` on `inputs`, calling `call_fn` for each layer.

    Args:
        model: a functional `keras.Model` (`has_graph(model)` is True).
        inputs: a list with one value per model input; the values may be
            any objects `call_fn` understands (e.g. interval bounds).
        call_fn: `call_fn(layer, *args, **kwargs)`, called in topological
            order with the values computed for the layer's inputs.

    Returns:
        What `call_fn` returned for the output layer (a list when the model
        has several outputs).
    """
    if not has_graph(model):
        raise ValueError(
            f"Expected a functional keras.Model. Received: model={type(model).__name__}, "
            "which has no layer graph (a subclassed model?)."
        )
    return model._run_through_graph(inputs, call_fn=call_fn)


def add_weight_to_built_layer(layer, **kwargs):
    """`layer.add_weight(**kwargs)` on a layer that may already be built (its tracker locked).

    Keras locks a layer's variable tracker once the layer is built; this
    unlocks it for the one call (as `Dense.enable_lora` does) and locks it
    again if it was locked.

    Returns:
        The new `keras.Variable`, tracked by `layer` (in `layer.weights`).
    """
    was_locked = layer._tracker.locked
    layer._tracker.unlock()
    try:
        return layer.add_weight(**kwargs)
    finally:
        if was_locked:
            layer._tracker.lock()


def untrack_variable(layer, variable):
    """Removes `variable` from `layer`'s weights (the inverse of `add_weight_to_built_layer`)."""
    layer._untrack_variable(variable)


def seed_generators(layer):
    """The `keras.random.SeedGenerator`s `layer` owns (not those of its sublayers)."""
    return list(getattr(layer, "_seed_generators", []))


def set_initial_epoch(model, epoch):
    """Makes the next `model.fit` start at `epoch` (0-based), as `BackupAndRestore` does.

    Call it from a callback's `on_train_begin`: `fit` reads the value after
    the callbacks' `on_train_begin` ran.
    """
    model._initial_epoch = int(epoch)
