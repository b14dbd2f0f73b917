"""Deprecated: the zoo's training recipes moved to `hdl_keras.recipes.zoo_entries`.

The zoo package only reads entries; its producers live in `hdl_keras.recipes`.
`RECIPES` is now `ENTRY_RECIPES`. This alias is kept for one release.
"""

from hdl_keras.utils.moved import moved_names

__getattr__ = moved_names("hdl_keras.zoo.recipes", "hdl_keras.recipes.zoo_entries", renamed={"RECIPES": "ENTRY_RECIPES"})
