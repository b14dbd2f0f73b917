import numpy as np
import pytest

from hdl_keras.data import available_datasets
from hdl_keras.data import load
from hdl_keras.data import load_iris

NAMES = ["mnist", "fashion_mnist", "cifar10", "iris", "wine", "breast_cancer", "digits"]


def test_available_datasets():
    assert available_datasets() == NAMES


def test_unknown_name_lists_the_known_ones():
    with pytest.raises(ValueError, match="Unknown dataset: 'mnsit'") as info:
        load("mnsit")
    for name in NAMES:
        assert name in str(info.value)


def test_load_passes_keyword_arguments():
    (x_train, y_train), (x_test, _) = load("iris", test_fraction=0.4, seed=3)
    (expected_train, expected_labels), _ = load_iris(test_fraction=0.4, seed=3)
    assert x_test.shape == (60, 4)
    np.testing.assert_array_equal(x_train, expected_train)
    np.testing.assert_array_equal(y_train, expected_labels)
