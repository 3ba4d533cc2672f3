package invoicing

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/routefree/routefree/invoicing/pdf/pdftest"

	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/eventstore"
)

func quoteRequest() QuoteRequest {
	return QuoteRequest{
		Agency: "臺北市政府資訊局", AgencyTaxID: "04595257", AgencyAddr: "臺北市信義區市府路1號", Contact: "林承辦",
		Items: []domain.QuoteItem{
			{Name: "AI API 服務（月費）", Spec: "Business 方案", Quantity: dec("12"), Unit: "月", UnitPrice: dec("500")},
			{Name: "模型用量", Spec: "gpt-4o 輸入 tokens", Quantity: dec("20"), Unit: "百萬tokens", UnitPrice: dec("285.7")},
		},
		Remarks: "服務期間內單價不調漲。", Plan: domain.PlanBusiness,
	}
}

func TestQuoteTotals(t *testing.T) {
	// 6,000 + 5,714 = 11,714 net → 586 tax (once, on the subtotal) → 12,300.
	if s, tax, tot := QuoteTotals(quoteRequest().Items); s != 11714 || tax != 586 || tot != 12300 {
		t.Fatalf("totals %d %d %d", s, tax, tot)
	}
	// Half-up on the subtotal: 49.5 → 50 → tax 2.5 → 3.
	if s, tax, tot := QuoteTotals([]domain.QuoteItem{{Quantity: dec("3"), UnitPrice: dec("16.5")}}); s != 50 || tax != 3 || tot != 53 {
		t.Fatalf("half-up totals %d %d %d", s, tax, tot)
	}
}

func TestQuoteToContract(t *testing.T) {
	e := newEnv(t, taipei(2026, 11, 5, 10, 0))
	if _, err := e.svc.CreateQuote(e.ctx, QuoteRequest{Agency: "x"}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("quote without items: %v", err)
	}
	q, err := e.svc.CreateQuote(e.ctx, quoteRequest())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(q.QuoteID, "Q-20261105-") || q.Subtotal != 11714 || q.Tax != 586 || q.Total != 12300 || q.ValidDays != 30 {
		t.Fatalf("quote %+v", q.QuoteIssued)
	}
	var buf bytes.Buffer
	if err := e.svc.QuotePDF(&buf, q.QuoteID); err != nil {
		t.Fatal(err)
	}
	pdftest.MustContain(t, pdftest.Text(t, buf.Bytes()), "報", q.QuoteID, "臺北市政府資訊局", "04595257", "中華民國115年11月5日",
		"11,714", "586", "12,300", "新臺幣壹萬貳仟參佰元整", "統一編號：12345675")

	e.clock.Set(taipei(2026, 11, 20, 10, 0))
	acc, err := e.svc.AcceptQuote(e.ctx, q.QuoteID, time.Time{}, 12)
	if err != nil {
		t.Fatal(err)
	}
	c := acc.Contract
	if !acc.Accepted || c == nil || c.ContractID != "C-"+strings.TrimPrefix(q.QuoteID, "Q-") || c.Plan != domain.PlanBusiness ||
		!c.PeriodStart.Equal(taipei(2026, 12, 1, 0, 0)) || !c.PeriodEnd.Equal(taipei(2027, 12, 1, 0, 0)) {
		t.Fatalf("accepted %+v contract %+v", acc.Accepted, c)
	}
	again, err := e.svc.AcceptQuote(e.ctx, q.QuoteID, time.Time{}, 12)
	if err != nil || again.Contract.ContractID != c.ContractID || !again.Contract.PeriodEnd.Equal(c.PeriodEnd) {
		t.Fatalf("accepting twice: %v %+v", err, again.Contract)
	}
	buf.Reset()
	if err := e.svc.ContractPDF(&buf, c.ContractID); err != nil {
		t.Fatal(err)
	}
	pdftest.MustContain(t, pdftest.Text(t, buf.Bytes()), "AI API 服務契約書", c.ContractID, q.QuoteID, "臺北市政府資訊局",
		"中華民國115年12月1日", "中華民國116年11月30日", "新臺幣壹萬貳仟參佰元整", "Business 方案（月結）", "中華民國115年11月20日")

	// An expired quote cannot be accepted.
	late, err := e.svc.CreateQuote(e.ctx, quoteRequest())
	if err != nil {
		t.Fatal(err)
	}
	e.clock.Set(taipei(2027, 1, 20, 10, 0))
	if _, err := e.svc.AcceptQuote(e.ctx, late.QuoteID, time.Time{}, 0); !errors.Is(err, ErrConflict) {
		t.Fatalf("accepting an expired quote: %v", err)
	}
}

func TestSellerConfig(t *testing.T) {
	if err := DevSeller().Validate(); err != nil {
		t.Fatalf("development default invalid: %v", err)
	}
	env := map[string]string{
		"ROUTEFREE_SELLER_NAME": "測試股份有限公司", "ROUTEFREE_SELLER_TAX_ID": "12345678",
		"ROUTEFREE_INVOICE_AES_KEY": "not-hex", "ROUTEFREE_SELLER_ADDRESS": "新北市板橋區",
	}
	c := SellerFromEnv(func(k string) string { return env[k] })
	if c.Name != "測試股份有限公司" || c.Address != "新北市板橋區" || c.Responsible != DevSeller().Responsible {
		t.Fatalf("env not applied over defaults: %+v", c)
	}
	err := c.Validate()
	if err == nil || !strings.Contains(err.Error(), "12345678") || !strings.Contains(err.Error(), "AES") {
		t.Fatalf("Validate should report the bad 統一編號 and key together: %v", err)
	}
	if !DevSeller().IsDevKey() {
		t.Error("the development key is not recognised")
	}
}

// quoteEvents is how many events a quote's stream holds.
func (e *env) quoteEvents(id string) int {
	e.t.Helper()
	evs, err := e.store.ReadStream(e.ctx, domain.QuoteStream(id), 0, 100)
	if err != nil {
		e.t.Fatal(err)
	}
	return len(evs)
}

// Terms a contract cannot have are refused before anything is appended:
// months beyond MaxContractMonths or below zero, a start before the month
// of signing or more than a year after it. The store stays readable.
func TestAcceptQuoteRefusesBadTerms(t *testing.T) {
	e := newEnv(t, taipei(2026, 12, 6, 10, 0))
	q, err := e.svc.CreateQuote(e.ctx, quoteRequest())
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name   string
		start  time.Time
		months int
		want   string
	}{
		{"a million months", time.Time{}, 1_000_000, "months must be 1 to 120"},
		{"121 months", time.Time{}, MaxContractMonths + 1, "months must be 1 to 120"},
		{"negative months", time.Time{}, -3, "months must be 1 to 120"},
		{"a past start", taipei(2020, 1, 1, 0, 0), 12, "start 2020-01-01 is before 2026-12-01"},
		{"the day before the month of signing", taipei(2026, 11, 30, 0, 0), 12, "start 2026-11-30 is before 2026-12-01"},
		{"a start past a year", taipei(2027, 12, 7, 0, 0), 12, "start 2027-12-07 is more than a year after"},
		{"the year 9999", taipei(9999, 12, 1, 0, 0), 120, "more than a year after"},
	} {
		_, err := e.svc.AcceptQuote(e.ctx, q.QuoteID, c.start, c.months)
		if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v; want ErrInvalid saying %q", c.name, err, c.want)
		}
	}
	if n := e.quoteEvents(q.QuoteID); n != 1 {
		t.Fatalf("refused acceptances appended: the quote's stream holds %d events", n)
	}
	// The first day of the month of signing and the longest term are fine,
	// and a fresh service folds the contract.
	acc, err := e.svc.AcceptQuote(e.ctx, q.QuoteID, taipei(2026, 12, 1, 0, 0), MaxContractMonths)
	if err != nil {
		t.Fatal(err)
	}
	if !acc.Contract.PeriodEnd.Equal(taipei(2036, 12, 1, 0, 0)) {
		t.Fatalf("120 months from 2026-12-01 end %v", acc.Contract.PeriodEnd)
	}
	fresh := e.newService()
	if err := fresh.Sync(e.ctx); err != nil {
		t.Fatalf("a fresh service cannot fold the store: %v", err)
	}
	if c, err := fresh.Contract(acc.Contract.ContractID); err != nil || !c.Contract.PeriodStart.Equal(acc.Contract.PeriodStart) {
		t.Fatalf("fresh service's contract: %+v %v", c.Contract, err)
	}
}

// Accepting an accepted quote again returns its contract when the terms
// given match it (terms left out match), and is a conflict naming the
// contract otherwise.
func TestAcceptQuoteAgain(t *testing.T) {
	e := newEnv(t, taipei(2026, 11, 20, 10, 0))
	q, err := e.svc.CreateQuote(e.ctx, quoteRequest())
	if err != nil {
		t.Fatal(err)
	}
	acc, err := e.svc.AcceptQuote(e.ctx, q.QuoteID, taipei(2027, 1, 1, 0, 0), 6)
	if err != nil {
		t.Fatal(err)
	}
	id := acc.Contract.ContractID
	e.clock.Set(taipei(2027, 2, 3, 10, 0)) // the start is in the past by now
	for _, same := range []struct {
		start  time.Time
		months int
	}{{taipei(2027, 1, 1, 0, 0), 6}, {time.Time{}, 0}, {taipei(2027, 1, 1, 0, 0), 0}, {time.Time{}, 6}} {
		again, err := e.svc.AcceptQuote(e.ctx, q.QuoteID, same.start, same.months)
		if err != nil || again.Contract.ContractID != id || !again.Contract.PeriodEnd.Equal(acc.Contract.PeriodEnd) {
			t.Fatalf("accepting again with %v, %d: %v %+v", same.start, same.months, err, again.Contract)
		}
	}
	for _, other := range []struct {
		start  time.Time
		months int
	}{{time.Time{}, 12}, {taipei(2027, 3, 1, 0, 0), 0}, {taipei(2027, 1, 1, 0, 0), 7}} {
		_, err := e.svc.AcceptQuote(e.ctx, q.QuoteID, other.start, other.months)
		if !errors.Is(err, ErrConflict) || !strings.Contains(err.Error(), id) {
			t.Fatalf("accepting again with %v, %d: %v; want a conflict naming %s", other.start, other.months, err, id)
		}
	}
	if n := e.quoteEvents(q.QuoteID); n != 3 {
		t.Fatalf("the quote's stream holds %d events, want 3", n)
	}
}

// No invoicing event is appended that would not read back: a date past
// the year 9999 is refused by encode itself.
func TestEncodeRefusesWhatWouldNotReadBack(t *testing.T) {
	c := &domain.ContractIssued{ContractID: "C-1", QuoteID: "Q-1", Plan: domain.PlanBusiness,
		PeriodStart: taipei(2026, 12, 1, 0, 0), PeriodEnd: time.Date(85360, 4, 30, 16, 0, 0, 0, time.UTC)}
	if _, err := encode(context.Background(), domain.EventID("x"), time.Now(), c); !errors.Is(err, ErrInvalid) {
		t.Fatalf("encoding a contract ending in 85360: %v", err)
	}
	c.PeriodEnd = taipei(2027, 12, 1, 0, 0)
	if _, err := encode(context.Background(), domain.EventID("x"), time.Now(), c); err != nil {
		t.Fatal(err)
	}
}

// An event invoicing cannot fold (one an older build let through) stops
// folding; Stalled names it, for readiness, and the projector stops.
func TestStalledOnAnEventItCannotFold(t *testing.T) {
	e := newEnv(t, taipei(2026, 12, 6, 10, 0))
	q, err := e.svc.CreateQuote(e.ctx, quoteRequest())
	if err != nil {
		t.Fatal(err)
	}
	if err := e.svc.Stalled(); err != nil {
		t.Fatalf("stalled before any bad event: %v", err)
	}
	bad := []byte(`{"contract_id":"C-1","quote_id":"` + q.QuoteID + `","period_start":"2026-12-31T16:00:00Z","period_end":"85360-04-30T16:00:00Z","plan":"business","actor":{}}`)
	d := eventstore.EventData{ID: domain.EventID("bad"), Type: domain.TypeContractIssued,
		SchemaVersion: (&domain.ContractIssued{}).SchemaVersion(), OccurredAt: time.Now().UTC(), Data: bad}
	if _, err := e.store.Append(e.ctx, domain.QuoteStream(q.QuoteID), eventstore.Any(), d); err != nil {
		t.Fatal(err)
	}
	svc := e.newService()
	if err := svc.Run(e.ctx, nil); err == nil {
		t.Fatal("the projector ran on past an event it cannot fold")
	}
	err = svc.Stalled()
	if err == nil || !strings.Contains(err.Error(), domain.TypeContractIssued) {
		t.Fatalf("Stalled = %v; want the event it stopped at", err)
	}
}
