"""Walks the layer graph of a functional or Sequential Keras model."""

import keras


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
        raise ValueError(
            f"Expected a keras.Model. Received: model={type(model).__name__}"
        )
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
