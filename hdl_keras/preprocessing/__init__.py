"""Preprocessing configurations of the training-techniques report, as Keras pieces.

The report (Li, Narey, Gauher, Appachi Senthilkumar, "Investigating the Effects
of Training Techniques on Classification Robustness") names each training
configuration by three letters, balancing / augmentation / Gaussian noise,
from `FFF` to `TTT`:

- `balance_classes`: translated and rescaled copies (Keras `RandomTranslation`
  and `RandomZoom`) of under-represented classes until every class has as many
  examples as the largest;
- `training_pipeline`: per-image random crop (zero padding then crop, i.e.
  `RandomTranslation`), horizontal `RandomFlip` (off for digits) and
  `GaussianNoise`, a `keras.Sequential` active only with `training=True`;
- `Preprocessing.from_code("TTF")` and `preprocessed_batches`, which apply a
  configuration to a training set and return a `keras.utils.PyDataset` for
  `model.fit`;
- `augmentation` and `AugmentedBatches`: the training recipes' random crop
  and flip (`hdl_keras.recipes` uses them).
"""

from hdl_keras.preprocessing.augmentation import AugmentedBatches
from hdl_keras.preprocessing.augmentation import augmentation
from hdl_keras.preprocessing.balancing import balance_classes
from hdl_keras.preprocessing.pipeline import NOISE_STDDEV
from hdl_keras.preprocessing.pipeline import Preprocessing
from hdl_keras.preprocessing.pipeline import all_codes
from hdl_keras.preprocessing.pipeline import preprocessed_batches
from hdl_keras.preprocessing.pipeline import training_pipeline

__all__ = [
    "AugmentedBatches",
    "NOISE_STDDEV",
    "Preprocessing",
    "all_codes",
    "augmentation",
    "balance_classes",
    "preprocessed_batches",
    "training_pipeline",
]
