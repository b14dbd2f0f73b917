import keras
import numpy as np
import pytest

from hdl_keras.preprocessing import Preprocessing
from hdl_keras.preprocessing import all_codes
from hdl_keras.preprocessing import balance_classes
from hdl_keras.preprocessing import preprocessed_batches
from hdl_keras.preprocessing import training_pipeline


def images(num, size=12, seed=0):
    """Images with one bright 2x2 square at a random place, zeros elsewhere."""
    rng = np.random.default_rng(seed)
    x = np.zeros((num, size, size, 1), dtype="float32")
    for n, (i, j) in enumerate(rng.integers(3, size - 5, (num, 2))):
        x[n, i : i + 2, j : j + 2] = 1.0
    return x


def test_balancing_equalizes_counts_and_keeps_originals():
    x = images(60)
    y = np.array([0] * 30 + [1] * 24 + [2] * 6)
    x_bal, y_bal = balance_classes(x, y, seed=0)
    np.testing.assert_array_equal(np.bincount(y_bal), [30, 30, 30])
    np.testing.assert_array_equal(x_bal[:60], x)
    # The copies are moved or rescaled: none equals its source image exactly.
    copies = x_bal[60:]
    assert copies.shape == (30, 12, 12, 1)
    assert not any(np.array_equal(copy, original) for copy in copies for original in x[y != 0])


def test_balancing_rejects_bad_shapes():
    with pytest.raises(ValueError, match="x of shape"):
        balance_classes(np.zeros((4, 12)), np.zeros(4, dtype=int))


def test_crop_is_drawn_per_image():
    x = np.repeat(images(1), 64, axis=0)
    out = keras.ops.convert_to_numpy(
        training_pipeline(x.shape[1:], augment=True, noise=False, padding=2, seed=0)(x, training=True)
    )
    centres = {tuple(np.argwhere(image[..., 0] > 0.5).mean(axis=0)) for image in out}
    assert len(centres) > 5  # one shift per image, not one per batch
    assert np.allclose(out.sum(axis=(1, 2, 3)) % 1.0, 0.0)  # pixels moved, not interpolated
    identity = training_pipeline(x.shape[1:], noise=False, seed=0)(x, training=False)
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(identity), x)


def test_no_flip_for_digits():
    # A bar on the left edge: a crop of up to 2 pixels never moves it past the middle,
    # a horizontal flip would.
    x = np.zeros((256, 12, 12, 1), dtype="float32")
    x[:, :, 0] = 1.0
    out = keras.ops.convert_to_numpy(
        training_pipeline((12, 12, 1), noise=False, padding=2, flip=False, seed=0)(x, training=True)
    )
    assert out[:, :, 6:].sum() == 0.0
    flipped = keras.ops.convert_to_numpy(
        training_pipeline((12, 12, 1), noise=False, padding=2, flip=True, seed=0)(x, training=True)
    )
    assert flipped[:, :, 6:].sum() > 0.0


def test_noise_statistics():
    x = np.full((64, 12, 12, 1), 0.5, dtype="float32")
    out = keras.ops.convert_to_numpy(
        training_pipeline((12, 12, 1), augment=False, noise_stddev=0.1, seed=0)(x, training=True)
    )
    noise = (out - x).ravel()
    assert abs(noise.mean()) < 0.005  # 9216 draws: standard error 0.001
    assert abs(noise.std() - 0.1) < 0.005
    assert abs(np.mean(np.abs(noise) < 0.1) - 0.6827) < 0.03


def test_codes():
    assert all_codes()[0] == "FFF" and all_codes()[-1] == "TTT" and len(all_codes()) == 8
    assert Preprocessing.from_code("TFT") == Preprocessing(True, False, True)
    assert Preprocessing.from_code("FTF").code == "FTF"
    with pytest.raises(ValueError, match="three letters"):
        Preprocessing.from_code("TT")


def test_preprocessed_batches_balance_and_transform():
    x = images(40)
    y = np.array([0] * 30 + [1] * 10)
    plain = preprocessed_batches("FFF", x, y, batch_size=8, seed=0)
    assert len(plain.x) == 40 and plain.augment is None
    full = preprocessed_batches("TTT", x, y, batch_size=8, seed=0)
    assert np.bincount(full.y).tolist() == [30, 30]
    x_batch, y_batch = full[0]
    assert x_batch.shape == (8, 12, 12, 1) and y_batch.shape == (8,)
    assert np.any((x_batch > 0) & (x_batch < 1))  # noise added
