package projections

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"pgregory.net/rapid"

	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/eventstore"
	"github.com/routefree/routefree/eventstore/sqlite"
)

// plainKeySpend is a key's spending kept the plain way: every request since
// the key was issued, and since its period last changed, with its instant.
type plainKeySpend struct {
	limit      decimal.Decimal
	period     string
	sinceIssue []plainCost
	sincePerio []plainCost
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

// TestBalancesKeysAgreeWithAPlainModel folds random histories of keys issued
// (again, too), changed, and used across Taipei's day, week and month
// boundaries, from a real SQLite file, and checks after every step each
// key's limit, period and spending (in its period, in all, by day, week
// and month, at several instants) against a plain model of the same
// events. Most keys of the history have no limit and no request: the model
// keeps those without a record of their own, which this shows to answer
// exactly as one.
func TestBalancesKeysAgreeWithAPlainModel(t *testing.T) {
	base := t.TempDir()
	rapid.Check(t, func(rt *rapid.T) {
		dir, err := os.MkdirTemp(base, "keys-")
		if err != nil {
			rt.Fatal(err)
		}
		defer os.RemoveAll(dir)
		s, err := sqlite.Open(filepath.Join(dir, "events.db"), sqlite.Options{})
		if err != nil {
			rt.Fatal(err)
		}
		defer s.Close()
		ctx := context.Background()
		m := NewModels(nil)
		r, err := NewRunner(s, nil, m.Balances)
		if err != nil {
			rt.Fatal(err)
		}
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
		add(domain.AccountStream("a"), t0, &domain.AccountOpened{AccountID: "a", Plan: domain.PlanBusiness})
		keys := []string{"k1", "k2", "k3", "never-issued"}
		periods := []string{"", PeriodDaily, PeriodWeekly, PeriodMonthly}
		limits := []decimal.Decimal{decimal.Zero, decimal.RequireFromString("0.00"), decimal.NewFromInt(5), decimal.RequireFromString("12.50")}

		for range rapid.IntRange(1, 30).Draw(rt, "steps") {
			id := rapid.SampledFrom(keys).Draw(rt, "key")
			k := plain[id]
			switch rapid.SampledFrom([]string{"issue", "change", "use", "use", "use"}).Draw(rt, "step") {
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
					k.period, k.sincePerio = p, nil
				}
				k.limit = stored(e.SpendLimit)
			case "use":
				at := instant.Draw(rt, "started at")
				cost := decimal.New(rapid.Int64Range(0, 10_000_000).Draw(rt, "coef"), int32(rapid.IntRange(-7, 0).Draw(rt, "exp")))
				seq++
				add(domain.UsageStream("a"), at, &domain.RequestCompleted{RequestID: fmt.Sprintf("r%d", seq), KeyID: id, AccountID: "a",
					Model: "m", Cost: cost, StartedAt: at})
				if k != nil {
					k.sinceIssue = append(k.sinceIssue, plainCost{at, stored(cost)})
					k.sincePerio = append(k.sincePerio, plainCost{at, stored(cost)})
				}
			}
			if err := r.CatchUp(ctx); err != nil {
				rt.Fatal(err)
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
					want := []string{id, k.period, PeriodStart(k.period, now).String(), exactly(k.limit), exactly(latest(k.sincePerio, k.period, now)),
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
