#!/bin/sh
# Goroutine wake-ups per request in an execution trace of the gateway at
# one client (cmd/loadtest -profile DIR writes DIR/unary-1.trace): every
# Waiting→Runnable transition, over the commits in the window (the
# fdatasync system calls entered; at one client a request is one commit),
# then the wake-ups per request of each kind of goroutine, named by the
# first frame of the project, watermill or database/sql on its stack when
# it first blocks (net/http's own goroutines, such as the connection's
# background read, count as "other").
#   scripts/wakeups.sh /tmp/prof/unary-1.trace
set -eu
[ $# -eq 1 ] || { echo "usage: $0 TRACE" >&2; exit 2; }
go tool trace -d=parsed "$1" | awk '
/^M=/ {
	if (sys && fd) commits++
	sys = ($0 ~ /Running->Syscall/); fd = 0; blk = 0; g = ""
	if (match($0, /GoID=[0-9]+/)) g = substr($0, RSTART + 5, RLENGTH - 5)
	if ($0 ~ /Waiting->Runnable/) { wake++; woken[g]++ }
	if ($0 ~ /Running->Waiting/) blk = 1
	next
}
/Xfdatasync/ { fd = 1 }
blk && /@/ && !(g in kind) && $1 ~ /routefree|watermill|database\/sql/ { kind[g] = $1 }
END {
	if (sys && fd) commits++
	if (commits == 0) { print "no commits in the trace"; exit 1 }
	printf "%d wake-ups for %d commits: %.2f a request\n", wake, commits, wake / commits
	for (g in woken) by[(g in kind) ? kind[g] : "other"] += woken[g]
	for (k in by) printf "%6.2f  %s\n", by[k] / commits, k
}' | sort -k1,1 -rn
