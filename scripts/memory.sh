#!/bin/sh
# Memory of a first start with 100,000 keys and accounts (the design's
# figure: at most 200 MB resident). Generates the history once (400,000
# events, about a minute and a half) into DIR, then serves a fresh copy of it
# STARTS times and prints, for each start, the peak (VmHWM) and steady
# (VmRSS) resident size once every read model and invoicing have caught up
# (their lag gauges in /metrics all 0; 20 s at least), the live heap after
# a collection, when /readyz first answered and when they caught up. Sizes
# from /proc are in kB (KiB); MB is 1,000,000 bytes.
#   scripts/memory.sh                 # 4 starts, history in /tmp/routefree-memory
#   STARTS=2 DIR=/var/tmp/h scripts/memory.sh
set -eu
cd "$(dirname "$0")/.."
DIR=${DIR:-/tmp/routefree-memory}
STARTS=${STARTS:-4}
LISTEN=127.0.0.1:18480
DEBUG=127.0.0.1:18481
bin=$(mktemp -d)/routefree
go build -o "$bin" ./cmd/routefree
if [ ! -f "$DIR/history/.complete" ]; then
	rm -rf "$DIR/history"
	mkdir -p "$DIR"
	echo "generating the history in $DIR/history (about a minute and a half; progress in $DIR/generate.log)"
	"$bin" events generate --accounts 100000 --events 400000 --data-dir "$DIR/history" >"$DIR/generate.log" 2>&1
	touch "$DIR/history/.complete"
fi
now_ms() { echo $(($(date +%s%N) / 1000000)); }
i=0
while [ "$i" -lt "$STARTS" ]; do
	i=$((i + 1))
	rm -rf "$DIR/run" && cp -r "$DIR/history" "$DIR/run"
	"$bin" serve --data-dir "$DIR/run" --listen "$LISTEN" --debug-listen "$DEBUG" >"$DIR/serve.log" 2>&1 &
	pid=$!
	start=$(now_ms)
	ready=""
	caught=""
	# At least 20 s, and until every read model and invoicing have folded
	# the whole history (their lag gauges all 0), where the peak comes; at
	# most 120 s.
	while [ $(($(now_ms) - start)) -lt 20000 ] || { [ -z "$caught" ] && [ $(($(now_ms) - start)) -lt 120000 ]; }; do
		if [ -z "$ready" ] && curl -sf "http://$LISTEN/readyz" >/dev/null 2>&1; then
			ready=$(($(now_ms) - start))
		fi
		if [ -n "$ready" ] && [ -z "$caught" ] && curl -sf "http://$LISTEN/metrics" |
			awk '/^routefree_projection_lag_events/ {n++; if ($2 != 0) behind = 1} END {exit !(n > 0 && !behind)}'; then
			caught=$(($(now_ms) - start))
		fi
		sleep 0.1
	done
	hwm=$(awk '/^VmHWM/ {print $2}' "/proc/$pid/status")
	rss=$(awk '/^VmRSS/ {print $2}' "/proc/$pid/status")
	live=$(curl -s "http://$DEBUG/debug/pprof/heap?gc=1&debug=1" | awk '/^# HeapAlloc/ {print $4}')
	kill "$pid"
	wait "$pid" || true
	verdict=within
	[ "$((hwm * 1024))" -le 200000000 ] || verdict=over
	awk -v i="$i" -v h="$hwm" -v r="$rss" -v l="$live" -v ms="${ready:-none}" -v c="${caught:-never (still behind at 120 s)}" -v v="$verdict" 'BEGIN {
		printf "start %d: peak %d kB (%.1f MB, %s the 200 MB), steady %d kB (%.1f MB), live heap %.1f MB, ready after %s ms, caught up after %s ms\n",
			i, h, h * 1024 / 1e6, v, r, r * 1024 / 1e6, l / 1e6, ms, c }'
done
rm -rf "$DIR/run"
