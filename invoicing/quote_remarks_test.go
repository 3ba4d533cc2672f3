package invoicing

import (
	"bytes"
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/routefree/routefree/invoicing/pdf/pdftest"
)

// Remarks of 1,000 characters could be 999 line breaks: the quote's PDF
// ran to 22 pages, nearly all blank. Remarks take at most maxRemarksLines
// lines; at the bound the quote stays short and prints them all.
func TestQuoteRemarksLinesAreBounded(t *testing.T) {
	e := newEnv(t, taipei(2026, 11, 5, 10, 0))
	r := quoteRequest()
	r.Remarks = "甲" + strings.Repeat("\n", 998) + "乙"
	_, err := e.svc.CreateQuote(e.ctx, r)
	if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "remarks has at most 30 lines (999 given)") {
		t.Fatalf("remarks of 999 lines: %v", err)
	}
	lines := make([]string, maxRemarksLines)
	for i := range lines {
		lines[i] = "第" + strconv.Itoa(i+1) + "項"
	}
	r.Remarks = strings.Join(lines, "\n")
	q, err := e.svc.CreateQuote(e.ctx, r)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := e.svc.QuotePDF(&buf, q.QuoteID); err != nil {
		t.Fatal(err)
	}
	text := pdftest.Text(t, buf.Bytes())
	pdftest.MustContain(t, text, lines[0], lines[len(lines)-1])
	if pages := strings.Count(strings.TrimRight(text, "\f"), "\f") + 1; pages > 2 {
		t.Errorf("a quote with %d lines of remarks takes %d pages", maxRemarksLines, pages)
	}
}

// A browser sends a textarea's line breaks as CRLF, and text pasted from
// elsewhere may break lines with a lone CR. Either is a line break: the
// PDF printed the lines of a lone CR run together as one, and the bound on
// lines did not count them.
func TestQuoteRemarksBreakLinesAtCRAndCRLF(t *testing.T) {
	e := newEnv(t, taipei(2026, 11, 5, 10, 0))
	r := quoteRequest()
	r.Remarks = "付款方式為匯款\r請於驗收後付款\r\n保固一年"
	q, err := e.svc.CreateQuote(e.ctx, r)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := e.svc.QuotePDF(&buf, q.QuoteID); err != nil {
		t.Fatal(err)
	}
	text := pdftest.RawText(t, buf.Bytes())
	pdftest.MustContain(t, text, "4. 付款方式為匯款\n請於驗收後付款\n保固一年\n")

	r.Remarks = strings.Repeat("行\r", maxRemarksLines) + "行"
	if _, err := e.svc.CreateQuote(e.ctx, r); !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "remarks has at most 30 lines (31 given)") {
		t.Fatalf("remarks of 31 lines broken by CR: %v", err)
	}
}
