"""`python -m hdl_keras.zoo`: the `hdl-zoo` command line (`hdl_keras_cli.zoo`)."""

from hdl_keras_cli.zoo import main

raise SystemExit(main())
