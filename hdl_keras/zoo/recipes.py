"""Deprecated: the zoo's training recipes moved to `hdl_keras.recipes.zoo_entries`.

The zoo package only reads entries; its producers live in `hdl_keras.recipes`.
`RECIPES` is now `ENTRY_RECIPES`. Importing this path warns and gives the new
module itself (so code that patches its attributes keeps working). Kept for
one release.
"""

import sys
import warnings

from hdl_keras.recipes import zoo_entries

warnings.warn(
    "hdl_keras.zoo.recipes moved to hdl_keras.recipes.zoo_entries (RECIPES is now ENTRY_RECIPES); "
    "the old path is deprecated and will be removed in the next release.",
    DeprecationWarning,
    stacklevel=2,
)
sys.modules[__name__] = zoo_entries
