"""Every environment variable lambdaserve reads, in one place."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from lambdaserve.model_store import DEFAULT_CACHE_DIR

# Where the model layer is mounted in Lambda (layer content lands under /opt).
LAMBDA_MODEL_REPOSITORY = Path("/opt/models")
# The repository inside a source checkout, for local runs and tests.
SOURCE_MODEL_REPOSITORY = Path(__file__).resolve().parents[2] / "layers" / "models"

SIX_MB = 6 * 1024 * 1024


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ValueError(f"environment variable {name} must be an integer, got {raw!r}") from exc


def _float(name: str, default: float) -> float:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        return float(raw)
    except ValueError as exc:
        raise ValueError(f"environment variable {name} must be a number, got {raw!r}") from exc


def _flag(name: str, default: bool) -> bool:
    raw = os.environ.get(name, "").strip().lower()
    if not raw:
        return default
    if raw in {"1", "true", "yes", "on"}:
        return True
    if raw in {"0", "false", "no", "off"}:
        return False
    raise ValueError(f"environment variable {name} must be 1 or 0, got {raw!r}")


def usable_cpus() -> int:
    """CPUs this process may run on (Linux affinity where there is one, e.g. in Lambda)."""
    affinity = getattr(os, "sched_getaffinity", None)
    return len(affinity(0)) if affinity else os.cpu_count() or 1


def _parse_process(raw: str) -> bool:
    """LAMBDASERVE_BATCH_PARSE_PROCESS: 1/0, or empty for "when there is more than 1 vCPU"."""
    raw = raw.strip().lower()
    if not raw:
        return usable_cpus() > 1
    if raw in {"1", "true", "yes", "on"}:
        return True
    if raw in {"0", "false", "no", "off"}:
        return False
    raise ValueError(f"LAMBDASERVE_BATCH_PARSE_PROCESS must be 1 or 0, got {raw!r}")


def _default_repository() -> Path:
    return LAMBDA_MODEL_REPOSITORY if LAMBDA_MODEL_REPOSITORY.is_dir() else SOURCE_MODEL_REPOSITORY


@dataclass(frozen=True)
class Settings:
    model_repository: Path = field(default_factory=_default_repository)
    # The one model a model_api function serves (None: the index function).
    model_name: str | None = None
    max_body_bytes: int = SIX_MB
    # Rows one request may carry (instances, V2 shape dim 0) and the deepest JSON nesting.
    max_rows: int = 10_000
    max_json_depth: int = 32
    # 0 lets onnxruntime pick; Lambda gives 1 vCPU per 1,769 MB of memory.
    intra_op_threads: int = 1
    inter_op_threads: int = 1
    # JSON map model name -> function name, for forwarding TF Serving colon paths.
    model_functions: str = "{}"
    # The alias those functions are invoked through (empty: the unqualified function).
    model_function_alias: str = ""
    # Batch prediction: ORT threads (0: every vCPU), decoded bytes per predicted block,
    # and the S3 multipart part size of outputs (S3's minimum is 5 MiB).
    batch_intra_op_threads: int = 0
    batch_block_bytes: int = 2 * 1024 * 1024
    batch_part_bytes: int = 16 * 1024 * 1024
    # Parse CSV in a helper process beside the model (default: when there are 2+ vCPUs).
    batch_parse_process: bool = field(default_factory=lambda: _parse_process(""))
    # Fan-out (issue 16): inputs above this many bytes are cut into shards of about
    # batch_shard_bytes and scored under the state machine (empty ARN: never fan out);
    # gzip cannot be split, and above batch_gzip_max_bytes it is refused.
    batch_fanout_bytes: int = 1024 * 1024 * 1024
    batch_shard_bytes: int = 64 * 1024 * 1024
    batch_gzip_max_bytes: int = 512 * 1024 * 1024
    batch_state_machine: str = ""
    batch_max_concurrency: int = 100  # shards scored at once (the Map's MaxConcurrency)
    # Prediction cache: the per-container LRU (0 entries turns it off), its byte bound and
    # TTL; the shared DynamoDB table (empty: off) and how long a request waits for it.
    cache_entries: int = 1024
    cache_bytes: int = 32 * 1024 * 1024
    cache_ttl_seconds: int = 300
    # 2: an input is cached the second time it misses (one-off inputs never are); 1: the first.
    cache_admit_after: int = 2
    cache_table: str = ""
    cache_table_timeout_ms: int = 100
    # Observability (issue 14): one EMF + log line per request; a sampled Data Capture
    # record (privacy: full | hash | drop; hash needs the salt); the feedback table (empty:
    # feedback off), how long its predictions live, and the bound on its write per request.
    metrics: bool = True
    # X-Ray subsegments per request and batch step (Powertools Tracer; costs cold start).
    tracing: bool = False
    capture_percent: float = 0.0
    capture_privacy: str = "full"
    capture_salt: str = field(default="", repr=False)
    feedback_table: str = ""
    feedback_ttl_days: int = 30
    feedback_timeout_ms: int = 250
    # Runtime override of the model's traffic policy: an SSM parameter name (None: none),
    # read again at most once per TTL.
    traffic_parameter: str | None = None
    traffic_ttl_seconds: int = 10
    # Models too big for the layer ("store": "s3"): their bucket (empty: none), key
    # prefix, and the ephemeral-storage directory they are fetched into.
    model_bucket: str = ""
    model_prefix: str = "models/"
    model_cache_dir: Path = field(default_factory=lambda: DEFAULT_CACHE_DIR)
    # Streaming predictions (issue 15): the SQS queue results go to (URL), the optional
    # EventBridge bus that also gets them (name or ARN; empty: none), and the largest result
    # one message may carry (SQS's message size limit).
    stream_output_queue: str = ""
    stream_event_bus: str = ""
    stream_max_result_bytes: int = 256 * 1024

    @classmethod
    def from_env(cls) -> Settings:
        repo = os.environ.get("LAMBDASERVE_MODEL_REPOSITORY", "").strip()
        return cls(
            model_repository=Path(repo) if repo else _default_repository(),
            model_name=os.environ.get("MODEL_NAME", "").strip() or None,
            max_body_bytes=_int("LAMBDASERVE_MAX_BODY_BYTES", SIX_MB),
            max_rows=_int("LAMBDASERVE_MAX_ROWS", 10_000),
            max_json_depth=_int("LAMBDASERVE_MAX_JSON_DEPTH", 32),
            intra_op_threads=_int("LAMBDASERVE_INTRA_OP_THREADS", 1),
            inter_op_threads=_int("LAMBDASERVE_INTER_OP_THREADS", 1),
            model_functions=os.environ.get("LAMBDASERVE_MODEL_FUNCTIONS", "{}"),
            model_function_alias=os.environ.get("LAMBDASERVE_MODEL_FUNCTION_ALIAS", "").strip(),
            batch_intra_op_threads=_int("LAMBDASERVE_BATCH_INTRA_OP_THREADS", 0),
            batch_block_bytes=_int("LAMBDASERVE_BATCH_BLOCK_BYTES", 2 * 1024 * 1024),
            batch_part_bytes=_int("LAMBDASERVE_BATCH_PART_BYTES", 16 * 1024 * 1024),
            batch_parse_process=_parse_process(
                os.environ.get("LAMBDASERVE_BATCH_PARSE_PROCESS", "")
            ),
            batch_fanout_bytes=_int("LAMBDASERVE_BATCH_FANOUT_BYTES", 1024 * 1024 * 1024),
            batch_shard_bytes=_int("LAMBDASERVE_BATCH_SHARD_BYTES", 64 * 1024 * 1024),
            batch_gzip_max_bytes=_int("LAMBDASERVE_BATCH_GZIP_MAX_BYTES", 512 * 1024 * 1024),
            batch_state_machine=os.environ.get("LAMBDASERVE_BATCH_STATE_MACHINE", "").strip(),
            batch_max_concurrency=_int("LAMBDASERVE_BATCH_MAX_CONCURRENCY", 100),
            cache_entries=_int("LAMBDASERVE_CACHE_ENTRIES", 1024),
            cache_bytes=_int("LAMBDASERVE_CACHE_BYTES", 32 * 1024 * 1024),
            cache_ttl_seconds=_int("LAMBDASERVE_CACHE_TTL_SECONDS", 300),
            cache_admit_after=_int("LAMBDASERVE_CACHE_ADMIT_AFTER", 2),
            cache_table=os.environ.get("LAMBDASERVE_CACHE_TABLE", "").strip(),
            cache_table_timeout_ms=_int("LAMBDASERVE_CACHE_TABLE_TIMEOUT_MS", 100),
            metrics=_flag("LAMBDASERVE_METRICS", True),
            tracing=_flag("LAMBDASERVE_TRACING", False),
            capture_percent=_float("LAMBDASERVE_CAPTURE_PERCENT", 0.0),
            capture_privacy=os.environ.get("LAMBDASERVE_CAPTURE_PRIVACY", "").strip() or "full",
            capture_salt=os.environ.get("LAMBDASERVE_CAPTURE_SALT", ""),
            feedback_table=os.environ.get("LAMBDASERVE_FEEDBACK_TABLE", "").strip(),
            feedback_ttl_days=_int("LAMBDASERVE_FEEDBACK_TTL_DAYS", 30),
            feedback_timeout_ms=_int("LAMBDASERVE_FEEDBACK_TIMEOUT_MS", 250),
            traffic_parameter=os.environ.get("LAMBDASERVE_TRAFFIC_PARAMETER", "").strip() or None,
            traffic_ttl_seconds=_int("LAMBDASERVE_TRAFFIC_TTL_SECONDS", 10),
            model_bucket=os.environ.get("LAMBDASERVE_MODEL_BUCKET", "").strip(),
            model_prefix=os.environ.get("LAMBDASERVE_MODEL_PREFIX", "").strip() or "models/",
            model_cache_dir=Path(
                os.environ.get("LAMBDASERVE_MODEL_CACHE_DIR", "").strip() or DEFAULT_CACHE_DIR
            ),
            stream_output_queue=os.environ.get("LAMBDASERVE_STREAM_OUTPUT_QUEUE", "").strip(),
            stream_event_bus=os.environ.get("LAMBDASERVE_STREAM_EVENT_BUS", "").strip(),
            stream_max_result_bytes=_int("LAMBDASERVE_STREAM_MAX_RESULT_BYTES", 256 * 1024),
        )
