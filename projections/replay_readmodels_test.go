package projections

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"pgregory.net/rapid"

	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/eventstore/sqlite"
)

// A replay rebuilds the activity and the usage by key and app beside the
// usage: for random histories of accounts, keys and apps, each figure of
// theirs is what the history appended through that key (and app) on that
// UTC day (Taipei month), the usage by key and app adds up to the usage of
// each account and month, and the activity to the usage of the requests
// started on its 30 completed days.
func TestReplayActivityAndKeyUsageAddUpToUsage(t *testing.T) {
	dir := t.TempDir()
	runs := 0
	rapid.Check(t, func(rt *rapid.T) {
		runs++
		s, err := sqlite.Open(filepath.Join(dir, fmt.Sprintf("events-%d.db", runs)), sqlite.Options{})
		if err != nil {
			rt.Fatal(err)
		}
		defer s.Close()
		now := time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC).Add(time.Duration(rapid.IntRange(0, 24*60-1).Draw(rt, "minute of today")) * time.Minute)
		from, to := ActivityWindow(now)
		l := newLedger()
		g := &gen{t: t, store: s, l: l, rnd: newRand(rapid.Uint64().Draw(rt, "seed")), base: now.AddDate(0, -3, 0)}
		accounts := rapid.IntRange(1, 4).Draw(rt, "accounts")
		for a := range accounts {
			acct := fmt.Sprintf("acct-%d", a)
			g.openAccount(acct, domain.PlanStarter)
			g.topUp(acct, decimal.NewFromInt(1000), "ref-"+acct)
		}
		apps := []string{"", "Cline", "My App", "應用"}
		// Mostly within the window; some before it (months back, across
		// Taipei months) and some today, which the activity leaves out.
		minutes := int(now.Sub(g.base) / time.Minute)
		for i, n := 0, rapid.IntRange(0, 60).Draw(rt, "requests"); i < n; i++ {
			acct := fmt.Sprintf("acct-%d", rapid.IntRange(0, accounts-1).Draw(rt, "account"))
			key := fmt.Sprintf("k-%s-%d", acct, rapid.IntRange(0, 2).Draw(rt, "key"))
			app := apps[rapid.IntRange(0, len(apps)-1).Draw(rt, "app")]
			at := g.base.Add(time.Duration(rapid.IntRange(0, minutes).Draw(rt, "start")) * time.Minute)
			g.requestVia(acct, key, app, fmt.Sprintf("req-%d", i), at)
		}
		f, err := ReplayAt(context.Background(), s, nil, func() time.Time { return now })
		if err != nil {
			rt.Fatal(err)
		}
		if f.ActivityFrom != from || f.ActivityTo != to {
			rt.Fatalf("activity window %s..%s, want %s..%s", f.ActivityFrom, f.ActivityTo, from, to)
		}
		sameFigures(rt, "usage by key and app", f.KeyUsage, l.byKey, func(string) bool { return true })
		inWindow := func(day string) bool { return day >= from && day <= to }
		sameFigures(rt, "activity", f.Activity, l.byDay, inWindow)

		// The sums: by key and app each account's usage of each month; the
		// activity the usage less what started outside its days.
		type monthOf struct{ month, account string }
		usedMonth, byKey := map[monthOf]decimal.Decimal{}, map[monthOf]decimal.Decimal{}
		used, activity, outside := map[string]decimal.Decimal{}, map[string]decimal.Decimal{}, map[string]decimal.Decimal{}
		for month, accts := range f.MonthlyByAccount {
			for acct, cost := range accts {
				usedMonth[monthOf{month, acct}] = usedMonth[monthOf{month, acct}].Add(cost)
				used[acct] = used[acct].Add(cost)
			}
		}
		for month, rows := range f.KeyUsage {
			for k, cost := range rows {
				byKey[monthOf{month, k.Account}] = byKey[monthOf{month, k.Account}].Add(cost)
			}
		}
		for day, rows := range f.Activity {
			for k, cost := range rows {
				if !inWindow(day) {
					rt.Errorf("activity of %s, outside %s..%s", day, from, to)
				}
				activity[k.Account] = activity[k.Account].Add(cost)
			}
		}
		for day, rows := range l.byDay {
			if !inWindow(day) {
				for k, cost := range rows {
					outside[k.Account] = outside[k.Account].Add(cost)
				}
			}
		}
		if len(byKey) != len(usedMonth) {
			rt.Errorf("usage by key and app of %d accounts × months, usage of %d", len(byKey), len(usedMonth))
		}
		for k, u := range usedMonth {
			if !byKey[k].Equal(u) {
				rt.Errorf("%s %s: usage by key and app %s, usage %s", k.month, k.account, byKey[k], u)
			}
		}
		for acct, u := range used {
			if got := activity[acct].Add(outside[acct]); !got.Equal(u) {
				rt.Errorf("%s: activity %s and %s outside its days, usage %s", acct, activity[acct], outside[acct], u)
			}
		}
	})
}

// sameFigures compares figures with what the history appended, on the
// periods keep takes.
func sameFigures(t *rapid.T, label string, got, want map[string]map[KeyFigure]decimal.Decimal, keep func(period string) bool) {
	t.Helper()
	for period, rows := range want {
		if !keep(period) {
			continue
		}
		for k, cost := range rows {
			if !got[period][k].Equal(cost) {
				t.Errorf("%s %s %+v: %s, appended %s", label, period, k, got[period][k], cost)
			}
		}
	}
	for period, rows := range got {
		for k, cost := range rows {
			if _, ok := want[period][k]; !ok || !keep(period) {
				t.Errorf("%s %s %+v: %s, nothing appended", label, period, k, cost)
			}
		}
	}
}
