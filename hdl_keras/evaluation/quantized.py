"""Evaluating quantized nets: a masking-aware robustness evaluation (weight statistics: `hdl_keras.measure`).

Quantized networks are a classic place for gradient masking: a rounding step
has zero gradient almost everywhere, and attacks that follow it stall. In
`QuantDense`/`QuantConv2D` (Li, Wang and Xin's (2020) BinaryConnect/BinaryRelax layers) only
the *weights* are quantized, through a straight-through estimator (STE):
`q(w) = stop_gradient(levels * scale) + (w - stop_gradient(w))`. With respect
to the *input* the network is an ordinary float network whose kernels happen
to be `q(w)`, so the input gradient an attack takes through the STE path is
the exact gradient of the quantized function. `evaluate_quantized` checks
this numerically (`gradient_check`: the input gradient of the model against
that of its float twin with kernels `q(w)`) and then attacks the model the
ways that expose masking when there is some (Athalye et al. 2018, sec. 5):

- `pgd`: white-box PGD through the STE path (the model itself);
- `bpda`: BPDA, the quantized model forward and the float network with the
  shadow weights `w` backward (`hdl_keras.attacks.BPDA`), the differentiable
  approximation BPDA would use if the quantization blocked gradients;
- `transfer`: PGD on a float surrogate (the float twin trained alongside,
  Li et al.'s (2020) Table III oracle, or the shadow-weight network), scored on the
  quantized model (`hdl_keras.attacks.Transfer`);
- `square`: the black-box Square attack (queries only, images only);

with `hdl_keras.attacks.evaluate`'s flags (`black_box_stronger`, the eps
sweep and the unbounded check).
"""

import keras
import numpy as np
from keras import ops

from hdl_keras import backend
from hdl_keras.attacks import BPDA
from hdl_keras.attacks import PGD
from hdl_keras.attacks import Square
from hdl_keras.attacks import Transfer
from hdl_keras.attacks import evaluate
from hdl_keras.measure import weight_statistics
from hdl_keras.utils.surgery import replace_layers

TWIN_KERNELS = ("quantized", "shadow")


def _float_config(rewritten):
    """A serialized quantized layer rewritten to its Keras `Dense`/`Conv2D`; other entries as they are."""
    if rewritten.get("registered_name") in ("hdl_keras>QuantDense", "hdl_keras>QuantConv2D"):
        config = dict(rewritten["config"])
        config.pop("kernel_quantizer")
        class_name = rewritten["class_name"][len("Quant") :]
        rewritten.update(module="keras.layers", class_name=class_name, registered_name=None, config=config)
    return rewritten


def _copy_into_float(source, target, kernels):
    """A quantized source gives its forward (`"quantized"`) or shadow kernel, and its bias."""
    if getattr(source, "relax_lambda", None) is None:  # not QuantDense, QuantConv2D
        return False
    target.kernel.assign(source.kernel if kernels == "quantized" else source.float_kernel)
    if source.bias is not None:
        target.bias.assign(source.bias)
    return True


def float_twin(model, kernels="quantized"):
    """A copy of a quantized model with Keras `Dense`/`Conv2D` layers and float kernels.

    The inverse of `hdl_keras.layers.to_quantized`: every `QuantDense`/
    `QuantConv2D` becomes the Keras layer of the same configuration, with

    - `kernels="quantized"`: the kernel of the quantized layer's forward pass
      (`q(w)`; the relaxed `u` while BinaryRelax is relaxing), so the twin
      computes what `model` computes, with plain float layers;
    - `kernels="shadow"`: the float shadow kernel `w` the optimizer updates,
      the float network BinaryConnect/BinaryRelax trains behind the quantized
      one (a free surrogate for transfer attacks and BPDA).

    Biases and every other layer's weights are copied.

    Args:
        model: a built `Sequential` or functional `keras.Model` (nested
            models are converted throughout).
        kernels: `"quantized"` (default) or `"shadow"`.

    Returns:
        A new, uncompiled model of the same structure and layer names.

    Examples:
        >>> from hdl_keras.layers import to_quantized
        >>> from hdl_keras.models import mlp
        >>> twin = float_twin(to_quantized(mlp(input_shape=(4,), num_classes=3), "ternary"))
        >>> type(twin.layers[-1]).__name__
        'Dense'
    """
    if not isinstance(model, keras.Model) or not model.built:
        raise ValueError(f"Expected a built keras.Model. Received: model={model!r}")
    if kernels not in TWIN_KERNELS:
        raise ValueError(f"Expected kernels in {TWIN_KERNELS}. Received: kernels={kernels!r}")
    return replace_layers(model, _float_config, lambda source, target: _copy_into_float(source, target, kernels))


def _input_gradient(model, x, y):
    def loss(inputs):
        logits = model(inputs, training=False)
        return keras.losses.sparse_categorical_crossentropy(y, logits, from_logits=True)

    return ops.convert_to_numpy(backend.input_grad(loss, ops.convert_to_tensor(x), differentiable=False))


def gradient_check(model, x, y, twin=None):
    """Compares the input gradient through the STE path with the float twin's exact one.

    Computes `d CE(model(x), y) / dx` (what every white-box attack on
    `model` follows, through the quantizers' straight-through estimator) and
    the same gradient of `twin` (default `float_twin(model, "quantized")`, the
    same function with plain float layers). Equal gradients mean the STE
    path masks nothing: the attacks see the exact gradient of the quantized
    network.

    Args:
        model: a quantized `keras.Model` returning logits.
        x: float array `(B, *input_shape)`.
        y: int array `(B,)`.
        twin: the float twin, default built here.

    Returns:
        A dict: `max_abs_difference`, `max_abs_gradient` (of the twin) and
        `relative_difference` (their ratio, 0 when both are 0).
    """
    x = np.asarray(x, dtype="float32")
    y = np.asarray(y).astype("int64")
    twin = float_twin(model, "quantized") if twin is None else twin
    through_ste = _input_gradient(model, x, y)
    exact = _input_gradient(twin, x, y)
    difference = float(np.max(np.abs(through_ste - exact), initial=0.0))
    scale = float(np.max(np.abs(exact), initial=0.0))
    return {
        "max_abs_difference": difference,
        "max_abs_gradient": scale,
        "relative_difference": difference / scale if scale > 0 else difference,
    }


def _check_positive_int(name, value, minimum=1):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name} must be an int >= {minimum}. Received: {name}={value!r}")
    return int(value)


def evaluate_quantized(
    model,
    x,
    y,
    eps,
    float_model=None,
    *,
    steps=20,
    step_size=None,
    square_queries=1000,
    eps_sweep=(0.5, 1.0, 2.0),
    check_unbounded=True,
    gradient_examples=32,
    batch_size=256,
    seed=0,
    verbose=0,
):
    """Robustness of a quantized model under white-box, BPDA, transfer and black-box attacks.

    Runs `hdl_keras.attacks.evaluate(model, x, y, attacks=...)` with, at the
    l_inf radius `eps` (see the module docstring):

    - `pgd`: `PGD(model, eps, step_size, steps, random start)` through the
      straight-through path;
    - `bpda`: the same PGD with BPDA, backward through the shadow-weight
      float network `float_twin(model, "shadow")`;
    - `transfer`: the same PGD run on `float_model` (default: the
      shadow-weight network), scored on `model`;
    - `square`: `Square(model, eps, n_queries=square_queries)` (images
      `(N, H, W, C)` only; skipped otherwise or with `square_queries=0`);

    re-runs the strongest white-box attack at `eps * eps_sweep` and with eps
    covering the whole box (`check_unbounded`), and compares input gradients
    through the STE path with the exact ones (`gradient_check` on the first
    `gradient_examples` examples). An example is robust under an attack when
    it is classified correctly clean and under the attack.

    Masking shows as: `gradient_check` differences (the STE path is not the
    exact gradient), the flags `black_box_stronger` (transfer or Square beats
    the white-box attacks), `eps_sweep_flat` / `eps_sweep_not_monotone`, or
    `unbounded_not_zero` (accuracy left with eps covering the whole box).

    Args:
        model: the quantized logits network (a float one works too: BPDA and
            the default transfer surrogate are then the model itself).
        x: float array `(N, *input_shape)` in [0, 1].
        y: int array `(N,)`.
        eps: l_inf radius, `> 0` (Li et al. 2020: 8/255).
        float_model: the transfer surrogate, default None (the shadow-weight
            float network). Table III of Li et al. (2020) use the float twin trained
            alongside (the same architecture and data, float weights).
        steps: PGD steps (all three gradient attacks), default 20.
        step_size: PGD step, default `eps / 4` (2/255 at 8/255).
        square_queries: Square's query budget per example, default 1000; 0
            skips Square.
        eps_sweep: multiples of `eps` at which the strongest white-box attack
            is re-run, default `(0.5, 1.0, 2.0)`; None skips the sweep.
        check_unbounded: re-run it with eps covering the box, default True.
        gradient_examples: examples of the gradient check, default 32; 0 skips it.
        batch_size: evaluation batch, default 256.
        seed: seed of the random starts and of Square, default 0.
        verbose: progress bars of `evaluate`, default 0.

    Returns:
        A JSON-ready dict: `accuracy` (`natural`, `pgd`, `bpda`, `transfer`,
        `square`, `worst_case`, fractions), `flags` (code -> message),
        `eps_sweep` (`{"eps": [...], "accuracy": [...], "attack"}` or None),
        `unbounded_accuracy`, `gradient_check` (or None), `weights`
        (`hdl_keras.measure.weight_statistics`), `settings`, `seconds` (per attack),
        `num_examples`, `transfer_source` (`"float_model"` or `"shadow"`).

    Examples:

        ```python
        result = evaluate_quantized(binary_model, x_test[:500], y_test[:500], eps=8 / 255,
                                    float_model=float_model)
        print(result["accuracy"], sorted(result["flags"]), result["gradient_check"])
        ```
    """
    if isinstance(eps, bool) or not isinstance(eps, (int, float)) or not eps > 0:
        raise ValueError(f"eps must be a number > 0. Received: eps={eps!r}")
    steps = _check_positive_int("steps", steps)
    square_queries = (
        int(square_queries) if square_queries == 0 else _check_positive_int("square_queries", square_queries, minimum=2)
    )
    gradient_examples = _check_positive_int("gradient_examples", gradient_examples, minimum=0)
    if float_model is not None and not callable(float_model):
        raise ValueError(f"float_model must be a keras.Model. Received: {type(float_model).__name__}")
    x = np.asarray(x, dtype="float32")
    y = np.asarray(y).astype("int64")
    eps = float(eps)
    step_size = eps / 4 if step_size is None else float(step_size)

    shadow = float_twin(model, "shadow")
    source = shadow if float_model is None else float_model

    def pgd(target):
        return PGD(target, eps=eps, step_size=step_size, steps=steps, random_start=True, seed=seed)

    attacks = {"pgd": pgd(model), "bpda": BPDA(pgd(model), substitute=shadow), "transfer": Transfer(pgd(source))}
    images = x.ndim == 4
    if square_queries and images:
        attacks["square"] = Square(model, eps=eps, n_queries=square_queries, seed=seed)
    sweep = None if eps_sweep is None else [eps * float(factor) for factor in eps_sweep]
    keras.utils.set_random_seed(seed)
    report = evaluate(
        model,
        x,
        y,
        attacks=attacks,
        batch_size=batch_size,
        eps_sweep=sweep,
        check_unbounded=check_unbounded,
        verbose=verbose,
    )
    accuracy = {"natural": report.clean_accuracy}
    accuracy.update({name: result.accuracy for name, result in report.attacks.items()})
    accuracy["worst_case"] = report.worst_case_accuracy
    check = None
    if gradient_examples:
        check = gradient_check(model, x[:gradient_examples], y[:gradient_examples])
    return {
        "num_examples": report.num_examples,
        "accuracy": accuracy,
        "flags": {flag["code"]: flag["message"] for flag in report.flags},
        "eps_sweep": report.eps_sweep,
        "unbounded_accuracy": report.unbounded_accuracy,
        "gradient_check": check,
        "weights": weight_statistics(model),
        "transfer_source": "shadow" if float_model is None else "float_model",
        "settings": {
            "eps": eps,
            "step_size": step_size,
            "steps": steps,
            "square_queries": square_queries if images else 0,
            "eps_sweep": None if eps_sweep is None else [float(f) for f in eps_sweep],
            "check_unbounded": bool(check_unbounded),
            "seed": seed,
        },
        "seconds": {name: result.seconds for name, result in report.attacks.items()},
    }
