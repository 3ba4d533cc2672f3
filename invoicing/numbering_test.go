package invoicing

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"testing"

	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/eventstore"
)

// 16 issuers, each its own Service (as separate processes would be), issue
// at once from one range: every number is used once, none is skipped.
func TestConcurrentIssuersNumbersUniqueAndContiguous(t *testing.T) {
	e := newEnv(t, taipei(2026, 11, 10, 9, 0))
	e.assign("2026-11", "AB", 12345000, 12345999)
	const issuers, perIssuer = 16, 4
	for i := range issuers * perIssuer {
		acct := fmt.Sprintf("acct-%03d", i)
		e.open(acct, "公司"+acct, "", domain.PlanBusiness)
		e.use(acct, "gpt-4o", taipei(2026, 11, 2, 10, 0), 10, 10, "100")
	}
	var wg sync.WaitGroup
	numbers := make(chan string, issuers*perIssuer*2)
	errs := make(chan error, issuers*perIssuer*2)
	for g := range issuers {
		svc := e.newService()
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := range perIssuer {
				acct := fmt.Sprintf("acct-%03d", g*perIssuer+k)
				inv, created, err := svc.IssueMonthly(e.ctx, acct, "2026-11")
				if err != nil {
					errs <- err
					return
				}
				if created {
					numbers <- inv.Number
				}
				// Another issuer's account too: exactly one of the two creates it.
				other := fmt.Sprintf("acct-%03d", ((g+1)%issuers)*perIssuer+k)
				inv, created, err = svc.IssueMonthly(e.ctx, other, "2026-11")
				if err != nil {
					errs <- err
					return
				}
				if created {
					numbers <- inv.Number
				}
			}
		}()
	}
	wg.Wait()
	close(numbers)
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	var got []string
	for n := range numbers {
		got = append(got, n)
	}
	sort.Strings(got)
	if len(got) != issuers*perIssuer {
		t.Fatalf("%d invoices created, want %d", len(got), issuers*perIssuer)
	}
	for i, n := range got {
		if want := fmt.Sprintf("AB%08d", 12345000+i); n != want {
			t.Fatalf("number %d is %s, want %s (gap or duplicate)", i, n, want)
		}
	}
	// The store agrees: one invoice per account, numbers as handed out.
	fresh := e.newService()
	if err := fresh.Sync(e.ctx); err != nil {
		t.Fatal(err)
	}
	stored := fresh.PeriodInvoices("2026-11")
	accounts := map[string]bool{}
	for i, inv := range stored {
		if inv.Number != got[i] || accounts[inv.AccountID] {
			t.Fatalf("stored invoice %d: %s for %s", i, inv.Number, inv.AccountID)
		}
		accounts[inv.AccountID] = true
	}
	if len(stored) != len(got) {
		t.Fatalf("store holds %d invoices, issuers created %d", len(stored), len(got))
	}
}

func TestRangeExhaustedAndMissing(t *testing.T) {
	e := newEnv(t, taipei(2026, 11, 10, 9, 0))
	for i := range 3 {
		acct := fmt.Sprintf("a%d", i)
		e.open(acct, "公司", "", domain.PlanBusiness)
		e.use(acct, "gpt-4o", taipei(2026, 10, 2, 10, 0), 10, 10, "100")
	}
	if _, err := e.svc.Close(e.ctx, "2026-10", CloseOptions{}); !errors.Is(err, ErrNoRange) {
		t.Fatalf("close without a range: %v, want ErrNoRange", err)
	}
	e.assign("2026-11", "AB", 98, 99) // two numbers for three invoices
	if err := e.svc.AssignRange(e.ctx, "2026-11", "AB", 1, 99); !errors.Is(err, ErrConflict) {
		t.Fatalf("second range: %v, want ErrConflict", err)
	}
	e.assign("2026-11", "AB", 98, 99) // the same again is harmless
	rep, err := e.svc.Close(e.ctx, "2026-10", CloseOptions{})
	if !errors.Is(err, ErrRangeExhausted) {
		t.Fatalf("close past the range: %v, want ErrRangeExhausted", err)
	}
	if len(rep.Issued) != 2 || rep.Issued[0].Number != "AB00000098" || rep.Issued[1].Number != "AB00000099" {
		t.Fatalf("issued %+v", rep.Issued)
	}
	if _, _, err := e.svc.IssueMonthly(e.ctx, "a2", "2026-10"); !errors.Is(err, ErrRangeExhausted) {
		t.Fatalf("issue past the range: %v", err)
	}
}

// A period takes several ranges: overlaps are refused, numbers run through
// the ranges in the order they were assigned, and finance sees what is left.
func TestSeveralRangesPerPeriod(t *testing.T) {
	e := newEnv(t, taipei(2026, 11, 10, 9, 0))
	for i := range 6 {
		acct := fmt.Sprintf("a%d", i)
		e.open(acct, "公司", "", domain.PlanBusiness)
		e.use(acct, "gpt-4o", taipei(2026, 10, 2, 10, 0), 10, 10, "100")
	}
	e.assign("2026-11", "AB", 100, 101)
	for _, r := range []struct {
		prefix   string
		from, to int64
	}{{"AB", 101, 105}, {"AB", 90, 100}, {"AB", 0, 200}} {
		if err := e.svc.AssignRange(e.ctx, "2026-11", r.prefix, r.from, r.to); !errors.Is(err, ErrConflict) {
			t.Fatalf("overlapping range %v: %v, want ErrConflict", r, err)
		}
	}
	e.assign("2026-11", "CD", 100, 101) // same numbers, another 字軌: no overlap
	e.assign("2026-11", "AB", 100, 101) // the same again is harmless
	e.assign("2026-11", "AB", 50, 50)   // lower, but used after the others
	st := e.svc.RangeStatus("2026-11")
	if len(st.Ranges) != 3 || st.Size != 5 || st.Left != 5 || st.Used != 0 || st.Low {
		t.Fatalf("status before issue %+v", st)
	}
	rep, err := e.svc.Close(e.ctx, "2026-10", CloseOptions{})
	if !errors.Is(err, ErrRangeExhausted) {
		t.Fatalf("close of 6 with 5 numbers: %v, want ErrRangeExhausted", err)
	}
	var got []string
	for _, inv := range rep.Issued {
		got = append(got, inv.Number)
	}
	if fmt.Sprint(got) != "[AB00000100 AB00000101 CD00000100 CD00000101 AB00000050]" {
		t.Fatalf("numbers %v", got)
	}
	st = e.svc.RangeStatus("2026-11")
	if st.Left != 0 || st.Used != 5 || !st.Low || st.Ranges[0].Left != 0 || st.Ranges[2].Used != 1 {
		t.Fatalf("status after issue %+v", st)
	}
	// A new range lets the rest be issued: nothing waits for the next period.
	e.assign("2026-11", "EF", 1, 1000)
	if inv, _, err := e.svc.IssueMonthly(e.ctx, "a5", "2026-10"); err != nil || inv.Number != "EF00000001" {
		t.Fatalf("issue after a new range: %v %v", inv.Number, err)
	}
	// Another process sees the same ranges and counts.
	fresh := e.newService()
	if err := fresh.Sync(e.ctx); err != nil {
		t.Fatal(err)
	}
	if st := fresh.RangeStatus("2026-11"); len(st.Ranges) != 4 || st.Used != 6 || st.Left != 999 || st.Low {
		t.Fatalf("status in another service %+v", st)
	}
}

// An issuer that has not read a period's ranges yet reads them all before
// it adds one: a range another process assigned, and the invoices it
// numbered from it, are never overlapped.
func TestRangeAssignedElsewhereIsSeenBeforeAssigning(t *testing.T) {
	e := newEnv(t, taipei(2026, 11, 10, 9, 0))
	other := e.newService() // started before the period had a range
	e.assign("2026-11", "AB", 12345000, 12345999)
	for _, acct := range []string{"acct-a", "acct-b"} {
		e.open(acct, "公司"+acct, "", domain.PlanBusiness)
		e.use(acct, "gpt-4o", taipei(2026, 11, 2, 10, 0), 10, 10, "100")
		if _, _, err := e.svc.IssueMonthly(e.ctx, acct, "2026-11"); err != nil {
			t.Fatal(err)
		}
	}
	if err := other.AssignRange(e.ctx, "2026-11", "AB", 12345500, 12346499); !errors.Is(err, ErrConflict) {
		t.Fatalf("an overlapping range: %v, want a conflict", err)
	}
	if err := other.AssignRange(e.ctx, "2026-11", "AB", 12346000, 12346999); err != nil {
		t.Fatal(err)
	}
	if st := other.RangeStatus("2026-11"); len(st.Ranges) != 2 || st.Size != 2000 || st.Used != 2 {
		t.Fatalf("the period as the other issuer sees it: %+v", st)
	}
}

// A period runs low when less than a tenth of its numbers are left: with
// exactly a tenth left it does not yet.
func TestRangeRunsLowBelowATenth(t *testing.T) {
	e := newEnv(t, taipei(2026, 11, 10, 9, 0))
	e.assign("2026-11", "AB", 12345000, 12345009)
	issue := func(i int) {
		acct := fmt.Sprintf("acct-%02d", i)
		e.open(acct, "公司"+acct, "", domain.PlanBusiness)
		e.use(acct, "gpt-4o", taipei(2026, 11, 2, 10, 0), 10, 10, "100")
		if _, _, err := e.svc.IssueMonthly(e.ctx, acct, "2026-11"); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 9 {
		issue(i)
	}
	if st := e.svc.RangeStatus("2026-11"); st.Size != 10 || st.Used != 9 || st.Left != 1 || st.Low {
		t.Fatalf("a tenth left: %+v", st)
	}
	issue(9)
	if st := e.svc.RangeStatus("2026-11"); st.Left != 0 || !st.Low {
		t.Fatalf("none left: %+v", st)
	}
}

// An issuer whose last Sync came before the period had a range (another
// process assigned it, and numbered from it, since) reads the range stream
// from its start when it numbers: the range, and the numbers taken.
func TestIssuerReadsTheRangeStreamFromItsStart(t *testing.T) {
	e := newEnv(t, taipei(2026, 11, 10, 9, 0))
	for _, acct := range []string{"acct-a", "acct-b", "acct-c"} {
		e.open(acct, "公司"+acct, "", domain.PlanBusiness)
		e.use(acct, "gpt-4o", taipei(2026, 11, 2, 10, 0), 10, 10, "100")
	}
	other := e.newService()
	if err := other.Sync(e.ctx); err != nil {
		t.Fatal(err)
	}
	// Meanwhile, elsewhere: the range, and two invoices numbered from it.
	e.assign("2026-11", "AB", 12345000, 12345999)
	for _, acct := range []string{"acct-a", "acct-b"} {
		if _, _, err := e.svc.IssueMonthly(e.ctx, acct, "2026-11"); err != nil {
			t.Fatal(err)
		}
	}
	at := other.issueTime()
	other.mu.Lock()
	d, skip, ok := other.monthlyDraft("acct-c", "2026-11", at)
	other.mu.Unlock()
	if !ok || skip != nil {
		t.Fatalf("no draft for acct-c: %v %+v", ok, skip)
	}
	out, created, err := other.allocateOne(e.ctx, d)
	if err != nil || !created || out.Number != "AB12345002" {
		t.Fatalf("numbered %+v %v: %v", out, created, err)
	}
}

// racingStore is the store with a rival issuer that, just before each of
// the next n appends to stream, appends there first: what a concurrent
// process does at the worst moment, so that the append meets a real
// wrong-expected-version conflict.
type racingStore struct {
	eventstore.Store
	stream string
	n      int
	race   func(i int)
}

func (r *racingStore) Append(ctx context.Context, stream string, exp eventstore.ExpectedVersion, events ...eventstore.EventData) (eventstore.AppendResult, error) {
	if stream == r.stream && r.n > 0 {
		r.n--
		r.race(r.n)
	}
	return r.Store.Append(ctx, stream, exp, events...)
}

// An issuer that loses the race for a period's range stream several times
// in a row reads again and decides again each time, for a range as for an
// invoice's number.
func TestIssuerRetriesEveryLostRace(t *testing.T) {
	e := newEnv(t, taipei(2026, 11, 10, 9, 0))
	rival := e.newService()
	racing := &racingStore{Store: e.store, stream: domain.InvoiceRangeStream("2026-11"), n: 3}
	svc, err := New(racing, Config{Seller: DevSeller(), Now: e.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	racing.race = func(i int) {
		if err := rival.AssignRange(e.ctx, "2026-11", fmt.Sprintf("A%c", 'C'+i), 10000000, 10000999); err != nil {
			t.Fatal(err)
		}
	}
	if err := svc.AssignRange(e.ctx, "2026-11", "AB", 12345000, 12345999); err != nil {
		t.Fatal(err)
	}
	if st := svc.RangeStatus("2026-11"); len(st.Ranges) != 4 || st.Ranges[3].Prefix != "AB" {
		t.Fatalf("after three lost races: %+v", st)
	}

	for _, acct := range []string{"acct-a", "acct-b", "acct-c", "acct-d"} {
		e.open(acct, "公司"+acct, "", domain.PlanBusiness)
		e.use(acct, "gpt-4o", taipei(2026, 11, 2, 10, 0), 10, 10, "100")
	}
	racing.n = 3
	racing.race = func(i int) {
		if _, _, err := rival.IssueMonthly(e.ctx, fmt.Sprintf("acct-%c", 'b'+i), "2026-11"); err != nil {
			t.Fatal(err)
		}
	}
	inv, created, err := svc.IssueMonthly(e.ctx, "acct-a", "2026-11")
	if err != nil || !created || inv.Number != "AE10000003" {
		t.Fatalf("after three lost races: %v %v %s", err, created, inv.Number)
	}
}
