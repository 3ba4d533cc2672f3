package invoicing

import (
	"testing"

	"github.com/routefree/routefree/domain"
)

// AddRange says whether it added the range: the same range again, from
// this service or another that has not read it yet, records nothing and
// says so, so that no surface tells finance it was added.
func TestAddRangeSaysWhetherItAdded(t *testing.T) {
	e := newEnv(t, taipei(2026, 11, 10, 9, 0))
	other := e.newService() // has not read the period's ranges
	if added, err := e.svc.AddRange(e.ctx, "2026-11", "AB", 12345000, 12345999); !added || err != nil {
		t.Fatalf("a new range: added %v, %v", added, err)
	}
	for _, svc := range []*Service{e.svc, other} {
		if added, err := svc.AddRange(e.ctx, "2026-11", "AB", 12345000, 12345999); added || err != nil {
			t.Fatalf("the same range again: added %v, %v; want not added", added, err)
		}
	}
	n := 0
	evs, err := e.store.ReadStream(e.ctx, domain.InvoiceRangeStream("2026-11"), 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range evs {
		if ev.Type == domain.TypeInvoiceRangeSet {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("%d ranges recorded, want 1", n)
	}
}

// A period has ended from the first instant after it in Taipei: a range
// added to it numbers no invoice issued now.
func TestPeriodEndedInTaipei(t *testing.T) {
	e := newEnv(t, taipei(2027, 1, 1, 0, 0))
	for period, want := range map[string]bool{"2026-09": true, "2026-11": true, "2027-01": false, "2027-03": false, "2026-10": false} {
		if got := e.svc.PeriodEnded(period); got != want {
			t.Errorf("period %s ended at 2027-01-01 00:00 Taipei: %v, want %v", period, got, want)
		}
	}
	e.clock.Set(taipei(2026, 12, 31, 23, 59))
	if e.svc.PeriodEnded("2026-11") {
		t.Error("period 2026-11 ended a minute before its end")
	}
}
