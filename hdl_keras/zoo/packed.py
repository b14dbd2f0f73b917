"""Deprecated: `add_packed_entry` and `PACKED_ENTRIES` moved to `hdl_keras.recipes.packed_entries`.

The zoo package only reads entries (`hdl_keras.zoo.load` loads packed ones);
its producers live in `hdl_keras.recipes`. `python -m hdl_keras.zoo.packed`
still runs, with a warning; use `python -m hdl_keras.recipes.packed_entries`.
This alias is kept for one release.
"""

import sys

from hdl_keras.utils.moved import moved_names

__getattr__ = moved_names("hdl_keras.zoo.packed", "hdl_keras.recipes.packed_entries")

if __name__ == "__main__":
    sys.exit(__getattr__("main")())
