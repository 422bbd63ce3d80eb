"""Batch prediction: a source's text through the block pipeline into a sink.

- Source (`source`): an S3 object, or a byte range of one (header carried).
- Block pipeline (`pipeline`): split (`stream`) -> parse -> predict -> format. The reader
  and writer of each format are chosen as a pair in `formats`: CSV (`csv_header`,
  `csv_reader` with its strategies in `csv_fields` / `csv_rows`, the `parse_worker`
  process; `csv_writer`) and JSON Lines (`jsonl_reader`, `jsonl_writer`). What flows
  through it is in `blocks`; output text is assembled as `byte_column`s; the
  prediction columns every output row gets come from `prediction_columns`.
- Sink (`sink`): the predictions and errors objects as atomic multipart uploads
  (`multipart`).
- The S3-triggered job (`job`): the key layout (`keys`), event records (`events`),
  repeated-event detection and the summary (`summary`, `summary_store`), `config`.
"""
