package projections

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
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
	// Where the SQL models' figures stand: the checkpoint of the usage
	// (MonthlyTotals, MonthlyByAccount), the activity and the usage by key
	// and app, as read with their rows. Another process sharing the read
	// models (a second serve) may have moved them past this one's memory.
	UsageAt, ActivityAt, KeyUsageAt eventstore.Position
	Chain                           eventstore.VerifyResult
	invoices                        []InvoiceRecord // what InvoiceTotals sums
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
	figs, err := replayTo(ctx, store, progress, now, nil)
	if err != nil {
		return nil, err
	}
	return figs[0], nil
}

// ReplayThrough is ReplayAt stopped at each of stops in turn: the figures
// of the history through each position, in the order stops gives them, as
// the live read models stood at those positions.
func ReplayThrough(ctx context.Context, store eventstore.Store, now func() time.Time, stops ...eventstore.Position) ([]*Figures, error) {
	if len(stops) == 0 {
		return nil, nil
	}
	return replayTo(ctx, store, nil, now, stops)
}

// through is a store whose history ends at until: a replay that reads it
// stops there.
type through struct {
	eventstore.Store
	until eventstore.Position
}

func (t *through) ReadAll(ctx context.Context, from eventstore.Position, max int) ([]eventstore.RecordedEvent, error) {
	if !from.Less(t.until) {
		return nil, nil
	}
	evs, err := t.Store.ReadAll(ctx, from, max)
	for i, e := range evs {
		if t.until.Less(e.Position) {
			return evs[:i], err
		}
	}
	return evs, err
}

// replayTo replays the history through each of stops in ascending order
// (the whole history when there are none) and returns the figures at each,
// in the order of stops.
func replayTo(ctx context.Context, store eventstore.Store, progress func(n uint64), now func() time.Time, stops []eventstore.Position) ([]*Figures, error) {
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
	var bounded *through
	if len(stops) > 0 {
		bounded = &through{Store: store}
		store = bounded
	}
	r, err := NewRunner(store, watermill.NopLogger{}, append(m.All(), chain)...)
	if err != nil {
		return nil, err
	}
	figures := func() (*Figures, error) {
		if err := r.CatchUp(ctx); err != nil {
			return nil, stoppedReplay(ctx, store, err)
		}
		f, err := m.Figures(ctx)
		if err != nil {
			return nil, err
		}
		f.Chain, f.Events = chain.Result()
		return f, nil
	}
	if bounded == nil {
		f, err := figures()
		return []*Figures{f}, err
	}
	order := make([]int, len(stops))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int {
		switch {
		case stops[a].Less(stops[b]):
			return -1
		case stops[b].Less(stops[a]):
			return 1
		}
		return 0
	})
	out := make([]*Figures, len(stops))
	var last *Figures
	for _, i := range order {
		if last == nil || bounded.until != stops[i] {
			bounded.until = stops[i]
			if last, err = figures(); err != nil {
				return nil, err
			}
		}
		out[i] = last
	}
	return out, nil
}

// stoppedReplay is the error of a replay whose projections could not fold
// the history: an event edited so that it cannot be read or decoded is
// what an auditor must hear of first, so the hash chain is checked and
// its first break named before the projections' error.
func stoppedReplay(ctx context.Context, store eventstore.Store, err error) error {
	res, verr := eventstore.Verify(ctx, store, nil)
	if verr != nil || res.Break == nil {
		return fmt.Errorf("projections: replay: %w", err)
	}
	if unreadable := (*eventstore.UnreadableEventError)(nil); errors.As(err, &unreadable) {
		return res.Break // it says all the projections' error would
	}
	return fmt.Errorf("%w; the projections stopped on the history: %v", res.Break, err)
}

// Figures computes the figures of the models as they stand (Events and
// Chain are left empty: they come from a Chain projection).
func (m *Models) Figures(ctx context.Context) (*Figures, error) {
	f := m.memoryFigures()
	return f, m.sqlFigures(ctx, f)
}

// LiveFigures reads the figures of models that r keeps current, all of one
// moment of the history: r is held (Runner.Hold) while the memory models
// are read and the SQL models write what they buffer, a few milliseconds,
// and at is where they stood. The SQL models' rows are read after, each at
// the checkpoint Figures names (UsageAt, ActivityAt, KeyUsageAt), which
// is at or past at.
func (m *Models) LiveFigures(ctx context.Context, r *Runner) (at eventstore.Position, f *Figures, err error) {
	hold, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	at, release, err := r.Hold(hold)
	if err != nil {
		return at, nil, err
	}
	f = m.memoryFigures()
	err = m.flushSQL(ctx)
	release()
	if err != nil {
		return at, nil, err
	}
	return at, f, m.sqlFigures(ctx, f)
}

// flushSQL writes what the SQL models buffer.
func (m *Models) flushSQL(ctx context.Context) error {
	if m.Usage != nil {
		if err := m.Usage.Flush(ctx); err != nil {
			return err
		}
	}
	if m.Activity != nil {
		if err := m.Activity.Flush(ctx); err != nil {
			return err
		}
	}
	if m.KeyUsage != nil {
		return m.KeyUsage.Flush(ctx)
	}
	return nil
}

// memoryFigures are the figures of the memory models: balances and invoices.
func (m *Models) memoryFigures() *Figures {
	invs := m.Invoices.List("", "")
	return &Figures{
		Balances:         m.Balances.Balances(),
		MonthlyTotals:    map[string]decimal.Decimal{},
		MonthlyByAccount: map[string]map[string]decimal.Decimal{},
		InvoiceTotals:    netByMonth(invs, func(r InvoiceRecord) string { return r.Month }),
		invoices:         invs,
	}
}

// sqlFigures adds the figures of the SQL models to f, each with the
// checkpoint its rows were read at.
func (m *Models) sqlFigures(ctx context.Context, f *Figures) (err error) {
	if m.Usage != nil {
		var rows []UsageRow
		if f.UsageAt, err = m.Usage.consistent(ctx, func() (err error) { rows, err = m.Usage.All(ctx); return err }); err != nil {
			return err
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
		if f.ActivityAt, err = m.Activity.u.consistent(ctx, func() (err error) {
			f.Activity, err = m.Activity.costs(ctx, f.ActivityFrom, f.ActivityTo)
			return err
		}); err != nil {
			return err
		}
	}
	if m.KeyUsage != nil {
		if f.KeyUsageAt, err = m.KeyUsage.u.consistent(ctx, func() (err error) { f.KeyUsage, err = m.KeyUsage.costs(ctx); return err }); err != nil {
			return err
		}
	}
	return nil
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
