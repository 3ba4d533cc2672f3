package invoicing

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/routefree/routefree/invoicing/pdf/pdftest"
)

// An issued quote and its contract print the seller they were issued by:
// a later change of the seller's configuration changes neither PDF.
func TestQuoteRendersTheSellerItWasIssuedBy(t *testing.T) {
	e := newEnv(t, taipei(2026, 11, 5, 10, 0))
	q, err := e.svc.CreateQuote(e.ctx, quoteRequest())
	if err != nil {
		t.Fatal(err)
	}
	acc, err := e.svc.AcceptQuote(e.ctx, q.QuoteID, time.Time{}, 12)
	if err != nil {
		t.Fatal(err)
	}
	render := func(svc *Service) (quote, contract string) {
		t.Helper()
		var qb, cb bytes.Buffer
		if err := svc.QuotePDF(&qb, q.QuoteID); err != nil {
			t.Fatal(err)
		}
		if err := svc.ContractPDF(&cb, acc.Contract.ContractID); err != nil {
			t.Fatal(err)
		}
		return pdftest.Text(t, qb.Bytes()), pdftest.Text(t, cb.Bytes())
	}
	beforeQ, beforeC := render(e.svc)
	pdftest.MustContain(t, beforeQ, DevSeller().Name, DevSeller().Responsible, "統一編號：12345675")

	moved := DevSeller()
	moved.Name, moved.TaxID, moved.Address, moved.Phone = "新路由股份有限公司", "04595257", "新北市板橋區縣民大道二段7號", "02-2960-0000"
	moved.Email, moved.Contact, moved.Responsible, moved.BankAccount = "ar@new.tw", "會計部", "林小明", "玉山銀行 板橋分行 999-888"
	svc, err := New(e.store, Config{Seller: moved, Now: e.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.Sync(e.ctx); err != nil {
		t.Fatal(err)
	}
	afterQ, afterC := render(svc)
	if beforeQ != afterQ {
		t.Errorf("quote text changed with the configuration:\n%s\n---\n%s", beforeQ, afterQ)
	}
	if beforeC != afterC {
		t.Errorf("contract text changed with the configuration:\n%s\n---\n%s", beforeC, afterC)
	}
	// A quote issued now prints the new seller.
	later, err := svc.CreateQuote(e.ctx, quoteRequest())
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := svc.QuotePDF(&buf, later.QuoteID); err != nil {
		t.Fatal(err)
	}
	text := pdftest.Text(t, buf.Bytes())
	pdftest.MustContain(t, text, moved.Name, moved.Responsible, "統一編號：04595257")
	if strings.Contains(text, DevSeller().Name) {
		t.Errorf("the new quote shows the old seller:\n%s", text)
	}
}
