"""Sample rows: generated from the input spec, or read from a holdout CSV."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from lambdaserve.modelkit.errors import ModelKitError
from lambdaserve.modelkit.samples import generated, read_holdout
from lambdaserve.repository import TensorSpec


def test_generated_rows_follow_each_input_spec_and_repeat() -> None:
    specs = (
        TensorSpec("x", "FP32", (-1, 4)),
        TensorSpec("ids", "INT64", (-1, 2)),
        TensorSpec("text", "BYTES", (-1,)),
    )
    feeds = generated(specs, rows=5)
    assert feeds["x"].shape == (5, 4) and feeds["x"].dtype == np.float32
    assert feeds["ids"].dtype == np.int64 and feeds["text"].dtype == object
    np.testing.assert_array_equal(generated(specs, rows=5)["x"], feeds["x"])


def test_dynamic_inner_dimensions_need_a_holdout() -> None:
    with pytest.raises(ModelKitError, match="give --holdout rows"):
        generated((TensorSpec("seq", "FP32", (-1, -1)),))


def test_holdout_by_feature_name_in_any_order(tmp_path: Path) -> None:
    path = tmp_path / "h.csv"
    path.write_text("b,target,a\n2,yes,1\n4,no,3\n")
    holdout = read_holdout(path, 2, ("a", "b"), "target")
    np.testing.assert_array_equal(holdout.rows, [[1, 2], [3, 4]])
    assert holdout.targets == ("yes", "no")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a,b\n", "needs a header line and at least one row"),
        ("a,target\n1,0\n", "has 1 feature columns, the model takes 2"),
        ("a,b,target\n1,x,0\n", "line 2: 'b' is not a number: 'x'"),
        ("a,b,target\n1,nan,0\n", "line 2: 'b' is not finite"),
        ("a,b,target\n1,2\n", "line 2: 2 fields, header has 3"),
    ],
)
def test_bad_holdouts_are_one_line(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "h.csv"
    path.write_text(text)
    with pytest.raises(ModelKitError, match=message):
        read_holdout(path, 2, (), "target")
