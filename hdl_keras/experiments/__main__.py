"""`python -m hdl_keras.experiments`: the `hdl-protocol` command."""

from hdl_keras.experiments.cli import main

raise SystemExit(main())
