import keras
import numpy as np
import pytest
from keras import ops

from hdl_keras.attacks import Attack
from hdl_keras.attacks import RobustnessReport
from hdl_keras.attacks import evaluate
from hdl_keras.attacks import most_confused_pairs
from hdl_keras.attacks import plot_confusion_matrix


class ShiftFeatures(Attack):
    """Moves each feature to the next index: the identity model then predicts class + 1 (mod 3)."""

    def perturb(self, x, y):
        del y
        return ops.roll(x, 1, axis=-1)


def identity_model():
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(3, use_bias=False)])
    model.layers[-1].set_weights([np.eye(3, dtype="float32")])
    return model


X = np.array([[1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 0, 0], [0, 1, 0]], dtype="float32")
Y = np.array([0, 1, 2, 1, 1])


def report():
    model = identity_model()
    return evaluate(model, X, Y, attacks={"shift": ShiftFeatures(model, eps=1.0)}, verbose=0)


def test_confusion_matrices_count_labels_against_predictions():
    result = report()
    # Clean predictions 0, 1, 2, 0, 1; under the shift 1, 2, 0, 1, 2.
    np.testing.assert_array_equal(result.confusion_matrix(), [[1, 0, 0], [1, 2, 0], [0, 0, 1]])
    np.testing.assert_array_equal(result.confusion_matrix("shift"), [[0, 1, 0], [0, 1, 2], [1, 0, 0]])
    assert np.trace(result.confusion_matrix()) == round(result.clean_accuracy * len(Y))
    assert most_confused_pairs(result.confusion_matrix("shift"), top=2) == [(1, 2, 2), (0, 1, 1)]


def test_confusion_matrices_survive_json_and_reject_unknown_attacks():
    result = report()
    loaded = RobustnessReport.from_json(result.to_json())
    np.testing.assert_array_equal(loaded.confusion_matrix("shift"), result.confusion_matrix("shift"))
    with pytest.raises(ValueError, match="Unknown attack"):
        result.confusion_matrix("pgd")


def test_reports_without_predictions_say_so():
    values = report().to_dict()
    del values["labels"], values["clean_predictions"], values["num_classes"]
    for attack in values["attacks"].values():
        del attack["predictions"]
    with pytest.raises(ValueError, match="re-run evaluate"):
        RobustnessReport.from_dict(values).confusion_matrix()


def test_plot_draws_every_count():
    pytest.importorskip("matplotlib")
    import matplotlib

    matplotlib.use("Agg")
    ax = plot_confusion_matrix(np.array([[3, 1], [0, 4]]), title="clean")
    assert [text.get_text() for text in ax.texts] == ["3", "1", "0", "4"]
    assert ax.get_title() == "clean"
