"""`--snapstart`: which functions init as SnapStart does (the runtime client reads the type)."""

from __future__ import annotations

from pathlib import Path

import pytest

from lambdaserve.local import template
from lambdaserve.local.runtime import LocalLambda

ROOT = Path(__file__).resolve().parents[3]


@pytest.mark.parametrize(
    ("flag", "parameter", "expected"),
    [
        (True, "PublishedVersions", "snap-start"),
        (True, "None", "on-demand"),  # the template leaves SnapStart off: Lambda would too
        (False, "PublishedVersions", "on-demand"),  # without the flag, like `sam local`
    ],
)
def test_initialization_type(flag: bool, parameter: str, expected: str) -> None:
    tpl = template.load(ROOT / "template.yaml", parameters={"SnapStart": parameter})
    local = LocalLambda(tpl, snapstart=flag)
    assert local.environment("IrisFunction")["AWS_LAMBDA_INITIALIZATION_TYPE"] == expected
    # Functions without SnapStart always init on demand.
    assert local.environment("IndexFunction")["AWS_LAMBDA_INITIALIZATION_TYPE"] == "on-demand"
