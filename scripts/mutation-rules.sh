#!/usr/bin/env bash
# Hand-made mutants of rules that must never break silently: each line below
# is one change to the code (a rule dropped, a bound moved, a role widened),
# applied in a scratch copy of the committed tree; the named tests must then
# fail. gremlins (scripts/mutation.sh) only flips operators; these are the
# changes it cannot make, such as a route's role gate.
#
#   scripts/mutation-rules.sh            # every mutant, its tests only
#   FULL=1 scripts/mutation-rules.sh     # every mutant, its whole package
#
# Prints one line per mutant: KILLED (by which tests) or LIVED.
set -uo pipefail
cd "$(dirname "$0")/.."
export ROUTEFREE_POSTGRES_URL="${ROUTEFREE_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/test?sslmode=disable}"
export ROUTEFREE_REDIS_URL="${ROUTEFREE_REDIS_URL:-redis://127.0.0.1:6379/0}"
export GOFLAGS=-buildvcs=false

scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
git archive HEAD | tar -x -C "$scratch"
cd "$scratch"

lived=0
# name | file | perl substitution | package | tests
mutant() {
  local name=$1 file=$2 expr=$3 pkg=$4 run=$5
  cp "$file" "$scratch/.orig"
  perl -0pi -e "$expr" "$file"
  if cmp -s "$file" "$scratch/.orig"; then
    echo "NOT APPLIED $name: the code changed; update this script"
    lived=$((lived + 1))
    return
  fi
  [ -n "${FULL:-}" ] && run=.
  local out
  out="$(go test -count=1 -run "$run" "$pkg" 2>&1)"
  local rc=$?
  cp "$scratch/.orig" "$file"
  if [ $rc -eq 0 ]; then
    echo "LIVED  $name"
    lived=$((lived + 1))
  elif grep -q 'build failed' <<<"$out"; then
    echo "BROKEN $name: the mutant does not compile; update this script"
    lived=$((lived + 1))
  else
    echo "KILLED $name by $(grep -oE '^--- FAIL: [A-Za-z0-9_]+' <<<"$out" | sed 's/--- FAIL: //' | sort -u | paste -sd, -)"
  fi
}

# Each of these once passed the whole suite.
mutant suspended-account-served gateway/server/chat.go \
  's/case key\.Suspended:/case false \&\& key.Suspended:/' ./gateway/server 'Suspended'
mutant generation-of-another-account gateway/server/info.go \
  's/!ok \|\| g\.AccountID != k\.AccountID/!ok || (g.AccountID != k.AccountID \&\& false)/' ./gateway/server 'Generation'
mutant credit-limit-form-for-all-staff console/pages.go \
  's/s\.creditForm, finance\)/s.creditForm, staff)/' ./console 'TestRoleTable'
mutant credit-limit-api-for-anyone console/api.go \
  's/s\.apiCreditLimit, finance\)/s.apiCreditLimit, anyone)/' ./console 'TestRoleTable|TestAPIRolesAndRefusals'
mutant zero-top-up commands/commands.go \
  's/if !t\.Amount\.IsPositive\(\) \{/if t.Amount.IsNegative() {/' ./commands 'TopUp'
mutant volume-discount-of-one commands/commands.go \
  's/pc\.VolumeDiscount\.GreaterThanOrEqual\(decimal\.NewFromInt\(1\)\)/pc.VolumeDiscount.GreaterThan(decimal.NewFromInt(1))/' ./commands 'Discount'
mutant no-output-billed gateway/server/chat.go \
  's/if u\.Output <= 0 \{/if u.Output < 0 {/' ./gateway/server 'NoOutputTokens'
mutant hold-ignores-reasoning-price domain/pricing.go \
  's/if p\.Reasoning\.GreaterThan\(out\) \{/if false \&\& p.Reasoning.GreaterThan(out) {/' ./domain 'TestCostWithCachedAndReasoningTokens'
mutant hold-ignores-reasoning-price-gateway domain/pricing.go \
  's/if p\.Reasoning\.GreaterThan\(out\) \{/if false \&\& p.Reasoning.GreaterThan(out) {/' ./gateway/server 'Reasoning'
mutant allowance-one-dollar-over invoicing/void.go \
  's/if amount > inv\.Net\(\) \{/if amount > inv.Net()+1 {/' ./invoicing 'TestVoidWindowAndAllowance'
mutant allowance-unbounded invoicing/void.go \
  's/if amount > inv\.Net\(\) \{/if false \&\& amount > inv.Net() {/' ./invoicing 'TestVoidWindowAndAllowance'
mutant stream-outside-hash-chain eventstore/hashchain.go \
  's/\tfield\(\[\]byte\(e\.Stream\)\)\n//' ./eventstore 'KnownAnswers'
mutant sqlite-synchronous-off eventstore/sqlite/store.go \
  's/common\+"&_pragma=synchronous\(FULL\)/common+"\&_pragma=synchronous(OFF)/' ./eventstore/sqlite 'TestPragmasInForce'
mutant plan-form-for-all-staff console/pages.go \
  's/s\.planForm, admin\)/s.planForm, staff)/' ./console 'TestRoleTable'
mutant plan-api-for-anyone console/api.go \
  's/s\.apiChangePlan, admin\)/s.apiChangePlan, anyone)/' ./console 'TestRoleTable|TestAPIRolesAndRefusals'

# A bound that a test read from the code's own constant, a refusal no test
# reached in the console's words, a check no test's history could trip.
mutant price-places-13 commands/limits.go \
  's/const MaxPricePlaces = 12/const MaxPricePlaces = 13/' ./commands 'TestPricePlacesAreBounded'
mutant allowance-reason-201 invoicing/void.go \
  's/maxAllowanceReasonRunes = 200/maxAllowanceReasonRunes = 201/' ./invoicing 'TestAnAllowanceReasonFitsItsDocument'
mutant credit-limit-cents-untranslated console/errtext.go \
  's/^\s*ep\([^\n]*"err\.creditlimit\.cents"\),\n//m' ./console 'TestLimitRefusalsInBothLanguages'
mutant store-copy-by-id-alone cmd/routefree/oneredis.go \
  's/h\.found = hex\.EncodeToString\(ev\.Hash\) == h\.recHash/h.found = len(ev.Hash) >= 0/' ./cmd/routefree 'TestACopyOfAStoreIsRefusedOnTheOriginalsRedisPrefix'

# The role gate itself (auth, tested through the console).
R='TestRoleTable|TestAPIRolesAndRefusals'
mutant gate-customers-as-staff auth/auth.go \
  's/return !p\.Staff && customers \}/return customers }/' ./console "$R"
mutant gate-refuses-customers auth/auth.go \
  's/return !p\.Staff && customers \}/return false \&\& customers }/' ./console "$R"
mutant gate-any-key-manages-keys auth/auth.go \
  's/return !p\.Staff && p\.Management \}/return !p.Staff }/' ./console "$R"
mutant gate-lets-everyone-through auth/auth.go \
  's/if !allowed \{/if false \&\& !allowed {/' ./console "$R"
mutant gate-without-sign-in auth/auth.go \
  's/\tif err != nil \{\n(\t+)return echo\.NewHTTPError\(http\.StatusUnauthorized/\tif false \&\& err != nil {\n$1return echo.NewHTTPError(http.StatusUnauthorized/' ./console "$R"
mutant gate-without-csrf auth/auth.go \
  's/if errors\.Is\(err, ErrForbidden\) \{/if false \&\& errors.Is(err, ErrForbidden) {/' ./console 'CSRF'

# Tested directly in auth: the gate reads a role only as staff's, and only
# the three roles are roles.
mutant gate-role-without-staff auth/auth.go \
  's/if p\.Staff && p\.Role == r \{/if p.Role == r {/' ./auth 'TestGates'
mutant any-role-valid auth/auth.go \
  's/func \(r Role\) Valid\(\) bool \{ return r == Admin \|\| r == Finance \|\| r == Auditor \}/func (r Role) Valid() bool { return r != "" }/' ./auth 'TestRoleValid'

if [ $lived -gt 0 ]; then
  echo "$lived mutants not killed" >&2
  exit 1
fi
