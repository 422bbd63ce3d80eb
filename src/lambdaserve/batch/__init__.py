"""S3-triggered batch prediction: files under `incoming/` stream through a model into `results/`.

Modules, one concept each: `keys` (S3 key layout), `stream` (chunks -> blocks of whole lines),
`csv_reader` / `jsonl_reader` (blocks -> feature matrices, passthrough and row errors),
`texts` (vectorized assembly of output lines), `outputs` (model outputs -> columns),
`writers` (CSV / JSON Lines output), `multipart` (atomic S3 uploads), `summary`, `job`
(one input object end to end) and `events` (S3 notification records).
"""
