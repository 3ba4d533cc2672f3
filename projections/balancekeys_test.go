package projections

import (
	"context"
	"fmt"
	"testing"
	"time"
	"unsafe"

	"github.com/shopspring/decimal"
	"pgregory.net/rapid"

	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/eventstore"
)

// plainKeySpend is a key's spending kept the plain way: every request since
// the key was issued, with its instant. Its spending against its limit is
// what it spent in the latest period of its limit's kind, whenever that
// kind was chosen.
type plainKeySpend struct {
	limit      decimal.Decimal
	period     string
	sinceIssue []plainCost
}

type plainCost struct {
	at   time.Time
	cost decimal.Decimal
}

// latest sums the costs of the latest period that any of them fell in, as
// of now: zero when now is in another period.
func latest(costs []plainCost, period string, now time.Time) decimal.Decimal {
	var last time.Time
	for _, c := range costs {
		if s := PeriodStart(period, c.at); s.After(last) {
			last = s
		}
	}
	if !PeriodStart(period, now).Equal(last) {
		return decimal.Zero
	}
	// The period's first cost, then each later one added to it.
	var sum *decimal.Decimal
	for _, c := range costs {
		if !PeriodStart(period, c.at).Equal(last) {
			continue
		}
		if sum == nil {
			sum = &c.cost
		} else {
			*sum = sum.Add(c.cost)
		}
	}
	return *sum
}

// stored is a decimal as an event stores it (its JSON drops trailing zeros).
func stored(d decimal.Decimal) decimal.Decimal { return decimal.RequireFromString(d.String()) }

// exactly writes a decimal with its exponent, so that 1.5 and 1.50 differ.
func exactly(d decimal.Decimal) string { return fmt.Sprintf("%se%d", d.Coefficient(), d.Exponent()) }

// plainAccountUse is an account's money kept the plain way.
type plainAccountUse struct {
	version        int64 // of its usage stream: -1 before its first event
	credited, used decimal.Decimal
	costs          []plainCost
	plan           domain.Plan
	rpm, tpm       int64
	creditLimit    decimal.Decimal
}

// TestBalancesAgreeWithAPlainModel folds random histories of keys issued
// (again, too), changed (to limits that never reset, too), and used across
// Taipei's day, week and month boundaries, of top-ups and of failed
// requests, from a real SQLite file, and checks after every step each
// key's limit, period and spending (in its period, in all, by day, week and
// month, at several instants) and each account's balance, month's
// spending, totals and usage version against a plain model of the same
// events. Most keys and accounts of a
// gateway's history have no limit and no request: the model keeps their
// spending only once they have some, which this shows to answer exactly as
// before.
func TestBalancesAgreeWithAPlainModel(t *testing.T) {
	if n := unsafe.Sizeof(accountRec{}); n != 128 {
		t.Errorf("an account record takes %d bytes, want 128", n)
	}
	base := t.TempDir()
	rapid.Check(t, func(rt *rapid.T) {
		m := NewModels(nil)
		s, r, done := rapidStore(rt, base, m.Balances)
		defer done()
		ctx := context.Background()
		// Sunday 2026-11-29 22:00 Taipei, and instants over the next days:
		// a new day, week and month (December) among them.
		t0 := time.Date(2026, 11, 29, 14, 0, 0, 0, time.UTC)
		instant := rapid.Custom(func(rt *rapid.T) time.Time {
			return t0.Add(time.Duration(rapid.IntRange(0, 60).Draw(rt, "hours")) * time.Hour)
		})
		plain := map[string]*plainKeySpend{}
		seq := 0
		add := func(stream string, at time.Time, e domain.Event) {
			seq++
			d := mustEvent(t, e, at, fmt.Sprint(seq))
			if _, err := s.Append(ctx, stream, eventstore.Any(), d); err != nil {
				rt.Fatal(err)
			}
		}
		// Plans of the domain, and others that records keep as they came.
		planNames := []domain.Plan{domain.PlanStarter, domain.PlanBusiness, domain.PlanEnterprise, "", "custom"}
		opening := &domain.AccountOpened{AccountID: "a", Plan: rapid.SampledFrom(planNames).Draw(rt, "plan"),
			CreditLimit: decimal.NewFromInt(rapid.Int64Range(0, 3).Draw(rt, "credit limit"))}
		add(domain.AccountStream("a"), t0, opening)
		accts := map[string]*plainAccountUse{"a": {version: -1, plan: opening.Plan, creditLimit: opening.CreditLimit},
			"b": {version: -1, plan: domain.PlanStarter}} // b is never opened
		keys := []string{"k1", "k2", "k3", "never-issued"}
		periods := []string{"", PeriodDaily, PeriodWeekly, PeriodMonthly, PeriodNever}
		limits := []decimal.Decimal{decimal.Zero, decimal.RequireFromString("0.00"), decimal.NewFromInt(5), decimal.RequireFromString("12.50")}

		for range rapid.IntRange(1, 30).Draw(rt, "steps") {
			id := rapid.SampledFrom(keys).Draw(rt, "key")
			k := plain[id]
			acct := rapid.SampledFrom([]string{"a", "a", "a", "b"}).Draw(rt, "account")
			u := accts[acct]
			switch rapid.SampledFrom([]string{"issue", "change", "use", "use", "use", "fail", "topUp", "adjust", "plan"}).Draw(rt, "step") {
			case "plan":
				e := &domain.PlanChanged{AccountID: "a", Plan: rapid.SampledFrom(planNames).Draw(rt, "plan"), RPM: rapid.Int64Range(0, 2).Draw(rt, "rpm"),
					TPM: rapid.Int64Range(0, 2).Draw(rt, "tpm"), CreditLimit: decimal.NewFromInt(rapid.Int64Range(0, 3).Draw(rt, "credit limit"))}
				add(domain.AccountStream("a"), t0, e)
				a := accts["a"]
				a.plan, a.rpm, a.tpm, a.creditLimit = e.Plan, e.RPM, e.TPM, e.CreditLimit
			case "issue":
				e := &domain.KeyIssued{KeyID: id, AccountID: "a", Hash: keyHash(id), SpendLimit: rapid.SampledFrom(limits).Draw(rt, "limit"),
					SpendPeriod: rapid.SampledFrom(periods).Draw(rt, "period")}
				add(domain.KeyStream(id), t0, e)
				plain[id] = &plainKeySpend{limit: stored(e.SpendLimit), period: spendPeriod(e.SpendPeriod)}
			case "change":
				e := &domain.KeyChanged{KeyID: id, AccountID: "a", Name: "n", SpendLimit: rapid.SampledFrom(limits).Draw(rt, "limit"),
					SpendPeriod: rapid.SampledFrom(periods).Draw(rt, "period")}
				add(domain.KeyStream(id), t0, e)
				if k == nil { // a change of a key the model does not know yet makes it known
					k = &plainKeySpend{}
					plain[id] = k
				}
				if p := spendPeriod(e.SpendPeriod); p != k.period {
					k.period = p
				}
				k.limit = stored(e.SpendLimit)
			case "use":
				at := instant.Draw(rt, "started at")
				cost := decimal.New(rapid.Int64Range(0, 10_000_000).Draw(rt, "coef"), int32(rapid.IntRange(-7, 0).Draw(rt, "exp")))
				seq++
				add(domain.UsageStream(acct), at, &domain.RequestCompleted{RequestID: fmt.Sprintf("r%d", seq), KeyID: id, AccountID: acct,
					Model: "m", Cost: cost, StartedAt: at})
				u.version++
				u.used = u.used.Add(cost)
				u.costs = append(u.costs, plainCost{at, stored(cost)})
				if k != nil {
					k.sinceIssue = append(k.sinceIssue, plainCost{at, stored(cost)})
				}
			case "fail":
				seq++
				add(domain.UsageStream(acct), t0, &domain.RequestFailed{RequestID: fmt.Sprintf("r%d", seq), KeyID: id, AccountID: acct,
					Model: "m", StartedAt: t0, Status: 502})
				u.version++
			case "topUp":
				amount := decimal.New(rapid.Int64Range(1, 100_000).Draw(rt, "cents"), -2)
				add(domain.TopUpStream(acct), t0, &domain.CreditsToppedUp{AccountID: acct, Amount: amount, Method: domain.MethodCard,
					Reference: fmt.Sprint(seq)})
				u.credited = u.credited.Add(amount)
			case "adjust":
				// Credit given or taken back (a refund), or an earlier
				// adjustment undone: each moves the balance by its amount.
				amount := decimal.New(rapid.Int64Range(-100_000, 100_000).Draw(rt, "adjustment cents"), -2)
				e := &domain.CreditsAdjusted{AccountID: acct, Amount: amount, Reason: "correction"}
				if rapid.Bool().Draw(rt, "undoes an earlier one") {
					e.Reverses = domain.EventID("adjustment", fmt.Sprint(seq))
				}
				add(domain.TopUpStream(acct), t0, e)
				u.credited = u.credited.Add(amount)
			}
			if err := r.CatchUp(ctx); err != nil {
				rt.Fatal(err)
			}
			for acct, u := range accts {
				for _, now := range []time.Time{t0, t0.Add(30 * time.Hour), t0.Add(60 * time.Hour)} {
					v, ok := m.Balances.View(acct, "", now)
					if !ok {
						if acct == "b" && u.version == -1 && u.credited.IsZero() {
							continue // nothing of b folded yet
						}
						rt.Fatalf("account %s unknown", acct)
					}
					month := decimal.Zero
					if len(u.costs) > 0 {
						month = latest(u.costs, PeriodMonthly, now)
					}
					if v.Plan != u.plan || !v.CreditLimit.Equal(u.creditLimit) {
						rt.Fatalf("account %s: plan %q, credit limit %s; want %q, %s", acct, v.Plan, v.CreditLimit, u.plan, u.creditLimit)
					}
					if d, ok := m.Accounts.Get(acct); ok != (acct == "a") || ok && (d.Plan != u.plan || d.RPM != u.rpm || d.TPM != u.tpm) {
						rt.Fatalf("account %s in the directory: %+v, %v; want plan %q, RPM %d, TPM %d", acct, d, ok, u.plan, u.rpm, u.tpm)
					}
					if v.AppliedUsageVersion != u.version || !v.MonthSpend.Equal(month) || !v.TotalUsed.Equal(u.used) ||
						!v.Balance.Equal(u.credited.Sub(u.used)) || !v.TotalCredited.Equal(u.credited) {
						rt.Fatalf("account %s at %v: version %d, month %s, used %s, balance %s, credited %s; want %d, %s, %s, %s, %s", acct, now,
							v.AppliedUsageVersion, v.MonthSpend, v.TotalUsed, v.Balance, v.TotalCredited, u.version, month, u.used,
							u.credited.Sub(u.used), u.credited)
					}
				}
			}
			for _, id := range keys {
				k := plain[id]
				for _, now := range []time.Time{t0, t0.Add(3 * time.Hour), t0.Add(30 * time.Hour), t0.Add(60 * time.Hour)} {
					v, ok := m.Balances.View("a", id, now)
					if !ok {
						rt.Fatal("account a unknown")
					}
					if k == nil {
						if v.KeyID != "" {
							rt.Fatalf("%s: not issued, yet viewed as %+v", id, v)
						}
						continue
					}
					used := decimal.Zero
					for _, c := range k.sinceIssue {
						used = used.Add(c.cost)
					}
					got := []string{v.KeyID, v.KeySpendPeriod, v.KeyPeriodStart.String(), exactly(v.KeySpendLimit), exactly(v.KeySpend),
						exactly(v.KeyUsed), exactly(v.KeyDay), exactly(v.KeyWeek), exactly(v.KeyMonth)}
					want := []string{id, k.period, PeriodStart(k.period, now).String(), exactly(k.limit), exactly(latest(k.sinceIssue, k.period, now)),
						exactly(used), exactly(latest(k.sinceIssue, PeriodDaily, now)), exactly(latest(k.sinceIssue, PeriodWeekly, now)),
						exactly(latest(k.sinceIssue, PeriodMonthly, now))}
					if fmt.Sprint(got) != fmt.Sprint(want) {
						rt.Fatalf("%s at %v: got %v, want %v", id, now, got, want)
					}
					a, _ := m.Balances.Admission("a", id, now)
					if exactly(a.KeySpend) != want[4] || exactly(a.KeySpendLimit) != want[3] || a.KeySpendPeriod != want[1] {
						rt.Fatalf("%s at %v: admission sees %s of %s %s, want %s of %s %s", id, now, exactly(a.KeySpend), exactly(a.KeySpendLimit),
							a.KeySpendPeriod, want[4], want[3], want[1])
					}
				}
			}
		}
	})
}
