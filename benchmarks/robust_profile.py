"""Where the time of the exact HDL robust step goes, and its chain-rule floor.

Usage: python benchmarks/robust_profile.py [--model alexnet|small_cnn|mlp] [--batch 64]

Times, on the default backend and the paper's image network (10 classes), with compiled
functions (`hdl_keras.backend.jit`) and `train_on_batch`:
- `forward_ms`: one forward pass F;
- `vjp_ms`: the input gradient of one logit difference, forward included (F + V);
- `robust_vjps_ms`: the K - 1 = 9 vector-Jacobian products of the robust term (F + 9 V);
- `nominal_step_ms`, `robust_step_ms`: one training step of "DL" and "Robust".
A training step differentiates what its loss computed, at about twice that cost (reverse
mode), so the robust step costs about 3 (F + 9 V) against 3 F for the nominal one:
`chain_rule_floor = (F + 9 V) / F` is what an exact robust step costs in nominal steps
when the input gradient V costs as much as the forward F (ReLU networks). Last line: JSON.
"""

import argparse
import json
import time

import numpy as np


def median_ms(fn, repeats=5):
    fn()
    timings = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        timings.append(time.perf_counter() - start)
    return 1000 * sorted(timings)[len(timings) // 2]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="alexnet", choices=["alexnet", "small_cnn", "mlp"])
    parser.add_argument("--batch", type=int, default=64)
    args = parser.parse_args()

    import keras
    from keras import ops

    from hdl_keras import backend
    from hdl_keras.models import get
    from hdl_keras.objectives import HolisticModel
    from hdl_keras.objectives.robust import robust_cross_entropy

    shape = (784,) if args.model == "mlp" else (28, 28, 1)
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    x = ops.convert_to_tensor(rng.random((args.batch,) + shape, dtype=np.float32))
    y = ops.convert_to_tensor(rng.integers(0, 10, args.batch))
    models = {}
    for method in ("DL", "Robust"):
        keras.utils.set_random_seed(0)
        base = get(args.model, input_shape=shape, num_classes=10)
        models[method] = HolisticModel(base.input, base.output, method=method, rho=1e-3)
        models[method].compile(optimizer=keras.optimizers.SGD(0.01))
    model = models["DL"]
    variables = model.variables

    def force(value):
        return ops.convert_to_numpy(ops.sum(value))

    forward = backend.jit(lambda t: model(t), variables)
    one_vjp = backend.jit(
        lambda t: backend.input_grad(lambda u: model(u)[:, 1], t, differentiable=False),
        variables,
    )
    robust_vjps = backend.jit(lambda t, labels: robust_cross_entropy(model, t, labels, 1e-3), variables)
    result = {
        "model": args.model,
        "batch": args.batch,
        "forward_ms": median_ms(lambda: force(forward(x))),
        "vjp_ms": median_ms(lambda: force(one_vjp(x))),
        "robust_vjps_ms": median_ms(lambda: force(robust_vjps(x, y))),
        "nominal_step_ms": median_ms(lambda: models["DL"].train_on_batch(x, y)),
        "robust_step_ms": median_ms(lambda: models["Robust"].train_on_batch(x, y), repeats=3),
    }
    forward_ms, input_grad_ms = result["forward_ms"], result["vjp_ms"] - result["forward_ms"]
    result["chain_rule_floor"] = round((forward_ms + 9 * input_grad_ms) / forward_ms, 2)
    result["robust_step_ratio"] = round(result["robust_step_ms"] / result["nominal_step_ms"], 2)
    result = {key: round(value, 1) if isinstance(value, float) else value for key, value in result.items()}
    result["backend"] = keras.backend.backend()
    print(json.dumps(result))


if __name__ == "__main__":
    main()
