"""Safe rollouts: the traffic policy (A/B split, sticky callers, runtime override) and shadow.

- `policy`: traffic.json's schema, parsed and resolved against the repository.
- `buckets`: SHA-256 sticky buckets and the precomputed 10,000-bucket version table.
- `rng`: the container's seeded generator (re-seeded after a SnapStart restore).
- `override`: the runtime override, an SSM parameter read with a short TTL cache.
- `source`: the policy in force now (override, else traffic.json, else the default).

Imports nothing heavy: the repository imports `policy` at every cold start.
"""
