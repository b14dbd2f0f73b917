"""Shared test helpers: serialization round trips and cross-backend parity."""

from hdl_keras.testing.serialization import assert_config_round_trip
from hdl_keras.testing.serialization import assert_saved_model_round_trip

__all__ = ["assert_config_round_trip", "assert_saved_model_round_trip"]
