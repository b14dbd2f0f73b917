"""A corpus of bad inputs across the package, each with the error it must raise.

Shared by `tests/test_bad_inputs.py` (one test per case) and
`benchmarks/bad_input_check.py` (runs them all and counts the outcomes).

Each `Case` is a callable taking a scratch folder, the exception class it must
raise and a phrase of its message. `run_case` classifies the outcome:

- `"clear_error"`: the expected class, with the phrase in the message;
- `"silent"`: no error at all (a meaningless result was returned);
- `"raw_traceback"`: another exception, or the expected class without the
  phrase (a message that does not say what went wrong);
- `"hang"`: still running after the case's timeout;
- `"corrupted"`: a file of the scratch folder that the case must not touch
  changed (e.g. a zoo card after a refused update).

Warnings that a case expects (legal values that are almost surely a
mistake) are turned into errors for that case only.
"""

import dataclasses
import hashlib
import os
import pathlib
import shutil
import socket
import subprocess
import sys
import threading
import warnings

import keras
import numpy as np

OUTCOMES = ("clear_error", "silent", "raw_traceback", "corrupted", "hangs")


class CliError(Exception):
    """A command-line tool exited with a non-zero code; the message is its stderr."""


class CliWarning(Exception):
    """A command-line tool succeeded but warned on stderr; the message is its stderr."""


@dataclasses.dataclass(frozen=True)
class Case:
    """One bad input: `run(folder)` must raise `error` with `phrase` in its message."""

    name: str
    area: str
    run: object
    error: type
    phrase: str
    timeout: float = 120.0


# ----------------------------------------------------------------------------- fixtures


def _mlp(num_classes=3, num_features=4, seed=0):
    keras.utils.set_random_seed(seed)
    inputs = keras.Input((num_features,))
    hidden = keras.layers.Dense(8, activation="relu")(inputs)
    return keras.Model(inputs, keras.layers.Dense(num_classes)(hidden))


def _cnn(seed=0):
    keras.utils.set_random_seed(seed)
    inputs = keras.Input((8, 8, 1))
    hidden = keras.layers.Conv2D(4, 3, activation="relu")(inputs)
    logits = keras.layers.Dense(3)(keras.layers.Flatten()(hidden))
    return keras.Model(inputs, logits)


def _two_outputs():
    inputs = keras.Input((4,))
    return keras.Model(inputs, [keras.layers.Dense(3)(inputs), keras.layers.Dense(2)(inputs)])


def _holistic(**kwargs):
    from hdl_keras.objectives import HolisticModel

    inputs = keras.Input((4,))
    hidden = keras.layers.Dense(8, activation="relu")(inputs)
    return HolisticModel(inputs, keras.layers.Dense(3)(hidden), **kwargs)


def _batch(n=6, seed=0):
    rng = np.random.default_rng(seed)
    return rng.uniform(size=(n, 4)).astype("float32"), np.arange(n) % 3


def _images(n=4, seed=0):
    rng = np.random.default_rng(seed)
    return rng.uniform(size=(n, 8, 8, 1)).astype("float32"), np.arange(n) % 3


def _backend_tensor(x):
    return keras.ops.convert_to_tensor(x)


def _csv(folder, text, name="table.csv"):
    path = pathlib.Path(folder) / name
    path.write_text(text)
    return path


def _attack(name, model=None, **kwargs):
    from hdl_keras import attacks

    return getattr(attacks, name)(model if model is not None else _mlp(), **kwargs)


def _fgsm_call(x, y, model=None, **kwargs):
    return _attack("FGSM", model, **kwargs)(x, y)


def _cli(app_module, *args):
    """Runs a command line's `main` in-process; raises CliError / CliWarning from what it printed."""
    import importlib

    from hdl_keras.testing.cli import invoke

    result = invoke(importlib.import_module(app_module).main, args)
    if result.exit_code != 0:
        raise CliError(result.stderr.strip())
    if "warning:" in result.stderr:
        raise CliWarning(result.stderr.strip())
    return result.stdout


def _subprocess_cli(env_overrides, *args):
    """Runs `python -m MODULE ARGS` with `env_overrides`; raises CliError with its stderr."""
    env = {**os.environ, **env_overrides}
    result = subprocess.run([sys.executable, *args], env=env, capture_output=True, text=True, timeout=120)
    if result.returncode != 0:
        lines = result.stderr.strip().splitlines()
        if len(lines) != 1:
            raise RuntimeError(f"expected one line on stderr, got {len(lines)}:\n{result.stderr}")
        raise CliError(lines[0])
    return result.stdout


def _zoo(folder, broken=False):
    """A scratch zoo (env `HDL_KERAS_ZOO_DIR`) holding a copy of iris-mlp-dl (and a broken card)."""
    from hdl_keras import zoo

    root = pathlib.Path(folder) / "zoo"
    if not root.exists():
        source = zoo.zoo_root() / "iris-mlp-dl"
        shutil.copytree(source, root / "iris-mlp-dl")
        if broken:
            (root / "wine-mlp-dl").mkdir()
            (root / "wine-mlp-dl" / "card.json").write_text('{"name": "wine-mlp-dl",')
    os.environ["HDL_KERAS_ZOO_DIR"] = str(root)
    return root


def _silent_server():
    """A socket on 127.0.0.1 that accepts connections and never answers; returns (url, close)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    listener.settimeout(0.05)
    held, stop = [], threading.Event()

    def accept():
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()

    def close():
        stop.set()
        thread.join()
        for connection in held:
            connection.close()
        listener.close()

    return f"http://127.0.0.1:{listener.getsockname()[1]}/", close


def _with_env(env, fn):
    saved = {key: os.environ.get(key) for key in env}
    os.environ.update(env)
    try:
        return fn()
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


# ----------------------------------------------------------------------------- cases


def _attack_cases():
    x, y = _batch()
    images, labels = _images()
    cases = [
        ("fgsm_eps_nan", lambda f: _attack("FGSM", eps=float("nan")), ValueError, "finite number"),
        ("pgd_eps_nan", lambda f: _attack("PGD", eps=float("nan")), ValueError, "finite number"),
        ("fgsm_eps_2_on_unit_images", lambda f: _attack("FGSM", eps=2.0), ValueError, "at most the input range"),
        ("pgd_eps_negative", lambda f: _attack("PGD", eps=-0.1), ValueError, "Expected `eps` in [0.0"),
        ("pgd_eps_8_meant_as_8_255", lambda f: _attack("PGD", eps=0.6), UserWarning, "almost surely a mistake"),
        ("pgd_eps_string", lambda f: _attack("PGD", eps="8/255"), ValueError, "real number"),
        (
            "pgd_step_size_nan",
            lambda f: _attack("PGD", step_size=float("nan")),
            ValueError,
            "`step_size` to be a finite",
        ),
        ("pgd_zero_steps", lambda f: _attack("PGD", steps=0), ValueError, "steps and restarts must be >= 1"),
        ("pgd_unknown_norm", lambda f: _attack("PGD", norm="l3"), ValueError, "supports norm"),
        ("attack_reversed_bounds", lambda f: _attack("PGD", bounds=(1.0, 0.0)), ValueError, "low < high"),
        (
            "attack_nan_bound",
            lambda f: _attack("PGD", bounds=(0.0, float("nan"))),
            ValueError,
            "`bounds[1]` to be a finite",
        ),
        (
            "pgd_tensor_x_times_255",
            lambda f: _attack("PGD")(_backend_tensor(x * 255), y),
            ValueError,
            "expects inputs in bounds",
        ),
        ("fgsm_numpy_x_times_255", lambda f: _fgsm_call(x * 255, y), ValueError, "expects inputs in bounds"),
        ("fgsm_all_nan_images", lambda f: _fgsm_call(np.full_like(x, np.nan), y), ValueError, "finite inputs"),
        (
            "pgd_tensor_with_inf",
            lambda f: _attack("PGD")(_backend_tensor(np.where(x > 0.5, np.inf, x)), y),
            ValueError,
            "finite inputs",
        ),
        ("fgsm_empty_batch_cnn", lambda f: _fgsm_call(images[:0], labels[:0], _cnn()), ValueError, "non-empty batch"),
        ("fgsm_uint8_images", lambda f: _fgsm_call((x * 255).astype("uint8"), y), ValueError, "floating-point inputs"),
        ("fgsm_labels_column", lambda f: _fgsm_call(x, y[:, None]), ValueError, "shape (batch,)"),
        ("fgsm_labels_too_few", lambda f: _fgsm_call(x, y[:-1]), ValueError, "shape (batch,)"),
        ("pgd_labels_out_of_range", lambda f: _attack("PGD")(x, y + 3), ValueError, "in [0, 3)"),
        ("fgsm_negative_labels", lambda f: _fgsm_call(x, y - 1), ValueError, "in [0, 3)"),
        ("fgsm_fractional_labels", lambda f: _fgsm_call(x, y + 0.5), ValueError, "integer class labels"),
        ("fgsm_two_output_model", lambda f: _fgsm_call(x, y, _two_outputs()), ValueError, "one logits output"),
        ("square_eps_nan", lambda f: _attack("Square", _cnn(), eps=float("nan")), ValueError, "finite number"),
        ("apgd_nan_images", lambda f: _attack("APGD")(np.full_like(x, np.nan), y), ValueError, "finite inputs"),
        ("cw_out_of_bounds", lambda f: _attack("CarliniWagner")(x - 1.0, y), ValueError, "expects inputs in bounds"),
    ]
    return [Case(name, "attacks", run, error, phrase) for name, run, error, phrase in cases]


def _evaluate_cases():
    from hdl_keras.attacks import PGD
    from hdl_keras.attacks import evaluate

    x, y = _batch()

    def run_evaluate(x_, y_, model=None, **kwargs):
        model = model or _mlp()
        return evaluate(model, x_, y_, attacks={"pgd": PGD(model, steps=2)}, verbose=0, **kwargs)

    cases = [
        ("evaluate_all_nan_images", lambda f: run_evaluate(np.full_like(x, np.nan), y), ValueError, "finite inputs"),
        ("evaluate_labels_out_of_range", lambda f: run_evaluate(x, y + 5), ValueError, "labels must be in [0, 3)"),
        ("evaluate_empty_test_set", lambda f: run_evaluate(x[:0], y[:0]), ValueError, "received no examples"),
        (
            "evaluate_two_output_model",
            lambda f: evaluate(_two_outputs(), x, y, attacks=[], verbose=0),
            ValueError,
            "one logits output",
        ),
        (
            "evaluate_eps_sweep_nan",
            lambda f: run_evaluate(x, y, eps_sweep=[0.01, float("nan")]),
            ValueError,
            "finite eps",
        ),
    ]
    return [Case(name, "attacks", run, error, phrase) for name, run, error, phrase in cases]


def _objective_cases():
    from hdl_keras.objectives import PGDAdversarialTraining
    from hdl_keras.objectives.robust import robust_cross_entropy
    from hdl_keras.objectives.stable import worst_subset_loss

    x, y = _batch(8)

    def fit(model, x_=x, y_=y, batch_size=8):
        model.compile(optimizer="adam")
        return model.fit(x_, y_, batch_size=batch_size, epochs=1, verbose=0)

    def adversarial(**kwargs):
        base = _mlp()
        return PGDAdversarialTraining.from_model(base, **kwargs)

    cases = [
        ("holistic_rho_nan", lambda f: _holistic(rho=float("nan")), ValueError, "`rho` to be a finite"),
        ("holistic_rho_inf", lambda f: _holistic(rho=float("inf")), ValueError, "`rho` to be a finite"),
        ("holistic_rho_negative", lambda f: _holistic(rho=-1e-3), ValueError, "Expected `rho` in [0.0"),
        (
            "holistic_lambda_nan",
            lambda f: _holistic(sparsity_lambda=float("nan")),
            ValueError,
            "`sparsity_lambda` to be a finite",
        ),
        (
            "holistic_alpha_zero",
            lambda f: _holistic(stability_alpha=0.0),
            ValueError,
            "`stability_alpha` in (0.0, 1.0]",
        ),
        (
            "holistic_alpha_above_one",
            lambda f: _holistic(stability_alpha=1.5),
            ValueError,
            "`stability_alpha` in (0.0, 1.0]",
        ),
        (
            "holistic_alpha_times_batch_below_one",
            lambda f: fit(_holistic(method="Stable", stability_alpha=0.1), batch_size=4),
            ValueError,
            "fewer than one",
        ),
        ("holistic_unknown_method", lambda f: _holistic(method="Robustest"), ValueError, "method must be one of"),
        ("holistic_unknown_norm", lambda f: _holistic(norm="l3"), ValueError, "norm must be one of"),
        ("holistic_fit_labels_out_of_range", lambda f: fit(_holistic(method="DL"), y_=y + 3), ValueError, "in [0, 3)"),
        (
            "holistic_fit_nan_inputs",
            lambda f: fit(_holistic(method="DL"), x_=np.full_like(x, np.nan)),
            ValueError,
            "finite inputs",
        ),
        ("adversarial_eps_nan", lambda f: adversarial(eps=float("nan")), ValueError, "finite number"),
        (
            "adversarial_fit_labels_out_of_range",
            lambda f: fit(adversarial(eps=0.1, steps=1), y_=y + 7),
            ValueError,
            "in [0, 3)",
        ),
        (
            "robust_loss_rho_nan",
            lambda f: robust_cross_entropy(_mlp(), x, y, float("nan")),
            ValueError,
            "`rho` to be a finite",
        ),
        (
            "worst_subset_alpha_nan",
            lambda f: worst_subset_loss(keras.ops.ones((4,)), 0.0, float("nan")),
            ValueError,
            "`alpha` to be a finite",
        ),
    ]
    return [Case(name, "objectives", run, error, phrase) for name, run, error, phrase in cases]


def _data_cases():
    from hdl_keras import data
    from hdl_keras.data import load_csv

    rows = "\n".join(f"{i * 0.1:.2f},{(i * 7) % 5 * 0.13:.3f}" for i in range(10))
    cases = [
        ("csv_without_label_column", lambda f: load_csv(_csv(f, rows)), ValueError, "non-integer numbers"),
        (
            "csv_one_class",
            lambda f: load_csv(_csv(f, "\n".join(f"{i},{i + 1},0" for i in range(10)))),
            ValueError,
            "single class",
        ),
        (
            "csv_one_row_per_class",
            lambda f: load_csv(_csv(f, "\n".join(f"{i * 0.5},{i}" for i in range(10)))),
            ValueError,
            "empty test set",
        ),
        (
            "csv_missing_file",
            lambda f: load_csv(pathlib.Path(f) / "absent.csv"),
            FileNotFoundError,
            "CSV file not found",
        ),
        ("csv_nan_feature", lambda f: load_csv(_csv(f, "1,nan,0\n2,3,1\n3,4,0\n4,5,1")), ValueError, "is not numeric"),
        (
            "csv_unknown_label_name",
            lambda f: load_csv(_csv(f, "a,b\n1,0\n2,1"), label_column="label"),
            ValueError,
            "no column named 'label'",
        ),
        ("unknown_dataset", lambda f: data.load("imagenet"), ValueError, "imagenet"),
    ]
    return [Case(name, "data", run, error, phrase) for name, run, error, phrase in cases]


def _zoo_cases():
    from hdl_keras import zoo
    from hdl_keras.zoo import ZooError
    from hdl_keras.zoo.errors import UnknownEntryError
    from hdl_keras.recipes.zoo_cards import update_card
    from hdl_keras.recipes.zoo_entries import ZooRecipe

    def zoo_cli(folder, *args, broken=False):
        _zoo(folder, broken=broken)
        return _cli("hdl_keras_cli.zoo", *args)

    def bad_card_update(folder):
        _zoo(folder)
        result = {"clean_accuracy": float("nan"), "attacks": {}}
        return update_card("iris-mlp-dl", result, command="hdl-zoo eval iris-mlp-dl")

    def download_from_silent_server(folder):
        root = _zoo(folder)
        (root / "iris-mlp-dl" / "model.keras").unlink()  # the entry must now be downloaded
        url, close = _silent_server()
        env = {
            "HDL_KERAS_ZOO_URL": url,
            "HDL_KERAS_DOWNLOAD_TIMEOUT": "1",
            "HDL_KERAS_DOWNLOAD_RETRIES": "0",
            "HDL_KERAS_ZOO_CACHE": str(pathlib.Path(folder) / "cache"),
            "HDL_KERAS_OFFLINE": "0",
        }
        try:
            return _with_env(env, lambda: zoo.entry_path("iris-mlp-dl"))
        finally:
            close()

    def recipe_without_lr(folder):
        return ZooRecipe(
            name="iris-mlp-dl",
            dataset="iris",
            architecture="mlp",
            method="DL",
            hyperparameters={},
            epochs=1,
            batch_size=8,
            train_examples=None,
            threat_model={"norm": "linf", "eps": 0.1},
            reference={},
            reduced=None,
        )

    cases = [
        (
            "zoo_unknown_entry",
            lambda f: (_zoo(f), zoo.card("iris-mlp-d"))[1],
            UnknownEntryError,
            "Did you mean 'iris-mlp-dl'",
        ),
        (
            "zoo_list_broken_card",
            lambda f: zoo_cli(f, "list", broken=True),
            CliWarning,
            "Skipped the broken zoo entry 'wine-mlp-dl'",
        ),
        (
            "zoo_list_entries_broken_card",
            lambda f: (_zoo(f, broken=True), zoo.list_entries())[1],
            ZooError,
            "is not valid JSON",
        ),
        ("zoo_card_update_with_nan", bad_card_update, ZooError, "invalid zoo card"),
        ("zoo_download_never_answers", download_from_silent_server, ZooError, "did not answer within 1 s"),
        ("zoo_recipe_without_lr", recipe_without_lr, ValueError, "lacks the hyperparameters ['lr']"),
    ]
    return [Case(name, "zoo", run, error, phrase, timeout=60.0) for name, run, error, phrase in cases]


def _cli_cases():
    def zoo_cli(folder, *args):
        _zoo(folder)
        return _cli("hdl_keras_cli.zoo", *args)

    cases = [
        (
            "cli_unknown_backend_help",
            lambda f: _subprocess_cli({"KERAS_BACKEND": "tensorfow"}, "-m", "hdl_keras.zoo", "--help"),
            CliError,
            "KERAS_BACKEND='tensorfow' is not a backend hdl_keras runs on",
        ),
        (
            "cli_unknown_backend_train",
            lambda f: _subprocess_cli({"KERAS_BACKEND": "numpy"}, "-m", "hdl_keras.recipes.cli", "seed"),
            CliError,
            "hdl_keras does not",
        ),
        ("cli_eval_unknown_entry", lambda f: zoo_cli(f, "eval", "iris-mlp-xx"), CliError, "Unknown zoo entry"),
        ("cli_eval_zero_examples", lambda f: zoo_cli(f, "eval", "iris-mlp-dl", "--n", "0"), CliError, "n"),
        (
            "cli_eval_unknown_preset",
            lambda f: zoo_cli(f, "eval", "iris-mlp-dl", "--attacks", "strong"),
            CliError,
            "strong",
        ),
        (
            "cli_list_unknown_dataset",
            lambda f: zoo_cli(f, "list", "--dataset", "imagenet"),
            CliError,
            "Unknown dataset",
        ),
        ("train_unknown_recipe", lambda f: _train_recipe("fastest"), ValueError, "Unknown recipe"),
    ]
    return [Case(name, "cli", run, error, phrase) for name, run, error, phrase in cases]


def _train_recipe(name):
    from hdl_keras.recipes import train_recipe

    return train_recipe(name, "small_cnn", "mnist", epochs=1)


def _layer_and_model_cases():
    from hdl_keras import layers
    from hdl_keras import models

    cases = [
        (
            "small_cnn_grayscale_shape",
            lambda f: models.get("small_cnn", input_shape=(28, 28)),
            ValueError,
            "channels-last image shape",
        ),
        ("mlp_zero_classes", lambda f: models.get("mlp", input_shape=(4,), num_classes=0), ValueError, "num_classes"),
        ("unknown_model", lambda f: models.get("resnet1000"), ValueError, "resnet1000"),
        (
            "quant_dense_unknown_quantizer",
            lambda f: layers.QuantDense(4, kernel_quantizer="septenary"),
            ValueError,
            "septenary",
        ),
    ]
    return [Case(name, "layers", run, error, phrase) for name, run, error, phrase in cases]


def _quantization_and_pruning_cases():
    from hdl_keras import callbacks
    from hdl_keras import layers
    from hdl_keras import pruning
    from hdl_keras import quantizers
    from hdl_keras import saving

    def relax_fit(folder):
        base = layers.to_quantized(_mlp(), "binary")
        base.compile(optimizer="sgd", loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
        x, y = _batch(8)
        return base.fit(x, y, epochs=1, verbose=0, callbacks=[callbacks.BinaryRelax(rho=2.0, switch_epoch=3)])

    def export_relaxed(folder):
        model = layers.to_quantized(_mlp(), "binary")
        quantizers.set_relax_lambda(model, 1.0)
        return saving.export_packed(model, pathlib.Path(folder) / "model.hdlpack")

    cases = [
        (
            "binary_relax_rho_below_one",
            lambda f: callbacks.BinaryRelax(rho=0.5, switch_epoch=2),
            ValueError,
            "`rho` to be finite and >= 1",
        ),
        (
            "binary_relax_switch_epoch_zero",
            lambda f: callbacks.BinaryRelax(rho=2.0, switch_epoch=0),
            ValueError,
            "switch_epoch",
        ),
        ("binary_relax_ends_relaxed", relax_fit, UserWarning, "will end with relaxed float weights"),
        (
            "relax_lambda_nan",
            lambda f: quantizers.set_relax_lambda(layers.to_quantized(_mlp(), "binary"), float("nan")),
            ValueError,
            "number >= 0",
        ),
        ("export_packed_relaxed_model", export_relaxed, ValueError, "relax"),
        (
            "load_packed_garbage",
            lambda f: saving.load_packed(_csv(f, "not a pack", "x.hdlpack")),
            ValueError,
            "hdlpack",
        ),
        ("magnitude_masks_amount_above_one", lambda f: pruning.magnitude_masks(_mlp(), 1.5), ValueError, "amount"),
        ("shrink_negative_tol", lambda f: pruning.shrink(_mlp(), tol=-1.0), ValueError, "tol"),
    ]
    return [Case(name, "quantization_pruning_export", run, error, phrase) for name, run, error, phrase in cases]


def cases():
    """The whole corpus, a list of `Case`."""
    return [
        *_attack_cases(),
        *_evaluate_cases(),
        *_objective_cases(),
        *_data_cases(),
        *_zoo_cases(),
        *_cli_cases(),
        *_layer_and_model_cases(),
        *_quantization_and_pruning_cases(),
    ]


# ----------------------------------------------------------------------------- runner


def _snapshot(folder):
    """sha256 of every card under `folder` (no case may change one)."""
    return {
        path: hashlib.sha256(path.read_bytes()).hexdigest() for path in sorted(pathlib.Path(folder).rglob("*.json"))
    }


def run_case(case, folder):
    """Runs `case` in the scratch `folder`; returns `(outcome, detail)` (see the module doc)."""
    folder = pathlib.Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    saved_zoo = os.environ.get("HDL_KERAS_ZOO_DIR")
    outcome = {}

    def target():
        try:
            with warnings.catch_warnings():
                if issubclass(case.error, Warning):
                    warnings.simplefilter("error", case.error)
                case.run(folder)
            outcome["error"] = None
        except BaseException as error:  # noqa: BLE001  (classified below)
            outcome["error"] = error

    try:
        before = None
        if case.area == "zoo" or case.area == "cli":
            _zoo(folder, broken=case.name.endswith("broken_card"))
            before = _snapshot(folder / "zoo")
        thread = threading.Thread(target=target, daemon=True)
        thread.start()
        thread.join(case.timeout)
        if thread.is_alive():
            return "hangs", f"still running after {case.timeout:g} s"
        if before is not None and _snapshot(folder / "zoo") != before:
            return "corrupted", "a file of the scratch zoo changed"
    finally:
        if saved_zoo is None:
            os.environ.pop("HDL_KERAS_ZOO_DIR", None)
        else:
            os.environ["HDL_KERAS_ZOO_DIR"] = saved_zoo
    error = outcome["error"]
    if error is None:
        return "silent", "no error"
    message = " ".join(str(error).split())
    if isinstance(error, case.error) and case.phrase in message:
        return "clear_error", message
    return "raw_traceback", f"{type(error).__name__}: {message[:500]}"


__all__ = ["Case", "CliError", "CliWarning", "OUTCOMES", "cases", "run_case"]
