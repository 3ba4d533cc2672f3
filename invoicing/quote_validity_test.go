package invoicing

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/routefree/routefree/invoicing/pdf/pdftest"
)

// A quote's PDF says it is valid through a Taipei day (「至中華民國115年12月5日止」):
// the agency may accept it until that day ends, and not after.
func TestAQuoteIsValidThroughTheDayItsPDFPrints(t *testing.T) {
	e := newEnv(t, taipei(2026, 11, 5, 10, 0))
	for _, c := range []struct {
		accept time.Time
		ok     bool
	}{
		{taipei(2026, 12, 5, 18, 0), true},
		{taipei(2026, 12, 5, 23, 59), true},
		{taipei(2026, 12, 6, 0, 0), false},
	} {
		e.clock.Set(taipei(2026, 11, 5, 10, 0))
		q, err := e.svc.CreateQuote(e.ctx, quoteRequest())
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		if err := e.svc.QuotePDF(&buf, q.QuoteID); err != nil {
			t.Fatal(err)
		}
		pdftest.MustContain(t, pdftest.Text(t, buf.Bytes()), "至中華民國115年12月5日止")
		e.clock.Set(c.accept)
		_, err = e.svc.AcceptQuote(e.ctx, q.QuoteID, time.Time{}, 12)
		if c.ok && err != nil {
			t.Errorf("accepted at %s: %v", c.accept, err)
		}
		if !c.ok && !errors.Is(err, ErrConflict) {
			t.Errorf("accepted at %s, after the day printed: %v", c.accept, err)
		}
	}
}
