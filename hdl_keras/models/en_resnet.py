"""EnResNets: ensembles of noise-injected CIFAR ResNets (Feynman-Kac formalism)."""

import functools
import numbers
import random

import keras

from hdl_keras.layers.ensemble import Ensemble
from hdl_keras.layers.noisy_residual import ResidualNoise
from hdl_keras.layers.noisy_residual import check_stddev
from hdl_keras.models._validation import check_image_shape
from hdl_keras.models._validation import check_positive_int
from hdl_keras.models.resnet import check_resnet_depth
from hdl_keras.models.resnet import resnet_logits


def en_resnet(
    num_members,
    depth,
    input_shape=(32, 32, 3),
    num_classes=10,
    noise_stddev=0.1,
    noise=True,
    seed=None,
    name=None,
):
    """Builds En_nResNet-depth, an ensemble of `n` noise-injected CIFAR ResNets.

    The ResNets ensemble via the Feynman-Kac formalism of Wang et al. (2019),
    as used by Dinh et al. (EnResNet20s pruned with RVSM/RGSM) and Li, Wang
    and Xin (quantized EnResNets). Adding a diffusion term
    `(sigma^2 / 2) * Laplacian(u)` to the transport equation of a ResNet
    regularizes its classifier `u(x, 0)`, which the Feynman-Kac formula
    writes as an expectation over noisy paths; it is approximated by

    1. injecting Gaussian noise into each residual mapping: every
       `basic_block` of the members computes `x + F(x) + sigma * eps` with
       `sigma = noise_stddev * std(x + F(x))` (`ResidualNoise`, the scale of
       the authors' code), on in training and at inference;
    2. averaging the softmax outputs of `num_members` jointly trained
       members (`Ensemble`): the model returns `log(mean_i softmax(z_i))`,
       logits whose softmax is the ensemble average.

    Each member is `resnet(depth)`: post-activation basic blocks with
    parameter-free ("option A") shortcuts, so En_nResNet-d has `n` times the
    trainable parameters of ResNet-d: 0.27 M for En1ResNet20, 0.54 M for
    En2ResNet20 (the papers' "~0.54 M", against 0.56 M for ResNet38),
    1.35 M for En5ResNet20. (The authors' code uses pre-activation blocks
    with 1x1 projection shortcuts.) The layers of member `i` are prefixed
    `member{i}_` (`member1_stage1_block1_conv1`, ...). With one member there
    is no prefix and no `Ensemble` layer: `en_resnet(1, d, noise=False)` is
    the plain ResNet, layer for layer `resnet(d)`.

    Args:
        num_members: `n`, number of ResNets in the ensemble, `>= 1` (the
            papers use 1, 2 and 5).
        depth: depth of each member, `6k + 2` (20, 38, 44, 56, 110, ...).
        input_shape: channels-last image shape. Defaults to `(32, 32, 3)`.
        num_classes: number of output logits. Defaults to `10`.
        noise_stddev: noise coefficient `>= 0`, relative to the standard
            deviation of each block's `x + F(x)`. Defaults to `0.1`, the
            authors' value.
        noise: whether to add the `ResidualNoise` layers. Defaults to `True`;
            `False` gives an ensemble of plain ResNets.
        seed: int seed of the noise (each noise layer gets its own seed drawn
            from it), or `None` (default): random seeds, reproducible under
            `keras.utils.set_random_seed`.
        name: name of the model. Defaults to `"en{num_members}_resnet{depth}"`.

    Returns:
        A functional `keras.Model` mapping `(batch, height, width, channels)`
        images to `(batch, num_classes)` logits. With noise it is randomized:
        two calls on the same input differ (attack it with
        `hdl_keras.attacks.EoT`).

    Examples:
        >>> model = en_resnet(2, 20)
        >>> model.name, model.output_shape
        ('en2_resnet20', (None, 10))

    Reference:
        - [Wang, Yuan, Shi, Osher, ResNets Ensemble via the Feynman-Kac
          Formalism to Improve Natural and Robust Accuracies, NeurIPS
          2019](https://arxiv.org/abs/1811.10745).
        - Dinh, Wang, Bertozzi, Osher, Xin, Sparsity Meets Robustness:
          Channel Pruning for the Feynman-Kac Formalism Principled Robust
          DNNs, sections 2 and 5.
    """
    num_members = check_positive_int(num_members, "num_members")
    depth = check_resnet_depth(depth)
    input_shape = check_image_shape(input_shape)
    num_classes = check_positive_int(num_classes, "num_classes")
    check_stddev(noise_stddev, "noise_stddev")
    if not isinstance(noise, bool):
        raise ValueError(f"Expected `noise` to be a bool. Received: noise={noise!r}")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, numbers.Integral)):
        raise ValueError(f"Expected `seed` to be an int or None. Received: seed={seed!r}")

    block_noise = _noise_layers(noise_stddev, seed) if noise else None
    inputs = keras.Input(shape=input_shape, name="inputs")
    if num_members == 1:
        outputs = resnet_logits(inputs, depth, num_classes, noise=block_noise)
    else:
        member_logits = [
            resnet_logits(inputs, depth, num_classes, noise=block_noise, prefix=f"member{i + 1}_")
            for i in range(num_members)
        ]
        outputs = Ensemble(name="ensemble")(member_logits)
    return keras.Model(inputs, outputs, name=name or f"en{num_members}_resnet{depth}")


def _noise_layers(stddev, seed):
    """A callable `noise(name=...)` returning a new `ResidualNoise` layer."""
    if seed is None:
        return functools.partial(ResidualNoise, stddev)
    seeds = random.Random(int(seed))

    def noise(name):
        return ResidualNoise(stddev, seed=seeds.randint(1, 10**9), name=name)

    return noise


def en1_resnet20(**kwargs):
    """En1ResNet20: one noise-injected ResNet-20 (0.27 M parameters)."""
    return en_resnet(1, 20, **kwargs)


def en2_resnet20(**kwargs):
    """En2ResNet20: two noise-injected ResNet-20s (0.54 M parameters)."""
    return en_resnet(2, 20, **kwargs)


def en5_resnet20(**kwargs):
    """En5ResNet20: five noise-injected ResNet-20s (1.35 M parameters)."""
    return en_resnet(5, 20, **kwargs)


def en1_resnet56(**kwargs):
    """En1ResNet56: one noise-injected ResNet-56 (0.85 M parameters)."""
    return en_resnet(1, 56, **kwargs)


def en2_resnet56(**kwargs):
    """En2ResNet56: two noise-injected ResNet-56s (1.7 M parameters)."""
    return en_resnet(2, 56, **kwargs)
