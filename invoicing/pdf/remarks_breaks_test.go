package pdf

import (
	"bytes"
	"testing"

	"github.com/routefree/routefree/invoicing/pdf/pdftest"
)

// A quote recorded before remarks were written with LF alone may break
// their lines with CRLF or a lone CR: its PDF prints each as a line break,
// not the lines of a lone CR run together.
func TestQuoteRemarksRecordedWithCRBreakLines(t *testing.T) {
	r := testRenderer(t)
	q := testQuote()
	q.Remarks = "付款方式為匯款\r請於驗收後付款\r\n保固一年"
	doc := render(t, func(b *bytes.Buffer) error { return r.RenderQuote(b, q, testSeller()) })
	pdftest.MustContain(t, pdftest.RawText(t, doc), "4. 付款方式為匯款\n請於驗收後付款\n保固一年\n")
}
