"""`python -m hdl_keras.zoo`: the `hdl-zoo` command line."""

from hdl_keras.zoo.cli import main

main()
