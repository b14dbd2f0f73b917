import os

import keras
import numpy as np
import pytest

from hdl_keras import models
from hdl_keras.layers import Ensemble
from hdl_keras.layers import ResidualNoise
from hdl_keras.models import en_resnet
from hdl_keras.models import resnet
from hdl_keras.testing import assert_config_round_trip

# Tiny EnResNets (depth 8, 8x8 images) keep the backend-suite tests fast.
TINY = {"depth": 8, "input_shape": (8, 8, 3), "num_classes": 4}


def numpy(x):
    return keras.ops.convert_to_numpy(x)


def trainable_param_count(model):
    return sum(int(np.prod(weight.shape)) for weight in model.trainable_weights)


def images(batch=2, shape=(8, 8, 3)):
    return np.random.default_rng(1).random((batch, *shape), dtype="float32")


def noise_layers(model):
    return [layer for layer in model.layers if isinstance(layer, ResidualNoise)]


# Trainable parameters quoted by the papers: En2ResNet20 "~0.54 M" and ResNet38
# "~0.56 M" (Dinh et al., section 5.1), En1ResNet20 0.27 M and En2ResNet20
# 0.54 M (Li, Wang, Xin, Table II); an ensemble has n times ResNet-d's count.
@pytest.mark.parametrize(
    "num_members, depth, noise, paper",
    [(1, 20, True, 0.27e6), (2, 20, True, 0.54e6), (1, 38, False, 0.56e6)],
)
def test_parameter_counts_match_the_papers(num_members, depth, noise, paper):
    model = en_resnet(num_members, depth, noise=noise)
    count = trainable_param_count(model)
    assert count == pytest.approx(paper, rel=0.01)
    assert count == num_members * trainable_param_count(resnet(depth))


def test_parameter_count_of_en5_resnet20():
    assert trainable_param_count(models.get("en5_resnet20")) == 5 * 269_722


@pytest.mark.parametrize("depth", [20, 56])
def test_one_plain_member_is_the_plain_resnet(depth):
    config = en_resnet(1, depth, noise=False, name="net").get_config()
    assert config == resnet(depth, name="net").get_config()


def test_architecture_of_en2_resnet20():
    model = en_resnet(2, 20, seed=0)
    assert model.name == "en2_resnet20"
    assert isinstance(model.layers[-1], Ensemble)
    noise = noise_layers(model)
    assert len(noise) == 2 * 9  # one per basic block of each member
    assert noise[0].name == "member1_stage1_block1_noise"
    assert noise[-1].name == "member2_stage3_block3_noise"
    assert {(layer.stddev, layer.relative, layer.always_on) for layer in noise} == {(0.1, True, True)}
    assert len({layer.seed for layer in noise}) == len(noise)
    # The noise acts on shortcut + F(x), before the block's last ReLU.
    add = model.get_layer("member1_stage2_block1_add")
    assert model.get_layer("member1_stage2_block1_noise").input is add.output
    assert model.get_layer("member1_stage3_block1_out").output.shape == (None, 8, 8, 64)
    assert not noise_layers(en_resnet(2, 20, noise=False))


def test_seeded_models_are_identical():
    first, second = en_resnet(2, seed=7, **TINY), en_resnet(2, seed=7, **TINY)
    assert [layer.seed for layer in noise_layers(first)] == [layer.seed for layer in noise_layers(second)]
    assert [layer.seed for layer in noise_layers(en_resnet(2, seed=8, **TINY))] != [
        layer.seed for layer in noise_layers(first)
    ]


@pytest.mark.backend_suite
@pytest.mark.parametrize("training", [True, False])
def test_noise_is_on_in_training_and_inference(training):
    model = en_resnet(2, seed=0, **TINY)
    x = images()
    first = numpy(model(x, training=training))
    second = numpy(model(x, training=training))
    assert not np.allclose(first, second)


@pytest.mark.backend_suite
@pytest.mark.parametrize("kwargs", [{"noise": False}, {"noise_stddev": 0.0}])
def test_switched_off_noise_gives_equal_passes(kwargs):
    model = en_resnet(2, **TINY, **kwargs)
    x = images()
    np.testing.assert_array_equal(numpy(model(x)), numpy(model(x)))


@pytest.mark.backend_suite
def test_output_is_the_log_of_the_mean_member_softmax():
    model = en_resnet(3, noise=False, **TINY)
    x = images(batch=4)
    members = [keras.Model(model.input, model.get_layer(f"member{i}_logits").output) for i in (1, 2, 3)]
    mean_probs = np.mean([numpy(keras.ops.softmax(member(x), axis=-1)) for member in members], axis=0)
    output = numpy(model(x))
    np.testing.assert_allclose(np.exp(output), mean_probs, atol=1e-6)


@pytest.mark.backend_suite
def test_config_round_trip_keeps_the_noise_settings():
    model = en_resnet(2, noise_stddev=0.2, seed=3, **TINY)
    rebuilt = assert_config_round_trip(model)
    assert [layer.get_config() for layer in noise_layers(rebuilt)] == [
        layer.get_config() for layer in noise_layers(model)
    ]


@pytest.mark.backend_suite
def test_saved_model_keeps_the_noise_settings_and_stream(tmp_path):
    model = en_resnet(2, seed=3, **TINY)
    x = images()
    first = numpy(model(x))
    path = os.path.join(str(tmp_path), "en_resnet.keras")
    model.save(path)
    loaded = keras.saving.load_model(path)
    assert [layer.get_config() for layer in noise_layers(loaded)] == [
        layer.get_config() for layer in noise_layers(model)
    ]
    # Seeded noise layers restart their stream: the loaded model's first pass
    # is the original's first pass; the next one draws new noise.
    np.testing.assert_allclose(numpy(loaded(x)), first, atol=1e-6)
    assert not np.allclose(numpy(loaded(x)), first)


def test_registered_names():
    names = models.available_models()
    for name in ["en1_resnet20", "en2_resnet20", "en5_resnet20", "en1_resnet56", "en2_resnet56"]:
        assert name in names
    model = models.get("en2_resnet20", num_classes=100, name="cifar100")
    assert model.name == "cifar100"
    assert model.output_shape == (None, 100)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"num_members": 0}, "num_members=0"),
        ({"num_members": 2.0}, "num_members=2.0"),
        ({"depth": 21}, "depth=21"),
        ({"input_shape": (32, 32)}, "input_shape"),
        ({"num_classes": 0}, "num_classes=0"),
        ({"noise_stddev": -1.0}, "noise_stddev=-1.0"),
        ({"noise_stddev": None}, "noise_stddev=None"),
        ({"noise": "yes"}, "noise='yes'"),
        ({"seed": "0"}, "seed='0'"),
    ],
)
def test_bad_arguments_raise(kwargs, match):
    arguments = {"num_members": 2, "depth": 20, **kwargs}
    with pytest.raises(ValueError, match=match):
        en_resnet(**arguments)
