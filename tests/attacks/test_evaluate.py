"""evaluate and RobustnessReport: accuracies, sizes, costs, flags, input handling."""

import json

import keras
import numpy as np
import pytest
from keras import ops

from hdl_keras.attacks.evaluate import evaluate
from hdl_keras.attacks.fgsm import FGSM
from hdl_keras.attacks.pgd import PGD
from hdl_keras.attacks.report import RobustnessReport
from hdl_keras.attacks.transfer import Transfer
from hdl_keras.testing.toy_models import AlwaysOnNoise

pytestmark = pytest.mark.backend_suite

NUM_FEATURES = 12
NUM_CLASSES = 5


class WeakerWithEps(FGSM):
    """A broken stand-in attack: its step `0.3 - eps` shrinks as eps grows."""

    def perturb(self, x, y):
        _, grad = self.loss_and_grad(x, y)
        return self.project(x + max(0.3 - self.eps, 0.0) * ops.sign(grad), x)


class FakeBlackBox(PGD):
    """A white-box PGD that calls itself black-box: the flag must fire when it wins."""

    black_box = True


def small_mlp(seed=0, noise=None):
    keras.utils.set_random_seed(seed)
    inputs = keras.Input((NUM_FEATURES,))
    hidden = keras.layers.Dense(16, activation="relu")(inputs)
    if noise is not None:
        hidden = AlwaysOnNoise(noise, seed=seed)(hidden)
    return keras.Model(inputs, keras.layers.Dense(NUM_CLASSES)(hidden))


def constant_model(predicted_class=1):
    """Logits independent of the input (their input gradient is exactly zero)."""
    constant = np.eye(NUM_CLASSES, dtype="float32")[predicted_class]

    def logits(t):
        return 0.0 * ops.sum(t, axis=1, keepdims=True) + ops.convert_to_tensor(constant)

    inputs = keras.Input((NUM_FEATURES,))
    return keras.Model(inputs, keras.layers.Lambda(logits)(inputs))


def linear_model(seed=0):
    """Two classes, logits `[0, v.x]`: FGSM is the exact l_inf attack."""
    v = np.random.default_rng(seed).standard_normal(NUM_FEATURES).astype("float32")
    inputs = keras.Input((NUM_FEATURES,))
    layer = keras.layers.Dense(2)
    model = keras.Model(inputs, layer(inputs))
    layer.set_weights([np.stack([np.zeros_like(v), v], axis=1), np.zeros(2, "float32")])
    return model


def predictions(model, x):
    return np.argmax(ops.convert_to_numpy(model(x, training=False)), axis=1)


def dataset(model, size=48, num_wrong=8, seed=0):
    """Inputs in [0, 1] and labels: the model's predictions, the first `num_wrong` shifted."""
    x = np.random.default_rng(seed).random((size, NUM_FEATURES), dtype=np.float32)
    y = predictions(model, x)
    y[:num_wrong] = (y[:num_wrong] + 1) % NUM_CLASSES
    return x, y


def default_attacks(model):
    """FGSM and a PGD started at x itself (no random start), so that PGD refines FGSM's move on every backend."""
    return {
        "fgsm": FGSM(model, eps=0.05),
        "pgd": PGD(model, eps=0.05, step_size=0.02, steps=3, random_start=False, seed=0),
    }


OPTIONS = dict(batch_size=16, eps_sweep=[0.02, 0.1], verbose=0)


@pytest.fixture(scope="module")
def setup():
    model = small_mlp()
    x, y = dataset(model)
    report = evaluate(model, x, y, attacks=default_attacks(model), **OPTIONS)
    return model, x, y, report


def test_report_fields_match_a_manual_evaluation(setup):
    model, x, y, report = setup
    clean_correct = predictions(model, x) == y
    assert report.num_examples == 48
    np.testing.assert_array_equal(report.clean_correct, clean_correct)
    assert report.clean_accuracy == pytest.approx(40 / 48)
    x_adv = ops.convert_to_numpy(FGSM(model, eps=0.05)(x, y))  # deterministic
    fooled = predictions(model, x_adv) != y
    fgsm = report.attacks["fgsm"]
    np.testing.assert_array_equal(fgsm.success, clean_correct & fooled)
    assert fgsm.accuracy == pytest.approx(np.mean(clean_correct & ~fooled))
    delta = (x_adv - x).astype("float64")
    assert fgsm.linf_mean == pytest.approx(np.abs(delta).max(axis=1).mean(), rel=1e-5)
    assert fgsm.l2_max == pytest.approx(np.linalg.norm(delta, axis=1).max(), rel=1e-5)
    assert fgsm.linf_max <= 0.05 + 1e-6
    assert (fgsm.eps, fgsm.norm, fgsm.black_box) == (0.05, "linf", False)
    assert fgsm.queries == 1.0  # one gradient evaluation
    assert report.attacks["pgd"].queries == 3.0  # steps * restarts gradient evaluations
    assert all(result.seconds > 0 for result in report.attacks.values())
    strongest = min(report.attacks, key=lambda name: report.attacks[name].accuracy)
    assert report.eps_sweep["attack"] == strongest
    accuracies = report.eps_sweep["accuracy"]
    assert report.clean_accuracy >= accuracies[0] >= accuracies[1]
    assert accuracies[1] < report.clean_accuracy
    assert (report.unbounded_accuracy, report.randomized) == (None, False)
    assert report.flags == []


def test_worst_case_is_at_most_each_attack_and_each_attack_at_most_clean(setup):
    _, _, _, report = setup
    successes = np.stack([result.success for result in report.attacks.values()])
    np.testing.assert_array_equal(report.robust, report.clean_correct & ~successes.any(axis=0))
    assert report.worst_case_accuracy == pytest.approx(report.robust.mean())
    for result in report.attacks.values():
        assert report.worst_case_accuracy <= result.accuracy <= report.clean_accuracy
    assert report.attacks["pgd"].accuracy < report.clean_accuracy


def test_json_round_trip_and_markdown_rows(setup):
    _, _, _, report = setup
    text = report.to_json()
    assert json.loads(text)["attacks"]["pgd"]["queries"] == 3.0
    restored = RobustnessReport.from_json(text)
    assert restored == report
    assert restored.attacks["fgsm"].success.dtype == bool
    markdown = report.to_markdown()
    assert "| attack | accuracy | mean l_inf | mean l_2 | queries | seconds |" in markdown
    for name in ("clean", "fgsm", "pgd", "worst case", "0.02", "0.1"):
        assert f"| {name} |" in markdown
    assert "Flags: none" in markdown


def test_a_constant_model_is_flagged_by_the_eps_sweep_and_the_unbounded_check():
    model = constant_model(predicted_class=1)
    x = np.random.default_rng(1).random((16, NUM_FEATURES), dtype=np.float32)
    y = np.arange(16) % NUM_CLASSES  # a fifth of the labels are the predicted class
    report = evaluate(
        model,
        x,
        y,
        attacks=[FGSM(model, eps=0.05)],
        eps_sweep=[0.3, 0.02],
        check_unbounded=True,
        verbose=0,
    )
    assert report.eps_sweep == {
        "attack": "FGSM",
        "eps": [0.02, 0.3],  # sorted
        "accuracy": [report.clean_accuracy] * 2,
    }
    assert report.unbounded_accuracy == report.clean_accuracy > 0.01
    codes = [flag["code"] for flag in report.flags]
    assert codes == ["eps_sweep_flat", "unbounded_not_zero"]
    markdown = report.to_markdown()
    assert "eps_sweep_flat" in markdown and "| 0.3 |" in markdown


def test_an_exact_attack_on_a_linear_model_raises_no_flag():
    model = linear_model()
    x = np.random.default_rng(2).random((32, NUM_FEATURES), dtype=np.float32)
    y = predictions(model, x)
    report = evaluate(
        model,
        x,
        y,
        attacks={"fgsm": FGSM(model, eps=0.05)},
        eps_sweep=[0.02, 0.1, 0.3],
        check_unbounded=True,
        verbose=0,
    )
    accuracies = report.eps_sweep["accuracy"]
    assert accuracies[0] >= accuracies[1] >= accuracies[2] and accuracies[2] < accuracies[0]
    assert report.unbounded_accuracy == 0.0
    assert report.flags == []


def test_accuracy_rising_with_eps_is_flagged():
    model = linear_model()
    x = np.random.default_rng(2).random((32, NUM_FEATURES), dtype=np.float32)
    y = predictions(model, x)
    attacks = [WeakerWithEps(model, eps=0.1)]
    report = evaluate(model, x, y, attacks=attacks, eps_sweep=[0.05, 0.3], verbose=0)
    accuracies = report.eps_sweep["accuracy"]
    assert accuracies[0] < accuracies[1] == report.clean_accuracy
    codes = [flag["code"] for flag in report.flags]
    assert codes == ["eps_sweep_not_monotone", "eps_sweep_flat"]


def test_a_randomized_model_is_flagged_and_its_attacks_wrapped_in_eot():
    model = small_mlp(noise=0.5)
    x = np.random.default_rng(3).random((16, NUM_FEATURES), dtype=np.float32)
    y = np.arange(16) % NUM_CLASSES
    attacks = {"pgd": PGD(model, eps=0.05, step_size=0.02, steps=2, seed=0)}
    report = evaluate(model, x, y, attacks=attacks, verbose=0)
    assert report.randomized
    assert [flag["code"] for flag in report.flags] == ["randomized_model"]
    assert "EoT" in report.flags[0]["message"]
    attacks = {"pgd": PGD(model, eps=0.05, step_size=0.02, steps=2, seed=0)}
    wrapped = evaluate(model, x, y, attacks=attacks, eot_samples=2, verbose=0)
    assert wrapped.attacks["pgd"].queries == 2 * 2  # steps * EoT draws
    assert "EoT(model, samples=2)" in wrapped.flags[0]["message"]
    assert type(attacks["pgd"]) is PGD  # the caller's attack is not modified


def test_a_black_box_attack_beating_every_white_box_attack_is_flagged():
    model = small_mlp()
    x, y = dataset(model, size=32, num_wrong=0)
    attacks = {
        "weak white-box": FGSM(model, eps=0.001),
        "black-box": FakeBlackBox(model, eps=0.2, step_size=0.1, steps=3, seed=0),
    }
    report = evaluate(model, x, y, attacks=attacks, verbose=0)
    assert report.attacks["black-box"].black_box
    assert report.attacks["black-box"].accuracy < report.attacks["weak white-box"].accuracy
    assert [flag["code"] for flag in report.flags] == ["black_box_stronger"]
    assert "black-box" in report.flags[0]["message"]


def test_fgsm_beating_an_iterative_attack_is_flagged():
    # PGD whose 2 steps of 1e-4 cannot leave the start's neighbourhood, against FGSM's full step.
    model = small_mlp()
    x, y = dataset(model, size=32, num_wrong=0)
    attacks = {
        "fgsm": FGSM(model, eps=0.3),
        "stuck pgd": PGD(model, eps=0.3, step_size=1e-4, steps=2, random_start=False, seed=0),
    }
    report = evaluate(model, x, y, attacks=attacks, verbose=0)
    assert (report.attacks["fgsm"].steps, report.attacks["stuck pgd"].steps) == (1, 2)
    assert report.attacks["fgsm"].accuracy < report.attacks["stuck pgd"].accuracy
    assert [flag["code"] for flag in report.flags] == ["single_step_stronger"]
    assert "fgsm" in report.flags[0]["message"] and "stuck pgd" in report.flags[0]["message"]
    assert RobustnessReport.from_json(report.to_json()).attacks["fgsm"].steps == 1


def test_a_transfer_attack_reports_zero_queries_and_no_flag_when_weaker():
    model, source = small_mlp(seed=0), small_mlp(seed=1)
    x, y = dataset(model, size=32, num_wrong=0)
    attacks = {
        "pgd": PGD(model, eps=0.2, step_size=0.1, steps=3, seed=0),
        "transfer": Transfer(PGD(source, eps=0.2, step_size=0.1, steps=3, seed=0)),
    }
    report = evaluate(model, x, y, attacks=attacks, verbose=0)
    assert report.attacks["transfer"].queries == 0.0
    assert report.attacks["transfer"].accuracy >= report.attacks["pgd"].accuracy
    assert report.flags == []


def without_times(report):
    values = report.to_dict()
    for result in values["attacks"].values():
        del result["seconds"]
    return values


@pytest.mark.parametrize("container", ["generator", "list"])
def test_batches_give_the_same_report_as_arrays(setup, container):
    model, x, y, reference = setup
    batches = [(x[i : i + 16], y[i : i + 16]) for i in range(0, len(x), 16)]
    if container == "generator":  # one pass only: cached for the eps sweep
        batches = (batch for batch in batches)
    report = evaluate(model, batches, attacks=default_attacks(model), **OPTIONS)
    assert without_times(report) == without_times(reference)


def test_progress_bar_only_when_verbose(capsys):
    model = small_mlp()
    x, y = dataset(model, size=16)
    evaluate(model, x, y, attacks=[FGSM(model, eps=0.05)], verbose=0)
    assert capsys.readouterr().out == ""
    evaluate(model, x, y, attacks=[FGSM(model, eps=0.05)], verbose=1)
    assert "clean_acc" in capsys.readouterr().out


def test_a_list_of_attacks_is_named_by_class():
    model = small_mlp()
    x, y = dataset(model, size=16)
    attacks = [FGSM(model, eps=0.01), FGSM(model, eps=0.05)]
    report = evaluate(model, x, y, attacks=attacks, verbose=0)
    assert list(report.attacks) == ["FGSM", "FGSM_2"]
    assert report.attacks["FGSM_2"].eps == 0.05


@pytest.mark.parametrize(
    "changes, message",
    [
        (lambda x, y, m: {"y": y[:-1]}, "same number of examples"),
        (lambda x, y, m: {"y": y + NUM_CLASSES}, r"labels must be in \[0, 5\)"),
        (lambda x, y, m: {"y": y.astype("float32")}, "int class labels"),
        (lambda x, y, m: {"y": np.eye(NUM_CLASSES, dtype=int)[y]}, "shape"),
        (lambda x, y, m: {"x": x * 2.0 + 0.5}, "bounds"),
        (lambda x, y, m: {"attacks": {}}, "at least one attack"),
        (lambda x, y, m: {"attacks": [m]}, "Attack instances"),
        (lambda x, y, m: {"attacks": FGSM(m)}, "dict name -> Attack"),
        (lambda x, y, m: {"attacks": [FGSM(m, targeted=True)]}, "untargeted"),
        (lambda x, y, m: {"y": None}, "iterable of"),
        (lambda x, y, m: {"x": [x], "y": None}, "pair"),
        (lambda x, y, m: {"x": x[:0], "y": y[:0]}, "no examples"),
        (lambda x, y, m: {"batch_size": 0}, "batch_size"),
        (lambda x, y, m: {"eps_sweep": [-0.1]}, "eps_sweep"),
        (lambda x, y, m: {"eot_samples": 0}, "eot_samples"),
        (
            lambda x, y, m: {"attacks": [Transfer(FGSM(m))], "check_unbounded": True},
            "white-box",
        ),
    ],
)
def test_bad_inputs_are_rejected_with_clear_errors(changes, message):
    model = small_mlp()
    x, y = dataset(model, size=8, num_wrong=0)
    kwargs = dict(x=x, y=y, attacks=[FGSM(model, eps=0.05)], verbose=0)
    kwargs.update(changes(x, y, model))
    with pytest.raises(ValueError, match=message):
        evaluate(model, **kwargs)
