#!/bin/sh
# Load test: the real gateway binary against the fake upstream, direct vs.
# through RouteFree, at 1, 16 and 64 clients, unary and streaming.
# Extra flags go to the program, e.g.: scripts/loadtest.sh -duration 20s
set -eu
cd "$(dirname "$0")/.."
exec go run ./cmd/loadtest -duration 10s -warmup 2s -concurrency 1,16,64 "$@"
