package invoicing

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/invoicing/pdf/pdftest"
)

// An allowance's reason is printed in a column of its one-page 折讓證明單:
// one of at most 200 characters (docs/invoicing.md), on one line, is
// issued and read back whole on one page; a longer one, or one with a
// control character, is refused before anything is recorded (a reason of
// 3,000 characters made a document of 164 pages).
func TestAnAllowanceReasonFitsItsDocument(t *testing.T) {
	const most = 200 // docs/invoicing.md's bound, written out rather than read from the code
	e := newEnv(t, taipei(2026, 11, 10, 9, 0))
	e.assign("2026-11", "AB", 100, 199)
	e.open("firm", "王小明工作室", "04595257", domain.PlanEnterprise)
	e.use("firm", "gpt-4o", taipei(2026, 11, 3, 10, 0), 10, 10, "1100")
	inv, _, err := e.svc.IssueMonthly(e.ctx, "firm", "2026-11")
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{strings.Repeat("補", most+1), "服務中斷\n補償"} {
		if _, err := e.svc.IssueAllowance(e.ctx, inv.Number, 10, bad); !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "reason") {
			t.Fatalf("allowance reason of %d characters: %v", len([]rune(bad)), err)
		}
	}
	if got, _ := e.svc.Invoice(inv.Number); len(got.Allowances) != 0 {
		t.Fatalf("refused allowances recorded %d", len(got.Allowances))
	}
	reason := strings.Repeat("服務中斷補償", most/6) + strings.Repeat("終", most%6)
	a, err := e.svc.IssueAllowance(e.ctx, inv.Number, 10, reason)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := e.svc.AllowancePDF(&buf, a.Number); err != nil {
		t.Fatal(err)
	}
	text := pdftest.Text(t, buf.Bytes())
	if pages := strings.Count(text, "\f"); pages != 1 {
		t.Fatalf("the allowance of a %d-character reason prints on %d pages", most, pages)
	}
	// The columns beside it break the reason's lines in the extracted
	// text: count its characters rather than match it whole.
	for _, r := range []string{"補", "終"} {
		if got, want := strings.Count(text, r), strings.Count(reason, r); got != want {
			t.Fatalf("the allowance prints %d of the reason's %d %q:\n%s", got, want, r, text)
		}
	}
	pdftest.MustContain(t, text, "買受人簽收")
}
