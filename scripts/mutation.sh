#!/usr/bin/env bash
# Mutation testing of the money and authorization code with gremlins
# (github.com/go-gremlins/gremlins): each mutant is a small change to one
# operator or condition; a mutant that no test notices "lives". Efficacy is
# killed ÷ (killed + lived), per package.
#
#   scripts/mutation.sh                 # every package below, then
#                                       # scripts/mutation-rules.sh
#   scripts/mutation.sh ./domain        # the runs of one package
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

# What each run measures: a label, the package, the files mutated (empty:
# every file of the package) and the tests run for each mutant (a -run
# pattern; empty: the package's whole suite). gremlins runs the mutated
# package's tests, so a run restricted to a few files and the tests that
# exercise them takes minutes where the whole package would take hours on
# two cores; a mutant only other tests reach shows as not covered, never as
# killed. Subfolders are always left out: they are packages of their own.
# The console's role gates are route registrations, which gremlins does not
# mutate: scripts/mutation-rules.sh changes those by hand, and runs after
# the packages below.
INVOICING_TESTS='TestConcurrentIssuers|TestRangeExhausted|TestSeveralRanges|TestRange|TestIssuer|TestVoidWindow|TestAllowanceSplit|TestClose|TestTopUpInvoices|TestReplayContentHash|TestCarrierAndDonation|TestTurnkeyOutbox'
CONSOLE_TESTS='^(TestRoleTable|TestAPIRolesAndRefusals|TestRestrictedKeyCannotManageKeys|TestManagementKeyBoundedByItsLimits|TestCSRFTokenNotFromQueryString|TestConsoleFormsNeedCSRF|TestStaffTokensIssueRevoke|TestSessionFixationImpossible|TestOpenRouterKeysAPI|TestExpiredKeyIsToldItExpired|TestSignInSaysWhyAKeyMayNotAct)$'
targets=(
  "domain;./domain;;"
  "commands;./commands;;"
  "gateway/admission (hold ledger);./gateway/admission;headers.go ledger.go ledger_memory.go ledger_redis.go micro.go;"
  "gateway/admission (rate limiter);./gateway/admission;limiter.go limiter_memory.go limiter_redis.go;Limiter"
  "invoicing/httpapi;./invoicing/httpapi;;"
  "invoicing/twrules (tax, numbers, periods);./invoicing/twrules;;"
  "invoicing (voids, allowances, numbering);./invoicing;void.go numbering.go;$INVOICING_TESTS"
  "eventstore (hash chain, positions, group commit);./eventstore;hashchain.go store.go groupcommit.go;"
  "auth (the role gate);./auth;auth.go;TestRoleValid|TestGates|TestActorOf"
  "console (key scope, credentials);./console;keyscope.go authn.go;$CONSOLE_TESTS"
  "internal/jsonkind (the value named in a wrong-type error);./internal/jsonkind;got.go;"
)

# exclusion prints gremlins' -E expression for a package measured on some
# of its files: its subfolders and every other file.
exclusion() {
  local dir=${1#./} only=" $2 " f names=()
  for f in "$dir"/*.go; do
    f=$(basename "$f")
    case $f in *_test.go) continue ;; esac
    [[ $only == *" $f "* ]] || names+=("${f%.go}")
  done
  local re='^[^/]+/'
  if [ ${#names[@]} -gt 0 ]; then re+="|^($(IFS='|'; echo "${names[*]}"))\.go\$"; fi
  if [ -z "$2" ]; then re='^[^/]+/'; fi
  echo "$re"
}

want=("$@")
out="$(mktemp -d)"
printf '| run | killed | lived | timed out | not covered | efficacy |\n|---|---|---|---|---|---|\n' >"$out/table.md"
for t in "${targets[@]}"; do
  IFS=';' read -r label p files run <<<"$t"
  if [ ${#want[@]} -gt 0 ] && [[ " ${want[*]} " != *" $p "* ]]; then continue; fi
  echo "== $label" >&2
  rm -f "$out/result.json"
  GOFLAGS="-count=1${run:+ -run=$run}" "$bin" unleash --workers 1 --timeout-coefficient 5 -o "$out/result.json" \
    -E "$(exclusion "$p" "$files")" "$p" >&2 || true
  if [ ! -s "$out/result.json" ]; then
    echo "| $label | gremlins failed: see above | | | | |" >>"$out/table.md"
    continue
  fi
  jq -r --arg p "$label" '
    [.files[].mutations[]] as $m
    | ($m | map(select(.status=="KILLED")) | length) as $k
    | ($m | map(select(.status=="LIVED")) | length) as $l
    | ($m | map(select(.status=="TIMED OUT")) | length) as $t
    | ($m | map(select(.status=="NOT COVERED")) | length) as $n
    | "| \($p) | \($k) | \($l) | \($t) | \($n) | \(if $k+$l > 0 then (1000*$k/($k+$l)|floor/10|tostring) + " %" else "n/a" end) |"' \
    "$out/result.json" >>"$out/table.md"
  jq -r --arg p "${p#./}" '.files[] | .file_name as $f | .mutations[] | select(.status=="LIVED")
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
