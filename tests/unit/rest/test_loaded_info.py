"""GET /models/{m} and GET /v2/models/{m} say what is loaded (issue 14, item 7)."""

from __future__ import annotations

import re
from typing import Any

from fastapi.testclient import TestClient


def _check_loaded(loaded: list[dict[str, Any]]) -> None:
    assert [entry["version"] for entry in loaded] == ["1", "2"]
    for entry in loaded:
        assert entry["execution_providers"] == ["CPUExecutionProvider"]
        assert 0 < entry["load_ms"] < 60_000 and 0 < entry["warm_up_ms"] < 60_000
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", entry["loaded_at"])


def test_model_info_lists_the_loaded_versions(breast_cancer: TestClient) -> None:
    info = breast_cancer.get("/models/breast_cancer").json()
    _check_loaded(info["loaded"])
    assert info["versions"] == ["1", "2"]
    # A version's own page reports the whole function's loaded set as well.
    _check_loaded(breast_cancer.get("/models/breast_cancer/versions/2").json()["loaded"])


def test_v2_metadata_extends_the_protocol_body_with_what_is_loaded(
    breast_cancer: TestClient,
) -> None:
    metadata = breast_cancer.get("/v2/models/breast_cancer").json()
    assert {"name", "versions", "platform", "inputs", "outputs"} <= set(metadata)
    _check_loaded(metadata["loaded"])
