"""`python -m hdl_keras_cli`: the `hdl` command."""

from hdl_keras_cli.app import main

raise SystemExit(main())
