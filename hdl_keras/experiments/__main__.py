"""`python -m hdl_keras.experiments`: the `hdl-protocol` command (`hdl_keras_cli.protocol`)."""

from hdl_keras_cli.protocol import main

raise SystemExit(main())
