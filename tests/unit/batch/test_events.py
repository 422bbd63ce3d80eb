from __future__ import annotations

from typing import Any
from urllib.parse import quote_plus

from hypothesis import given
from hypothesis import strategies as st

from lambdaserve.batch.events import object_refs


def record(key: str, name: str = "ObjectCreated:Put", **obj: Any) -> dict[str, Any]:
    return {
        "eventSource": "aws:s3",
        "eventName": name,
        "s3": {"bucket": {"name": "bkt"}, "object": {"key": key, **obj}},
    }


def test_keys_are_url_decoded_and_version_fields_kept() -> None:
    refs, skipped = object_refs(
        {"Records": [record("incoming/iris/my+fil%C3%A9%2B1.csv", eTag="abc", versionId="v1")]}
    )
    assert not skipped
    (ref,) = refs
    assert (ref.bucket, ref.key, ref.etag, ref.version_id) == (
        "bkt",
        "incoming/iris/my filé+1.csv",
        "abc",
        "v1",
    )


def test_own_outputs_and_other_prefixes_are_skipped_with_a_reason() -> None:
    refs, skipped = object_refs(
        {
            "Records": [
                record("results/iris/a.csv"),
                record("elsewhere/a.csv"),
                record("incoming/iris/a.csv", name="ObjectRemoved:Delete"),
                record("incoming/iris/b.csv"),
            ]
        }
    )
    assert [r.key for r in refs] == ["incoming/iris/b.csv"]
    reasons = [s.reason for s in skipped]
    assert "recursion" in reasons[0]
    assert "incoming/" in reasons[1]
    assert "ObjectCreated" in reasons[2]


def test_the_s3_test_event_is_not_an_error() -> None:
    refs, skipped = object_refs({"Service": "Amazon S3", "Event": "s3:TestEvent"})
    assert refs == []
    assert "s3:TestEvent" in skipped[0].reason


@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=40))
def test_any_key_survives_s3_url_encoding(name: str) -> None:
    key = f"incoming/iris/{name}.csv"
    refs, _ = object_refs({"Records": [record(quote_plus(key, safe="/"))]})
    assert refs[0].key == key
