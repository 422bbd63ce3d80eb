"""Cost arithmetic against hand-computed cases, and the dated price table's shape."""

from __future__ import annotations

import datetime
from typing import Any

import pytest

from bench import cost
from bench.report import Section

# Round numbers, so every expected figure below is worked out by hand in its comment.
PRICES: dict[str, Any] = {
    "lambda": {"gb_second": {"x86_64": 0.00002, "arm64": 0.00001}, "requests_per_million": 0.20},
    "http_api": {"requests_per_million": 1.00, "metered_request_bytes": 524288},
    "sagemaker_serverless": {
        "per_second_by_memory_mb": {"1024": 0.00002, "2048": 0.00004},
        "data_processed_per_gb": 0.016,
    },
    "always_on_container": {
        "vcpu": 1,
        "memory_gb": 2,
        "hours_per_month": 730,
        "vcpu_hour": {"x86_64": 0.04, "arm64": 0.03},
        "gb_hour": {"x86_64": 0.005, "arm64": 0.004},
    },
}


@pytest.mark.parametrize(
    ("duration", "billed"), [(0.0, 1), (0.3, 1), (1.0, 1), (1.0001, 2), (12.5, 13), (100.0, 100)]
)
def test_billed_duration_rounds_up_to_the_millisecond(duration: float, billed: int) -> None:
    assert cost.billed_ms(duration) == billed


def test_rounding_applies_to_each_call_before_the_mean() -> None:
    # ceil: 1, 2, 2 -> 5/3 ms; the mean first (1.1667) would bill 2 ms.
    assert cost.mean_billed_ms([0.3, 1.2, 2.0]) == pytest.approx(5 / 3)


def test_lambda_per_million() -> None:
    # 1e6 x 0.001 s x 1 GB x 0.00002 = 0.02, + 0.20 requests.
    assert cost.lambda_per_million(PRICES, "x86_64", 1, 1024) == pytest.approx(0.22)
    # 1e6 x 0.1 s x 2 GB x 0.00001 = 2.00, + 0.20.
    assert cost.lambda_per_million(PRICES, "arm64", 100, 2048) == pytest.approx(2.20)
    # 1,769 MB is 1.7275390625 GB: 1e6 x 0.002 x 1.7275390625 x 0.00002 = 0.0691015625, + 0.20.
    assert cost.lambda_per_million(PRICES, "x86_64", 2, 1769) == pytest.approx(0.2691015625)


def test_http_api_meters_each_started_512_kb() -> None:
    assert cost.http_api_per_million(PRICES, 100) == 1.00
    assert cost.http_api_per_million(PRICES, 524288) == 1.00
    assert cost.http_api_per_million(PRICES, 524289) == 2.00
    assert cost.http_api_per_million(PRICES, 0) == 1.00


def test_sagemaker_memory_is_the_next_size_up() -> None:
    assert cost.sagemaker_memory_mb(PRICES, 1024) == 1024
    assert cost.sagemaker_memory_mb(PRICES, 1025) == 2048
    assert cost.sagemaker_memory_mb(PRICES, 1769) == 2048
    with pytest.raises(ValueError, match="at most 2048"):
        cost.sagemaker_memory_mb(PRICES, 3538)


def test_sagemaker_per_million() -> None:
    # 1e6 x (0.010 s x 0.00004 + 1,000 B / 1e9 x 0.016) = 0.4 + 0.016.
    assert cost.sagemaker_per_million(PRICES, 10, 1769, 1000) == pytest.approx(0.416)


def test_always_on_container() -> None:
    # (1 x 0.04 + 2 x 0.005) x 730 h = 36.50 a month.
    assert cost.container_per_month(PRICES, "x86_64") == pytest.approx(36.50)
    # (0.03 + 0.008) x 730 = 27.74.
    assert cost.container_per_month(PRICES, "arm64") == pytest.approx(27.74)
    # 2 ms a request on 1 vCPU all month: 730 x 3,600,000 / 2 = 1.314e9 requests.
    # 36.50 / 1.314e9 x 1e6 = 0.027778 per million.
    assert cost.container_per_million(PRICES, "x86_64", 2) == pytest.approx(36.50 / 1314)
    # 36.50 a month against 1.25 per million: 29.2 million requests a month.
    assert cost.break_even_per_month(36.50, 1.25) == pytest.approx(29.2e6)


def test_memory_sizes_come_from_the_function_globals_or_a_parameter_default() -> None:
    template = {
        "Parameters": {"BatchMemory": {"Default": 3538}},
        "Globals": {"Function": {"MemorySize": 1024}},
        "Resources": {
            "Own": {"Properties": {"MemorySize": 1769}},
            "Inherited": {"Properties": {}},
            "FromParameter": {"Properties": {"MemorySize": {"Ref": "BatchMemory"}}},
        },
    }
    assert cost.memory_mb(template, "Own") == 1769
    assert cost.memory_mb(template, "Inherited") == 1024
    assert cost.memory_mb(template, "FromParameter") == 3538


def test_the_real_templates_memory_sizes() -> None:
    template = cost.load_template()
    assert cost.memory_mb(template, "BreastCancerFunction") == 1769
    assert cost.memory_mb(template, "BatchPredictFunction") == 3538


def measured(protocol: str, rows: int, durations: list[float]) -> cost.Measured:
    return cost.Measured(protocol, rows, durations, request_bytes=1000, response_bytes=500)


def test_api_rows_price_a_million_predictions_not_a_million_requests() -> None:
    one = measured("simple", 1, [0.4, 0.6])  # billed 1 ms each
    hundred = measured("v2", 100, [9.2, 9.9])  # billed 10 ms each
    rows = cost.api_rows(PRICES, [one, hundred], 1024)
    # 1 row: 1e6 requests x (1 ms x 1 GB x 0.00002) = 0.02 + 0.20 requests + 1.00 HTTP API.
    assert rows[0][0] == "seed-style, 1 row"
    assert rows[0][2] == 1
    assert rows[0][3:6] == ["1.22", "1.21", "1.00"]
    # 100 rows: 1e4 requests x (10 ms x 1 GB x 0.00002) = 0.002 + 0.002 + 0.01 HTTP API.
    assert rows[1][0] == "Open Inference V2 (JSON), 100 rows"
    assert rows[1][3] == "0.0140"
    # arm64: 1e4 x 0.01 x 0.00001 = 0.001, + 0.002 + 0.01.
    assert rows[1][4] == "0.0130"
    # SageMaker at 1,024 MB: 1e4 x (0.010 x 0.00002 + 1,500 B / 1e9 x 0.016) = 0.00224.
    assert rows[1][6] == "0.0022"


def test_batch_rows_price_a_million_rows() -> None:
    batch = {"rows": 200_000, "input_bytes": 50_000_000, "lambdaserve": {"median_seconds": 0.9995}}
    prices = {
        **PRICES,
        "sagemaker_serverless": {
            **PRICES["sagemaker_serverless"],
            "per_second_by_memory_mb": {"4096": 0.00008},
        },
    }
    rows, job_ms = cost.batch_rows(prices, batch, 3538)
    assert job_ms == 1000  # 999.5 ms bills 1,000
    label, billed, x86, arm, sagemaker, box = rows[0]
    assert label == "S3 batch job (200,000-row CSV files, 2 vCPU)"
    # 5 files per million rows: 5 x (1 s x 3.455 GB x 0.00002) + 5 x 0.2e-6 = 0.000346.
    assert x86 == "0.0003"
    assert float(x86) == pytest.approx(5 * (3538 / 1024 * 0.00002) + 1e-6, abs=5e-5)
    # SageMaker at 4,096 MB: 5 x (1 s x 0.00008 + 0.1 GB x 0.016) = 0.0084.
    assert sagemaker == "0.0084"
    assert billed == 1000
    assert arm == "0.0002"
    # Two always-on containers busy all month, 1 s per file: 2 x 5 x 36.50 / 2,628,000.
    assert float(box) == pytest.approx(2 * 5 * 36.50 / 2_628_000, abs=5e-5)


def test_the_price_table_is_dated_sourced_and_complete() -> None:
    prices = cost.load_prices()
    datetime.date.fromisoformat(prices["as_of"])
    for part in ("lambda", "http_api", "sagemaker_serverless", "always_on_container"):
        assert prices[part]["source"].startswith("https://aws.amazon.com/")
    for arch in cost.ARCHES:
        assert prices["lambda"]["gb_second"][arch] > 0
        assert cost.container_per_month(prices, arch) > 0
    # arm64 is the cheaper architecture per GB-second.
    assert prices["lambda"]["gb_second"]["arm64"] < prices["lambda"]["gb_second"]["x86_64"]


def test_section_prices_the_batch_job_only_when_it_ran() -> None:
    api = [measured(p, r, [0.5, 0.7]) for r in (1, 100) for p in ("simple", "tfserving", "v2")]
    template = cost.load_template()
    prices = cost.load_prices()
    alone = cost.section(prices, template, 1769, api, [])
    assert [t.title.split(":")[0] for t in alone.tables] == ["API"]
    assert any("batch_job section" in n for n in alone.notes)
    batch = Section(
        "batch_job",
        "4",
        data={"rows": 200_000, "input_bytes": 55_000_000, "lambdaserve": {"median_seconds": 1.13}},
    )
    both = cost.section(prices, template, 1769, api, [batch])
    assert [t.title.split(":")[0] for t in both.tables] == ["API", "S3 batch job"]
    assert both.data["batch"] == {"memory_mb": 3538, "billed_ms_per_file": 1130}
