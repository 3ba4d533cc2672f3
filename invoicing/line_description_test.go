package invoicing

import (
	"bytes"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/invoicing/mig"
)

// An invoice line names the model it bills. A model ID long enough (a
// catalog's own models are the operator's to name) made the line's
// description longer than MIG's 500 characters: the invoice was issued,
// and the period's F0401 export then failed. The description is now cut
// to fit, keeping the model ID's start and the month, and the export
// succeeds.
func TestLongModelIDFitsTheLineDescription(t *testing.T) {
	e := newEnv(t, taipei(2026, 11, 1, 9, 0))
	e.assign("2026-11", "AB", 12345000, 12345999)
	e.open("acct", "長模型公司", "04595257", domain.PlanBusiness)
	model := "vendor/" + strings.Repeat("m", 600)
	e.use("acct", model, taipei(2026, 11, 3, 10, 0), 1234567, 7654321, "100")
	e.clock.Set(taipei(2026, 11, 20, 10, 0))
	inv, _, err := e.svc.IssueMonthly(e.ctx, "acct", "2026-11")
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range inv.Lines {
		if n := utf8.RuneCountInString(l.Description); n > mig.MaxDescription {
			t.Errorf("line description is %d characters", n)
		}
		if !strings.HasPrefix(l.Description, model[:100]) || !strings.Contains(l.Description, "2026-11") {
			t.Errorf("line description %q lost the model or the month", l.Description)
		}
	}
	var zip bytes.Buffer
	if err := e.svc.ExportF0401(&zip, "2026-11"); err != nil {
		t.Fatalf("the period's export: %v", err)
	}
}
