package projections

import (
	"context"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/eventstore"
)

// invoiceBatch numbers a batch of events by position.
func invoiceBatch(at time.Time, bodies ...domain.Event) []Event {
	batch := make([]Event, len(bodies))
	for i, b := range bodies {
		batch[i] = Event{RecordedEvent: eventstore.RecordedEvent{EventData: eventstore.EventData{OccurredAt: at}, Position: eventstore.Position{Commit: uint64(i + 1), Prepare: uint64(i + 1)}}, Body: b}
	}
	return batch
}

// A top-up invoice counts in the month its event names as its payment's,
// whether or not the read model saw the payment (a history folded from a
// later position, a payment long before its invoice); one recorded before
// invoices named it counts in its month of issue.
func TestATopUpInvoiceCountsInThePaidMonthItNames(t *testing.T) {
	issued := time.Date(2026, 4, 1, 0, 1, 0, 0, Taipei)
	v := NewInvoices()
	err := v.Apply(context.Background(), invoiceBatch(issued,
		&domain.InvoiceIssued{Number: "AB00000001", Period: "2026-03", AccountID: "a", TopUpRef: "TX-1", PaidMonth: "2026-03", Kind: "b2c", Total: 1000, IssuedAt: issued},
		&domain.InvoiceIssued{Number: "AB00000002", Period: "2026-03", AccountID: "b", TopUpRef: "TX-2", Kind: "b2c", Total: 500, IssuedAt: issued},
	))
	if err != nil {
		t.Fatal(err)
	}
	got := v.Totals()
	if got["2026-03"] != 1000 || got["2026-04"] != 500 {
		t.Fatalf("totals by month %v, want 1000 in 2026-03 (paid then) and 500 in 2026-04 (named no paid month)", got)
	}
}

// The read model kept every payment waiting for its invoice, for two
// months, to learn the month its invoice would count in: about a hundred
// bytes for each of 100,000 accounts with a payment and no number range
// yet, a tenth of the memory budget's margin. The invoice names the month
// now, and a payment costs the read model nothing.
func TestInvoicesKeepNothingForAPaymentWaitingForItsInvoice(t *testing.T) {
	const payments = 20_000
	at := time.Date(2026, 11, 10, 9, 0, 0, 0, Taipei)
	bodies := make([]domain.Event, payments)
	for i := range bodies {
		bodies[i] = &domain.CreditsToppedUp{AccountID: fmt.Sprintf("acct_%06d", i), Amount: decimal.NewFromInt(1000),
			Method: domain.MethodBankTransfer, Reference: fmt.Sprintf("wire-%06d", i)}
	}
	batch := invoiceBatch(at, bodies...)
	v := NewInvoices()
	before := liveHeap()
	if err := v.Apply(context.Background(), batch); err != nil {
		t.Fatal(err)
	}
	kept := liveHeap() - before // the events themselves were counted before
	runtime.KeepAlive(v)
	runtime.KeepAlive(batch)
	if perPayment := kept / payments; perPayment > 8 {
		t.Fatalf("the read model keeps %d bytes for each payment waiting for its invoice (%d in all)", perPayment, kept)
	}
}

// liveHeap is the heap in use after a collection.
func liveHeap() int64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int64(m.HeapAlloc)
}
