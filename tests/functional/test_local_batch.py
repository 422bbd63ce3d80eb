"""`lambdaserve serve` + local S3: a CSV copied under incoming/iris/ yields results/ objects."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from test_local_serve import start, stop

from lambdaserve.local import template

pytestmark = pytest.mark.slow  # runs `serve` in a subprocess

ROOT = Path(__file__).resolve().parents[2]


def test_csv_upload_runs_the_batch_function(tmp_path: Path) -> None:
    tpl = template.load(ROOT / "template.yaml")
    assert tpl.s3_triggers, "template.yaml declares no S3-triggered function"
    trigger = tpl.s3_triggers[0]
    bucket = tpl.buckets[trigger.bucket]
    manifest = json.loads((ROOT / "layers" / "models" / "iris" / "1" / "model.json").read_text())
    rows = [[5.1, 3.5, 1.4, 0.2], [6.4, 2.9, 4.3, 1.3], [5.9, 3.0, 5.1, 1.8]]
    lines = [",".join(manifest["feature_names"])] + [",".join(map(str, r)) for r in rows]
    served = start(ROOT, tmp_path / "serve.log")
    try:
        s3: Any = served.s3_client()
        key = f"{trigger.prefix}iris/flowers{trigger.suffix or '.csv'}"
        s3.put_object(Bucket=bucket, Key=key, Body=("\n".join(lines) + "\n").encode())
        deadline = time.monotonic() + 180
        results: list[str] = []
        while not results and time.monotonic() < deadline:
            listing = s3.list_objects_v2(Bucket=bucket, Prefix="results/")
            results = [o["Key"] for o in listing.get("Contents", [])]
            time.sleep(0.5)
        assert results, served.log.read_text()[-3000:]
        assert all(k.startswith("results/iris/") for k in results)
    finally:
        assert stop(served) == 0
    log = served.log.read_text()
    assert f"S3 ObjectCreated:Put s3://{bucket}/{key}" in log
