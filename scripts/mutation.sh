#!/usr/bin/env bash
# Mutation testing of the money and authorization code with gremlins
# (github.com/go-gremlins/gremlins): each mutant is a small change to one
# operator or condition; a mutant that no test notices "lives". Efficacy is
# killed ÷ (killed + lived), per package.
#
#   scripts/mutation.sh                 # every package below, then
#                                       # scripts/mutation-rules.sh
#   scripts/mutation.sh ./domain        # one package
#
# The integration tests need the services, as for the README's test command.
# A full run takes long on two cores: it lives beside the load test, not in CI.
set -euo pipefail
cd "$(dirname "$0")/.."

GREMLINS_VERSION=v0.6.0
export ROUTEFREE_POSTGRES_URL="${ROUTEFREE_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/test?sslmode=disable}"
export ROUTEFREE_REDIS_URL="${ROUTEFREE_REDIS_URL:-redis://127.0.0.1:6379/0}"
command -v jq >/dev/null || { echo "mutation.sh needs jq (apt-get install jq)" >&2; exit 2; }

bin="$(go env GOPATH)/bin/gremlins"
if [ ! -x "$bin" ]; then
  go install "github.com/go-gremlins/gremlins/cmd/gremlins@${GREMLINS_VERSION}"
fi

# Package and, where only part of a package is money or authorization code,
# a regular expression of the files left out (paths relative to the
# package; gremlins walks its subfolders too, so they are left out where
# they have their own entry or are not in scope). The console's role gates
# are route registrations, which gremlins does not mutate, and its gate
# (auth) is tested through the console: scripts/mutation-rules.sh
# mutates those by hand, and runs after the packages below.
declare -A exclude=(
  [./domain]=''
  [./commands]=''
  [./gateway/admission]='(limiter|limiter_memory|limiter_redis)\.go$'
  [./invoicing/httpapi]=''
  [./invoicing]='^(httpapi|twrules|pdf|mig)/|(close|doc|errors|issue|ledger|lines|numbering|outbox|projector|quotes|reconcile|render|seller|service)\.go$'
  [./invoicing/twrules]=''
  [./eventstore]='(export|subscribe)\.go$|^(sqlite|postgres|kurrent|storetest)/'
)
pkgs=("$@")
[ ${#pkgs[@]} -gt 0 ] || pkgs=(./domain ./commands ./gateway/admission ./invoicing/httpapi ./invoicing ./invoicing/twrules ./eventstore)

out="$(mktemp -d)"
printf '| package | killed | lived | timed out | not covered | efficacy |\n|---|---|---|---|---|---|\n' >"$out/table.md"
for p in "${pkgs[@]}"; do
  args=(unleash --workers 1 --timeout-coefficient 10 -o "$out/result.json")
  if [ -n "${exclude[$p]:-}" ]; then args+=(-E "${exclude[$p]}"); fi
  echo "== $p" >&2
  "$bin" "${args[@]}" "$p" >&2 || true
  jq -r --arg p "$p" '
    [.files[].mutations[]] as $m
    | ($m | map(select(.status=="KILLED")) | length) as $k
    | ($m | map(select(.status=="LIVED")) | length) as $l
    | ($m | map(select(.status=="TIMED OUT")) | length) as $t
    | ($m | map(select(.status=="NOT COVERED")) | length) as $n
    | "| \($p) | \($k) | \($l) | \($t) | \($n) | \(if $k+$l > 0 then (1000*$k/($k+$l)|floor/10|tostring) + " %" else "n/a" end) |"' \
    "$out/result.json" >>"$out/table.md"
  jq -r --arg p "$p" '.files[] | .file_name as $f | .mutations[] | select(.status=="LIVED")
    | "lived: \($p)/\($f):\(.line):\(.column) \(.type)"' "$out/result.json" >>"$out/lived.txt"
done
cat "$out/table.md"
echo
cat "$out/lived.txt" 2>/dev/null || true
echo "results in $out" >&2
if [ $# -eq 0 ]; then
  echo
  scripts/mutation-rules.sh
fi
