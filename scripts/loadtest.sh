#!/bin/sh
# Load test: the real gateway binary against the fake upstream, straight,
# through a bare Go proxy and through RouteFree, three interleaved
# repetitions of the points the performance targets name; it prints every
# repetition, then Markdown tables of the medians and of the targets.
# Extra flags go to the program and override these, e.g.:
#   scripts/loadtest.sh -duration 10s -reps 5
#   scripts/loadtest.sh -points '' -modes unary,stream,embeddings -concurrency 1,16
set -eu
cd "$(dirname "$0")/.."
exec go run ./cmd/loadtest -duration 5s -warmup 1s -reps 3 -points unary:1,unary:16,unary:64,stream:16 "$@"
