"""Agreement checks: numbers within tolerance, labels equal except near ties, NaN refused."""

from __future__ import annotations

import numpy as np
import pytest

from lambdaserve.modelkit.errors import ModelKitError
from lambdaserve.modelkit.validation import check_finite, compare, row_list


def test_numbers_within_tolerance_pass_and_others_name_rows_and_size() -> None:
    want = np.arange(10, dtype=np.float64).reshape(-1, 1)
    got = want.astype(np.float32) + 1e-6
    compare({"prediction": got}, {"prediction": want}, rtol=1e-4, atol=1e-4)
    got[3] += 0.5
    got[7] += 2.0
    with pytest.raises(ModelKitError) as caught:
        compare({"prediction": got}, {"prediction": want}, rtol=1e-4, atol=1e-4)
    message = caught.value.message
    assert "on 2 of 10 sample rows" in message and "max difference 2 on row 7" in message
    assert "rows 3, 7" in message


def test_labels_may_differ_only_where_the_source_is_torn() -> None:
    proba = np.asarray([[0.5, 0.5], [0.9, 0.1], [0.50001, 0.49999]])
    want = {"label": np.asarray([0, 0, 0]), "probabilities": proba}
    compare({"label": np.asarray([1, 0, 1]), "probabilities": proba}, want, rtol=0, atol=1e-6)
    with pytest.raises(ModelKitError, match=r"in 'label' on 1 of 3 sample rows: row 1 is \[1\]"):
        compare({"label": np.asarray([0, 1, 0]), "probabilities": proba}, want, rtol=0, atol=1e-6)


def test_missing_outputs_and_shapes_are_refused() -> None:
    with pytest.raises(ModelKitError, match="has no output 'prediction'"):
        compare({}, {"prediction": np.zeros(3)}, rtol=0, atol=0)
    with pytest.raises(ModelKitError, match="has shape"):
        compare({"p": np.zeros(3)}, {"p": np.zeros(4)}, rtol=0, atol=0)


def test_non_finite_outputs_are_refused() -> None:
    check_finite({"label": np.asarray([1, 2])}, "m")
    values = np.ones((5, 2))
    values[2, 1] = np.inf
    with pytest.raises(ModelKitError, match=r"'p' on 1 of 5 sample rows \(row 2\)"):
        check_finite({"p": values}, "m")


def test_row_lists_stay_short() -> None:
    assert row_list(np.arange(20)) == "rows 0, 1, 2, 3, 4, 5, 6, 7 (+12 more)"
