package projections

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/shopspring/decimal"
	_ "modernc.org/sqlite" // the replay's scratch database

	"github.com/routefree/routefree/eventstore"
	"github.com/routefree/routefree/eventstore/sqlite"
)

// Figures are what an auditor compares after a replay.
type Figures struct {
	Events           uint64
	Balances         map[string]decimal.Decimal            // account → balance
	MonthlyTotals    map[string]decimal.Decimal            // Taipei month → usage cost
	MonthlyByAccount map[string]map[string]decimal.Decimal // month → account → usage cost
	InvoiceTotals    map[string]int64                      // month → net NTD invoiced
	// What OpenRouter's activity API answers, on the ActivityDays
	// completed UTC days ActivityFrom..ActivityTo before the clock's today
	// (empty without an activity model): UTC day → account and key → cost.
	ActivityFrom, ActivityTo string
	Activity                 map[string]map[KeyFigure]decimal.Decimal
	// The usage by key and app: Taipei month → account, key and app → cost
	// (empty without a key usage model).
	KeyUsage map[string]map[KeyFigure]decimal.Decimal
	Chain    eventstore.VerifyResult
	invoices []InvoiceRecord // what InvoiceTotals sums
}

// KeyFigure names a figure of one account's key, and of one app (the
// X-Title of its requests, "" for none) in the usage by key and app; App is
// "" in the activity's figures.
type KeyFigure struct{ Account, Key, App string }

// CountInvoices sums InvoiceTotals again with each invoice in the month
// month gives it: invoicing's (invoicing.Service.RecordMonth), which
// counts a payment's invoice in the month of payment however late it was
// issued, where the read model's Month may not.
func (f *Figures) CountInvoices(month func(InvoiceRecord) string) {
	f.InvoiceTotals = netByMonth(f.invoices, month)
}

// netByMonth is the net NTD of invoices by the month month gives each.
func netByMonth(invs []InvoiceRecord, month func(InvoiceRecord) string) map[string]int64 {
	out := map[string]int64{}
	for _, r := range invs {
		out[month(r)] += r.Net()
	}
	return out
}

// Replay rebuilds every projection from position zero — fresh memory models
// and a scratch SQLite database for the usage, the activity and the usage
// by key and app — and returns the figures.
// progress, when set, gets the number of events applied so far.
func Replay(ctx context.Context, store eventstore.Store, progress func(n uint64)) (*Figures, error) {
	return ReplayAt(ctx, store, progress, time.Now)
}

// ReplayAt is Replay with now as the clock the activity's window follows.
func ReplayAt(ctx context.Context, store eventstore.Store, progress func(n uint64), now func() time.Time) (*Figures, error) {
	dir, err := os.MkdirTemp("", "routefree-replay-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	// Scratch data: durability is pointless, speed is not.
	db, err := sql.Open("sqlite", sqlite.URI(filepath.Join(dir, "usage.db"), "_pragma=journal_mode(OFF)&_pragma=synchronous(OFF)&_pragma=temp_store(MEMORY)&_pragma=cache_size(-65536)"))
	if err != nil {
		return nil, err
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	usage, err := NewUsage(ctx, db, SQLite)
	if err != nil {
		return nil, err
	}
	m := NewModels(usage)
	if m.Activity, err = NewActivity(ctx, db, SQLite); err != nil {
		return nil, err
	}
	m.Activity.WithClock(now)
	if m.KeyUsage, err = NewKeyUsage(ctx, db, SQLite); err != nil {
		return nil, err
	}
	chain := NewChain(progress)
	r, err := NewRunner(store, watermill.NopLogger{}, append(m.All(), chain)...)
	if err != nil {
		return nil, err
	}
	if err := r.CatchUp(ctx); err != nil {
		return nil, fmt.Errorf("projections: replay: %w", err)
	}
	f, err := m.Figures(ctx)
	if err != nil {
		return nil, err
	}
	f.Chain, f.Events = chain.Result()
	return f, nil
}

// Figures computes the figures of the models as they stand (Events and
// Chain are left empty: they come from a Chain projection).
func (m *Models) Figures(ctx context.Context) (*Figures, error) {
	invs := m.Invoices.List("", "")
	f := &Figures{
		Balances:         m.Balances.Balances(),
		MonthlyTotals:    map[string]decimal.Decimal{},
		MonthlyByAccount: map[string]map[string]decimal.Decimal{},
		InvoiceTotals:    netByMonth(invs, func(r InvoiceRecord) string { return r.Month }),
		invoices:         invs,
	}
	var err error
	if m.Usage != nil {
		rows, err := m.Usage.All(ctx)
		if err != nil {
			return nil, err
		}
		for _, r := range rows {
			f.MonthlyTotals[r.Period] = f.MonthlyTotals[r.Period].Add(r.Cost)
			if f.MonthlyByAccount[r.Period] == nil {
				f.MonthlyByAccount[r.Period] = map[string]decimal.Decimal{}
			}
			f.MonthlyByAccount[r.Period][r.AccountID] = f.MonthlyByAccount[r.Period][r.AccountID].Add(r.Cost)
		}
	}
	if m.Activity != nil {
		f.ActivityFrom, f.ActivityTo = m.Activity.Window()
		if f.Activity, err = m.Activity.costs(ctx, f.ActivityFrom, f.ActivityTo); err != nil {
			return nil, err
		}
	}
	if m.KeyUsage != nil {
		if f.KeyUsage, err = m.KeyUsage.costs(ctx); err != nil {
			return nil, err
		}
	}
	return f, nil
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// Write prints the figures as sorted plain-text tables, the same for the
// same history on any machine.
func (f *Figures) Write(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "EVENTS %d\n", f.Events)
	if f.Chain.Break != nil {
		fmt.Fprintf(&b, "HASH CHAIN  BROKEN: %s\n", f.Chain.Break.Error())
	} else {
		fmt.Fprintf(&b, "HASH CHAIN  OK  %d events  last %s  head %x\n", f.Chain.Events, f.Chain.Last, f.Chain.Head)
	}
	total := decimal.Zero
	fmt.Fprintf(&b, "\nBALANCES (NTD)\n%-40s %24s\n", "account", "balance")
	for _, a := range sortedKeys(f.Balances) {
		fmt.Fprintf(&b, "%-40s %24s\n", a, f.Balances[a].String())
		total = total.Add(f.Balances[a])
	}
	fmt.Fprintf(&b, "%-40s %24s\n", "TOTAL", total.String())
	fmt.Fprintf(&b, "\nUSAGE BY MONTH (Asia/Taipei, NTD)\n%-8s %-40s %24s\n", "month", "account", "cost")
	for _, month := range sortedKeys(f.MonthlyTotals) {
		for _, a := range sortedKeys(f.MonthlyByAccount[month]) {
			fmt.Fprintf(&b, "%-8s %-40s %24s\n", month, a, f.MonthlyByAccount[month][a].String())
		}
		fmt.Fprintf(&b, "%-8s %-40s %24s\n", month, "TOTAL", f.MonthlyTotals[month].String())
	}
	if f.ActivityFrom != "" {
		fmt.Fprintf(&b, "\nACTIVITY BY UTC DAY (OpenRouter's activity API: the %d completed days %s..%s, NTD)\n%-10s %-40s %-40s %24s\n",
			ActivityDays, f.ActivityFrom, f.ActivityTo, "day", "account", "key", "cost")
		for _, day := range sortedKeys(f.Activity) {
			writeKeyFigures(&b, day, f.Activity[day], false)
		}
	}
	if f.KeyUsage != nil {
		fmt.Fprintf(&b, "\nKEYS AND APPS BY MONTH (usage by key and app, Asia/Taipei, NTD)\n%-8s %-40s %-40s %-24s %24s\n",
			"month", "account", "key", "app", "cost")
		for _, month := range sortedKeys(f.KeyUsage) {
			writeKeyFigures(&b, month, f.KeyUsage[month], true)
		}
	}
	fmt.Fprintf(&b, "\nINVOICES BY MONTH (net NTD)\n%-8s %16s\n", "month", "total")
	for _, month := range sortedKeys(f.InvoiceTotals) {
		fmt.Fprintf(&b, "%-8s %16d\n", month, f.InvoiceTotals[month])
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// writeKeyFigures prints the figures of one period by account, key and
// (with apps) app, quoted as a Go string ("" for none), then their TOTAL.
func writeKeyFigures(b *strings.Builder, period string, figs map[KeyFigure]decimal.Decimal, apps bool) {
	ks := make([]KeyFigure, 0, len(figs))
	for k := range figs {
		ks = append(ks, k)
	}
	slices.SortFunc(ks, func(a, b KeyFigure) int {
		return cmp.Or(cmp.Compare(a.Account, b.Account), cmp.Compare(a.Key, b.Key), cmp.Compare(a.App, b.App))
	})
	total := decimal.Zero
	for _, k := range ks {
		if apps {
			fmt.Fprintf(b, "%-8s %-40s %-40s %-24s %24s\n", period, k.Account, k.Key, strconv.Quote(k.App), figs[k].String())
		} else {
			fmt.Fprintf(b, "%-10s %-40s %-40s %24s\n", period, k.Account, k.Key, figs[k].String())
		}
		total = total.Add(figs[k])
	}
	if apps {
		fmt.Fprintf(b, "%-8s %-40s %-40s %-24s %24s\n", period, "TOTAL", "", "", total.String())
	} else {
		fmt.Fprintf(b, "%-10s %-40s %-40s %24s\n", period, "TOTAL", "", total.String())
	}
}
