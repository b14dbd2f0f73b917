"""The bad-input corpus (`hdl_keras.testing.bad_inputs`): every case is a clear error."""

import pytest

from hdl_keras.testing import bad_inputs

CASES = bad_inputs.cases()


def test_the_corpus_covers_every_area():
    assert len(CASES) >= 60
    assert len({case.name for case in CASES}) == len(CASES)
    assert {case.area for case in CASES} == {
        "attacks",
        "objectives",
        "data",
        "zoo",
        "cli",
        "layers",
        "quantization_pruning_export",
    }


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_bad_input_is_a_clear_error(case, tmp_path):
    outcome, detail = bad_inputs.run_case(case, tmp_path)
    assert (outcome, case.error.__name__) == ("clear_error", case.error.__name__), detail
    assert case.phrase in detail
