"""Layer replacement: rebuild a model from its rewritten config, then copy its weights.

`hdl_keras.layers.to_masked` / `export_pruned` (Dense/Conv2D <-> masked
layers), `hdl_keras.layers.to_quantized` and
`hdl_keras.evaluation.float_twin` (Dense/Conv2D <-> quantized layers) are
each one call of `replace_layers` with two small functions: how a serialized
layer is rewritten, and how the weights of a replaced layer are copied.

    serialized = keras.saving.serialize_keras_object(model)   # compile config dropped
    rebuilt = keras.saving.deserialize_keras_object(rewrite_configs(serialized, rewrite))
    copy_weights(model, rebuilt, copy_layer)

The rebuilt model has the source's structure and layer names (nested models
are rewritten throughout), so the copy walks both models layer by layer.
"""

import keras

from hdl_keras.utils.arrays import to_numpy


def serialized_model(model):
    """`model`'s serialized config (`keras.saving.serialize_keras_object`) without its compile config."""
    serialized = keras.saving.serialize_keras_object(model)
    serialized.pop("compile_config", None)
    return serialized


def rewrite_configs(value, rewrite):
    """A copy of the serialized `value` with `rewrite` applied to every serialized object, innermost first.

    Args:
        value: a serialized Keras object (nested dicts and lists).
        rewrite: `rewrite(entry)` takes one serialized object (a dict with
            `module`, `class_name`, `config`, `registered_name`, ...), already
            rewritten inside, and returns it, changed or not.

    Returns:
        The rewritten copy; `value` is left as it was.
    """
    if isinstance(value, list):
        return [rewrite_configs(item, rewrite) for item in value]
    if not isinstance(value, dict):
        return value
    return rewrite({key: rewrite_configs(item, rewrite) for key, item in value.items()})


def copy_weights(source, target, copy_layer):
    """Copies the weights of `source` into `target`, rebuilt from its (rewritten) config.

    Args:
        source: the original layer or model.
        target: its rebuild, of the same structure and layer names.
        copy_layer: `copy_layer(source_layer, target_layer)` copies a
            replaced layer's weights and returns True, or returns False for a
            layer it leaves to the default: nested models are walked, every
            other layer gets a copy of the source's weights.

    Raises:
        ValueError: if the two models differ in their layers.
    """
    if copy_layer(source, target):
        return
    if isinstance(source, keras.Model):
        if len(source.layers) != len(target.layers):
            raise ValueError(
                f"Model '{source.name}' rebuilt with {len(target.layers)} layers instead of {len(source.layers)}."
            )
        for source_layer, target_layer in zip(source.layers, target.layers):
            if source_layer.name != target_layer.name:
                raise ValueError(f"Layer '{source_layer.name}' rebuilt as '{target_layer.name}'.")
            copy_weights(source_layer, target_layer, copy_layer)
    else:
        target.set_weights([to_numpy(weight) for weight in source.weights])


def replace_layers(model, rewrite, copy_layer):
    """A new, uncompiled model: `model` rebuilt from its config rewritten by `rewrite`, weights copied by `copy_layer`.

    Args:
        model: a built `keras.Sequential` or functional `keras.Model` (or
            any registered serializable model with a usable `get_config`).
        rewrite: see `rewrite_configs`.
        copy_layer: see `copy_weights`.

    Returns:
        The rebuilt model, of the same class, name and layer names.
    """
    rebuilt = keras.saving.deserialize_keras_object(rewrite_configs(serialized_model(model), rewrite))
    copy_weights(model, rebuilt, copy_layer)
    return rebuilt
