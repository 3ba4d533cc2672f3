package projections

import (
	"context"
	"database/sql"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // PostgreSQL through database/sql
	"github.com/shopspring/decimal"

	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/eventstore"
	"github.com/routefree/routefree/internal/testenv"
)

// appendAll appends each event to its stream and catches the models up.
func catchUp(t *testing.T, s eventstore.Store, m *Models, evs map[string][]eventstore.EventData, order []string) {
	t.Helper()
	for _, stream := range order {
		if _, err := s.Append(context.Background(), stream, eventstore.Any(), evs[stream]...); err != nil {
			t.Fatal(err)
		}
	}
	r, err := NewRunner(s, nil, m.All()...)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.CatchUp(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func TestKeysPlansRevocationSuspension(t *testing.T) {
	s := openSQLite(t)
	m := NewModels(nil)
	at := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	ev := func(e domain.Event, id string) eventstore.EventData { return mustEvent(t, e, at, id) }
	catchUp(t, s, m, map[string][]eventstore.EventData{
		"account-a": {ev(&domain.AccountOpened{AccountID: "a", Plan: domain.PlanStarter}, "a"),
			ev(&domain.PlanChanged{AccountID: "a", Plan: domain.PlanEnterprise, RPM: 5000, TPM: 9_000_000}, "a-plan")},
		"account-b": {ev(&domain.AccountOpened{AccountID: "b", Plan: domain.PlanBusiness}, "b"),
			ev(&domain.AccountSuspended{AccountID: "b", Reason: "unpaid"}, "b-susp")},
		"key-1": {ev(&domain.KeyIssued{KeyID: "1", AccountID: "a", Hash: keyHash("sk-1"), Models: []string{"gpt-4o"}, SpendLimit: decimal.NewFromInt(50), SpendPeriod: PeriodWeekly}, "1")},
		"key-2": {ev(&domain.KeyIssued{KeyID: "2", AccountID: "a", Hash: keyHash("sk-2")}, "2"), ev(&domain.KeyRevoked{KeyID: "2", AccountID: "a"}, "2-rev")},
		"key-3": {ev(&domain.KeyIssued{KeyID: "3", AccountID: "b", Hash: keyHash("sk-3")}, "3")},
	}, []string{"account-a", "account-b", "key-1", "key-2", "key-3"})

	k1, ok := m.Keys.Lookup(keyHash("sk-1"))
	if !ok || k1.Plan != domain.PlanEnterprise || k1.RPM != 5000 || k1.TPM != 9_000_000 || k1.SpendPeriod != PeriodWeekly || len(k1.Models) != 1 || k1.Revoked {
		t.Errorf("key 1: %+v", k1)
	}
	if k2, _ := m.Keys.Lookup(keyHash("sk-2")); !k2.Revoked || k2.SpendPeriod != PeriodMonthly {
		t.Errorf("key 2: %+v", k2)
	}
	if k3, _ := m.Keys.Lookup(keyHash("sk-3")); !k3.Suspended || k3.RPM != 100 || k3.TPM != 1_000_000 {
		t.Errorf("key 3: %+v", k3)
	}
	if _, ok := m.Keys.Lookup(keyHash("sk-unknown")); ok {
		t.Error("unknown key found")
	}
	if ks := m.Keys.ByAccount("a"); len(ks) != 2 || ks[0].KeyID != "1" || ks[1].KeyID != "2" {
		t.Errorf("keys of a: %+v", ks)
	}
}

func TestBalancesKeyPeriodsInTaipei(t *testing.T) {
	s := openSQLite(t)
	m := NewModels(nil)
	// Monday 2026-11-30 00:30 Taipei = Sunday 16:30 UTC: a new day and week.
	sun := time.Date(2026, 11, 29, 15, 0, 0, 0, time.UTC) // Sunday 23:00 Taipei
	mon := time.Date(2026, 11, 29, 16, 30, 0, 0, time.UTC)
	req := func(id string, at time.Time, cost string) eventstore.EventData {
		return mustEvent(t, &domain.RequestCompleted{RequestID: id, KeyID: "kd", AccountID: "a", Model: "m", Cost: decimal.RequireFromString(cost), StartedAt: at}, at, id)
	}
	catchUp(t, s, m, map[string][]eventstore.EventData{
		"account-a": {mustEvent(t, &domain.AccountOpened{AccountID: "a", Plan: domain.PlanBusiness, CreditLimit: decimal.NewFromInt(100)}, sun, "a")},
		"key-kd":    {mustEvent(t, &domain.KeyIssued{KeyID: "kd", AccountID: "a", Hash: "h", SpendPeriod: PeriodDaily, SpendLimit: decimal.NewFromInt(10)}, sun, "kd")},
		"topups-a":  {mustEvent(t, &domain.CreditsToppedUp{AccountID: "a", Amount: decimal.NewFromInt(20)}, sun, "t"), mustEvent(t, &domain.CreditsAdjusted{AccountID: "a", Amount: decimal.RequireFromString("-0.5")}, sun, "adj")},
		"usage-a":   {req("r1", sun, "1.25"), req("r2", mon, "2.5"), req("r3", mon.Add(time.Hour), "0.125")},
	}, []string{"account-a", "key-kd", "topups-a", "usage-a"})

	v, ok := m.Balances.View("a", "kd", mon.Add(2*time.Hour))
	if !ok || !v.Balance.Equal(decimal.RequireFromString("15.625")) || v.AppliedUsageVersion != 2 {
		t.Fatalf("view %+v", v)
	}
	if !v.KeySpend.Equal(decimal.RequireFromString("2.625")) || !v.KeyPeriodStart.Equal(time.Date(2026, 11, 30, 0, 0, 0, 0, Taipei)) {
		t.Errorf("Monday's key spend %s from %s", v.KeySpend, v.KeyPeriodStart)
	}
	if !v.MonthSpend.Equal(decimal.RequireFromString("3.875")) || !v.Available().Equal(decimal.RequireFromString("115.625")) {
		t.Errorf("month %s available %s", v.MonthSpend, v.Available())
	}
	if d := PeriodStart(PeriodWeekly, sun); !d.Equal(time.Date(2026, 11, 23, 0, 0, 0, 0, Taipei)) {
		t.Errorf("week of Sunday starts %s", d)
	}
	// /credits and /key: lifetime totals, and the key's Taipei day, week
	// and month whatever its limit period.
	if !v.TotalCredited.Equal(decimal.RequireFromString("19.5")) || !v.TotalUsed.Equal(decimal.RequireFromString("3.875")) {
		t.Errorf("credited %s used %s", v.TotalCredited, v.TotalUsed)
	}
	if !v.KeyUsed.Equal(decimal.RequireFromString("3.875")) || !v.KeyDay.Equal(decimal.RequireFromString("2.625")) ||
		!v.KeyWeek.Equal(decimal.RequireFromString("2.625")) || !v.KeyMonth.Equal(decimal.RequireFromString("3.875")) {
		t.Errorf("key used %s day %s week %s month %s", v.KeyUsed, v.KeyDay, v.KeyWeek, v.KeyMonth)
	}
	// What every request reads: the same figures, without the totals.
	a, ok := m.Balances.Admission("a", "kd", mon.Add(2*time.Hour))
	if !ok || !a.Balance.Equal(v.Balance) || !a.CreditLimit.Equal(v.CreditLimit) || a.Plan != v.Plan ||
		a.AppliedUsageVersion != v.AppliedUsageVersion || !a.KeySpend.Equal(v.KeySpend) ||
		!a.KeySpendLimit.Equal(v.KeySpendLimit) || !a.KeyPeriodStart.Equal(v.KeyPeriodStart) ||
		!a.VolumeDiscount.Equal(v.VolumeDiscount) || !a.Available().Equal(v.Available()) {
		t.Errorf("admission %+v, view %+v", a, v)
	}
	if !a.TotalUsed.IsZero() || !a.MonthSpend.IsZero() || !a.KeyUsed.IsZero() {
		t.Errorf("admission computed totals: used %s month %s key %s", a.TotalUsed, a.MonthSpend, a.KeyUsed)
	}
	if v, _ := m.Balances.View("a", "kd", sun); !v.KeyDay.IsZero() || !v.KeyWeek.IsZero() {
		t.Errorf("Sunday after Monday's requests: day %s week %s (only the latest period is kept)", v.KeyDay, v.KeyWeek)
	}
}

func TestPricesAt(t *testing.T) {
	s := openSQLite(t)
	m := NewModels(nil)
	t1 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	t2 := t1.Add(30 * 24 * time.Hour)
	pl := func(v int, eff time.Time, in string) eventstore.EventData {
		return mustEvent(t, &domain.PriceListPublished{Version: v, EffectiveAt: eff,
			Prices: map[string]domain.ModelPrice{"gpt-4o": {Input: decimal.RequireFromString(in)}}}, t1, "pl", in)
	}
	// Published out of EffectiveAt order: version 3 takes effect before 2.
	catchUp(t, s, m, map[string][]eventstore.EventData{domain.PriceListStream: {pl(1, t1, "75"), pl(2, t2, "80"), pl(3, t1.Add(time.Hour), "77")}},
		[]string{domain.PriceListStream})
	for _, c := range []struct {
		at   time.Time
		ver  int
		in   string
		have bool
	}{{t1.Add(-time.Second), 0, "", false}, {t1, 1, "75", true}, {t1.Add(2 * time.Hour), 3, "77", true}, {t2, 2, "80", true}} {
		v, p, ok := m.Prices.At(c.at)
		if ok != c.have || v != c.ver || (ok && !p["gpt-4o"].Input.Equal(decimal.RequireFromString(c.in))) {
			t.Errorf("At(%s) = %d %v %v", c.at, v, p, ok)
		}
	}
}

func TestInvoicesAndRequestIndex(t *testing.T) {
	s := openSQLite(t)
	m := NewModels(nil)
	at := time.Date(2026, 12, 31, 17, 0, 0, 0, time.UTC) // 2027-01-01 01:00 Taipei
	catchUp(t, s, m, map[string][]eventstore.EventData{
		"invoice-AB1": {mustEvent(t, &domain.InvoiceIssued{Number: "AB1", AccountID: "a", Month: "2026-12", Kind: "b2b", Sales: 1000, Tax: 50, Total: 1050, IssuedAt: at}, at, "AB1"),
			mustEvent(t, &domain.AllowanceIssued{Number: "AL1", InvoiceNumber: "AB1", Sales: 100, Tax: 5}, at, "AL1")},
		"invoice-AB2": {mustEvent(t, &domain.InvoiceIssued{Number: "AB2", AccountID: "b", Kind: "b2c", Sales: 200, Tax: 10, Total: 210, IssuedAt: at}, at, "AB2"),
			mustEvent(t, &domain.InvoiceVoided{Number: "AB2", Reason: "typo"}, at, "V2")},
		"usage-a": {mustEvent(t, &domain.RequestCompleted{RequestID: "r-ok", KeyID: "k", AccountID: "a", Model: "gpt-4o", Provider: "openai", Upstream: "u1",
			Usage: domain.Usage{Input: 10, Output: 20, Cached: 5, Reasoning: 3}, Cost: decimal.RequireFromString("0.000123456789012"), PriceList: 4,
			StartedAt: at, LatencyMs: 321, TTFBMs: 45, Stream: true, Outcome: domain.OutcomeCompleted, FinishReason: "stop", Attempts: 2, AppTitle: "demo"}, at, "r-ok"),
			mustEvent(t, &domain.RequestFailed{RequestID: "r-bad", KeyID: "k", AccountID: "a", Model: "gpt-4o", Status: 502, Reason: "upstream down", Outcome: domain.OutcomeUpstreamFailed, Attempts: 3, StartedAt: at}, at, "r-bad")},
	}, []string{"invoice-AB1", "invoice-AB2", "usage-a"})

	if l := m.Invoices.List("2026-12", ""); len(l) != 1 || l[0].Number != "AB1" || l[0].Net() != 945 || len(l[0].Allowances) != 1 {
		t.Errorf("December: %+v", l)
	}
	if l := m.Invoices.List("2027-01", "b"); len(l) != 1 || l[0].Status != InvoiceVoided || l[0].Net() != 0 {
		t.Errorf("January (Taipei month of issue): %+v", l)
	}
	if tot := m.Invoices.Totals(); tot["2026-12"] != 945 || tot["2027-01"] != 0 {
		t.Errorf("totals %v", tot)
	}
	ok, found := m.Requests.Get("r-ok")
	if !found || !ok.Cost.Equal(decimal.RequireFromString("0.000123456789012")) || ok.Usage.Reasoning != 3 || ok.TTFBMs != 45 ||
		!ok.StartedAt.Equal(at) || ok.AppTitle != "demo" || ok.Attempts != 2 || ok.Failed || ok.Upstream != "u1" {
		t.Errorf("completed: %+v", ok)
	}
	bad, found := m.Requests.Get("r-bad")
	if !found || !bad.Failed || bad.Status != 502 || bad.Reason != "upstream down" || !bad.Cost.IsZero() {
		t.Errorf("failed: %+v", bad)
	}
}

// The usage model on the real PostgreSQL (own schema per test).
func TestUsagePostgres(t *testing.T) {
	url := testenv.PostgresURL(t)
	db, err := sql.Open("pgx", url)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	u, err := NewUsage(ctx, db, Postgres)
	if err != nil {
		t.Fatal(err)
	}
	s := openSQLite(t)
	l := newLedger()
	history(t, s, l, 5, 2, 100)
	r, _ := NewRunner(s, nil, u)
	if err := r.CatchUp(ctx); err != nil {
		t.Fatal(err)
	}
	// A second model on the same database: nothing counted twice.
	u2, err := NewUsage(ctx, db, Postgres)
	if err != nil {
		t.Fatal(err)
	}
	all, _ := s.ReadAll(ctx, eventstore.Start, 0)
	if err := u2.Apply(ctx, decodeBatch(all)); err != nil {
		t.Fatal(err)
	}
	checkUsage(t, u2, l)
	if cp, _ := u2.Checkpoint(ctx); cp != l.last {
		t.Errorf("checkpoint %s, want %s", cp, l.last)
	}
}
