package invoicing

import (
	"bytes"
	"testing"
	"time"

	"github.com/routefree/routefree/invoicing/pdf/pdftest"
	"github.com/routefree/routefree/invoicing/twrules"
)

// A contract of months counts them as the civil code does (民法 §121):
// it ends the day before the start's day in the last month, or, when that
// month has no such day, on its last day. A month from January 31 ends on
// February 28, not on March 2 (Go's AddDate runs February 31 on into
// March); its PDF prints that day, and a retry of the acceptance with the
// same terms is answered with the same contract.
func TestContractMonthsEndWithinTheLastMonth(t *testing.T) {
	for _, c := range []struct {
		start   time.Time
		months  int
		lastDay string // printed
		end     time.Time
	}{
		{taipei(2027, 1, 31, 0, 0), 1, "中華民國116年2月28日", taipei(2027, 3, 1, 0, 0)},
		{taipei(2027, 1, 30, 0, 0), 1, "中華民國116年2月28日", taipei(2027, 3, 1, 0, 0)},
		{taipei(2027, 8, 31, 0, 0), 6, "中華民國117年2月29日", taipei(2028, 3, 1, 0, 0)},
		{taipei(2027, 3, 31, 0, 0), 1, "中華民國116年4月30日", taipei(2027, 5, 1, 0, 0)},
		{taipei(2027, 1, 15, 0, 0), 1, "中華民國116年2月14日", taipei(2027, 2, 15, 0, 0)},
		{taipei(2027, 1, 1, 0, 0), 12, "中華民國116年12月31日", taipei(2028, 1, 1, 0, 0)},
	} {
		e := newEnv(t, taipei(2027, 1, 5, 10, 0))
		q, err := e.svc.CreateQuote(e.ctx, quoteRequest())
		if err != nil {
			t.Fatal(err)
		}
		acc, err := e.svc.AcceptQuote(e.ctx, q.QuoteID, c.start, c.months)
		if err != nil {
			t.Fatal(err)
		}
		if got := acc.Contract.PeriodEnd; !got.Equal(c.end) {
			t.Errorf("%d months from %s: the service stops at %s, want %s", c.months, c.start.Format(time.DateOnly),
				got.In(twrules.Taipei).Format(time.DateTime), c.end.Format(time.DateTime))
		}
		var buf bytes.Buffer
		if err := e.svc.ContractPDF(&buf, acc.Contract.ContractID); err != nil {
			t.Fatal(err)
		}
		pdftest.MustContain(t, pdftest.Text(t, buf.Bytes()), "起至"+c.lastDay+"止")
		if _, err := e.svc.AcceptQuote(e.ctx, q.QuoteID, c.start, c.months); err != nil {
			t.Errorf("the same acceptance again: %v", err)
		}
	}
}
