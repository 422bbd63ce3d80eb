"""How a batch job sizes its blocks, parts and threads (from settings, or tests' choices)."""

from __future__ import annotations

from dataclasses import dataclass

from lambdaserve.settings import Settings, usable_cpus

READ_BYTES = 1024 * 1024


@dataclass(frozen=True)
class BatchConfig:
    block_bytes: int = 2 * 1024 * 1024  # smaller blocks fill and drain the pipeline faster
    first_block_bytes: int = 64 * 1024  # blocks grow from this: the model starts sooner
    # Blocks handed to the parser beyond the one being predicted: it never waits for input.
    read_ahead: int = 2
    part_bytes: int = 16 * 1024 * 1024
    read_bytes: int = READ_BYTES
    # Parse plain CSV blocks in a helper process (see `parse_worker`), beside the model.
    parse_process: bool = False
    # Stop this long before the Lambda deadline: enough to abort and write the summary.
    stop_margin_seconds: float = 20.0

    @classmethod
    def from_settings(cls, settings: Settings) -> BatchConfig:
        return cls(
            block_bytes=settings.batch_block_bytes,
            part_bytes=settings.batch_part_bytes,
            parse_process=settings.batch_parse_process,
        )

    @property
    def max_block_bytes(self) -> int:
        return max(64 * 1024 * 1024, 16 * self.block_bytes)


def session_threads(settings: Settings) -> int:
    """ORT threads for batch: by default one vCPU is left to the reading/parsing thread."""
    return settings.batch_intra_op_threads or max(1, usable_cpus() - 1)
