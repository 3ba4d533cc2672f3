package httpapi

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/shopspring/decimal"

	"github.com/routefree/routefree/auth"
	"github.com/routefree/routefree/commands"
	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/eventstore"
	"github.com/routefree/routefree/eventstore/sqlite"
	"github.com/routefree/routefree/invoicing"
)

// fakeAuth maps bearer tokens to principals.
type fakeAuth map[string]auth.Principal

func (f fakeAuth) Authenticate(r *http.Request) (auth.Principal, error) {
	p, ok := f[strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")]
	if !ok {
		return auth.Principal{}, auth.ErrUnauthenticated
	}
	return p, nil
}

var principals = fakeAuth{
	"fin":   {Staff: true, Role: auth.Finance, TokenID: "t1"},
	"fin2":  {Staff: true, Role: auth.Finance, TokenID: "t3"},
	"aud":   {Staff: true, Role: auth.Auditor, TokenID: "t2"},
	"acme":  {AccountID: "acme", KeyID: "k1"},
	"other": {AccountID: "solo", KeyID: "k2"},
}

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Set(t time.Time) { c.mu.Lock(); c.t = t; c.mu.Unlock() }

var cst = time.FixedZone("CST", 8*3600)

// server has November 2026 usage of a B2B and a B2C account, a range, and
// the finance API on a loopback server.
func server(t *testing.T) (*httptest.Server, *clock) {
	t.Helper()
	return serverWithRange(t, 12345000, 12345999)
}

// serverWithRange is server with the numbers from..to of track AB.
func serverWithRange(t *testing.T, from, to int64) (*httptest.Server, *clock) {
	t.Helper()
	srv, c, _, _ := serverWith(t, from, to)
	return srv, c
}

// serverWith is serverWithRange with its invoicing service and store.
func serverWith(t *testing.T, from, to int64) (*httptest.Server, *clock, *invoicing.Service, *sqlite.Store) {
	t.Helper()
	ctx := context.Background()
	s, err := sqlite.Open(filepath.Join(t.TempDir(), "events.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	c := &clock{t: time.Date(2026, 11, 1, 9, 0, 0, 0, cst)}
	h := &commands.Handler{Store: s, Now: c.Now}
	for _, a := range []domain.AccountOpened{
		{AccountID: "acme", Organisation: "艾克米股份有限公司", TaxID: "22099131", Plan: domain.PlanBusiness},
		{AccountID: "solo", Organisation: "王小明工作室", Plan: domain.PlanBusiness},
	} {
		if _, err := h.OpenAccount(ctx, a); err != nil {
			t.Fatal(err)
		}
	}
	for i, u := range []struct{ acct, cost string }{{"acme", "2100.4"}, {"solo", "315"}} {
		rc := &domain.RequestCompleted{RequestID: u.acct, AccountID: u.acct, Model: "gpt-4o", Cost: decimal.RequireFromString(u.cost),
			Usage: domain.Usage{Input: 1000, Output: 100}, StartedAt: time.Date(2026, 11, 10+i, 3, 0, 0, 0, time.UTC)}
		d, _ := commands.Event(domain.EventID("req", u.acct), rc.StartedAt, rc)
		if _, err := s.Append(ctx, domain.UsageStream(u.acct), eventstore.Any(), d); err != nil {
			t.Fatal(err)
		}
	}
	svc, err := invoicing.New(s, invoicing.Config{Seller: invoicing.DevSeller(), Now: c.Now, CacheDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.AssignRange(ctx, "2026-11", "AB", from, to); err != nil {
		t.Fatal(err)
	}
	e := echo.New()
	Register(e.Group("/admin/api"), e.Group("/api/v1"), svc, principals)
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)
	return srv, c, svc, s
}

type reply struct {
	status int
	header http.Header
	body   []byte
}

func call(t *testing.T, srv *httptest.Server, method, path, token, body string) reply {
	t.Helper()
	req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return reply{res.StatusCode, res.Header, b}
}

func (r reply) json(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("body %s: %v", r.body, err)
	}
}

// errorCode checks the error shape (the status as code, and a message)
// and returns its cause, metadata.reason.
func (r reply) errorCode(t *testing.T) string {
	t.Helper()
	return r.reason(t)
}

func isPDF(t *testing.T, r reply) {
	t.Helper()
	if r.status != http.StatusOK || r.header.Get("Content-Type") != "application/pdf" || !bytes.HasPrefix(r.body, []byte("%PDF-")) {
		t.Fatalf("want a PDF, got %d %s %.80q", r.status, r.header.Get("Content-Type"), r.body)
	}
}

func TestInvoiceEndpoints(t *testing.T) {
	srv, clk := server(t)
	// Refusals: no token, auditor closing, customer on the admin face.
	if r := call(t, srv, "GET", "/admin/api/invoices", "", ""); r.status != 401 || r.errorCode(t) != "unauthenticated" {
		t.Fatalf("anonymous list: %d %s", r.status, r.body)
	}
	if r := call(t, srv, "POST", "/admin/api/invoices/close?month=2026-11", "aud", ""); r.status != 403 || r.errorCode(t) != "forbidden" {
		t.Fatalf("auditor close: %d %s", r.status, r.body)
	}
	if r := call(t, srv, "GET", "/admin/api/invoices", "acme", ""); r.status != 403 {
		t.Fatalf("customer on the admin API: %d", r.status)
	}
	if r := call(t, srv, "POST", "/admin/api/invoices/close?month=2026-11", "fin", ""); r.status != 400 || r.errorCode(t) != "invalid_request" {
		t.Fatalf("closing a month before it ends: %d %s", r.status, r.body)
	}

	clk.Set(time.Date(2026, 12, 1, 2, 0, 0, 0, cst))
	r := call(t, srv, "POST", "/admin/api/invoices/close?month=2026-11", "fin", "")
	var rep struct {
		Issued   []invoiceJSON `json:"issued"`
		Existing int           `json:"existing"`
	}
	r.json(t, &rep)
	if r.status != 200 || len(rep.Issued) != 2 || rep.Issued[0].Printed != "AB-12345000" || rep.Issued[0].Total != 2100 ||
		rep.Issued[0].PDF != "/admin/api/invoices/AB12345000/pdf" {
		t.Fatalf("close: %d %s", r.status, r.body)
	}
	r = call(t, srv, "POST", "/admin/api/invoices/close?month=2026-11", "fin", "")
	r.json(t, &rep)
	if len(rep.Issued) != 0 || rep.Existing != 2 {
		t.Fatalf("second close: %s", r.body)
	}

	var list struct{ Invoices []invoiceJSON }
	call(t, srv, "GET", "/admin/api/invoices?month=2026-11&account=acme", "aud", "").json(t, &list)
	if len(list.Invoices) != 1 || list.Invoices[0].BuyerTaxID != "22099131" || list.Invoices[0].Sales+list.Invoices[0].Tax != 2100 {
		t.Fatalf("auditor list: %+v", list)
	}
	isPDF(t, call(t, srv, "GET", "/admin/api/invoices/AB-12345000/pdf", "aud", ""))
	if r := call(t, srv, "GET", "/admin/api/invoices/AB99999999/pdf", "fin", ""); r.status != 404 || r.errorCode(t) != "not_found" {
		t.Fatalf("missing PDF: %d", r.status)
	}

	// Customers see their own invoices only.
	call(t, srv, "GET", "/api/v1/invoices", "acme", "").json(t, &list)
	if len(list.Invoices) != 1 || list.Invoices[0].AccountID != "acme" || list.Invoices[0].PDF != "/api/v1/invoices/AB12345000/pdf" {
		t.Fatalf("customer list: %+v", list)
	}
	isPDF(t, call(t, srv, "GET", "/api/v1/invoices/AB12345000/pdf", "acme", ""))
	if r := call(t, srv, "GET", "/api/v1/invoices/AB12345000/pdf", "other", ""); r.status != 404 || r.reason(t) != "not_found" {
		t.Fatalf("another account's PDF: %d %s", r.status, r.body)
	}
	if r := call(t, srv, "GET", "/api/v1/invoices", "fin", ""); r.status != 403 {
		t.Fatalf("staff on the customer face: %d", r.status)
	}

	// F0401 export.
	r = call(t, srv, "GET", "/admin/api/invoices/export?period=2026-11", "aud", "")
	zr, err := zip.NewReader(bytes.NewReader(r.body), int64(len(r.body)))
	if r.status != 200 || err != nil || len(zr.File) != 2 || zr.File[0].Name != "F0401_AB12345000.xml" {
		t.Fatalf("export: %d %v", r.status, err)
	}
	if r := call(t, srv, "GET", "/admin/api/invoices/export?period=2026-12", "aud", ""); r.status != 400 {
		t.Fatalf("export of an even month: %d", r.status)
	}

	// Void inside the window, then refusal past it with a pointer to an allowance.
	if r := call(t, srv, "POST", "/admin/api/invoices/AB12345001/void", "fin", `{"reason":"金額有誤"}`); r.status != 200 {
		t.Fatalf("void: %d %s", r.status, r.body)
	}
	clk.Set(time.Date(2027, 1, 20, 9, 0, 0, 0, cst))
	r = call(t, srv, "POST", "/admin/api/invoices/AB12345000/void", "fin", `{"reason":"取消"}`)
	if r.status != 409 || r.errorCode(t) != "void_window_closed" || !bytes.Contains(r.body, []byte(`"alternative":"allowance"`)) ||
		!bytes.Contains(r.body, []byte(`"last_void_day":"2027-01-15"`)) {
		t.Fatalf("late void: %d %s", r.status, r.body)
	}
	r = call(t, srv, "POST", "/admin/api/invoices/AB12345000/allowances", "fin", `{"amount":210,"reason":"服務中斷補償"}`)
	var al allowanceJSON
	r.json(t, &al)
	if r.status != 201 || al.Sales != 200 || al.Tax != 10 {
		t.Fatalf("allowance: %d %s", r.status, r.body)
	}
	isPDF(t, call(t, srv, "GET", al.PDF, "aud", ""))
	if r := call(t, srv, "POST", "/admin/api/invoices/AB12345000/allowances", "fin", `{"amount":-5,"reason":"x"}`); r.status != 400 {
		t.Fatalf("negative allowance: %d", r.status)
	}

	// The void (December) and the allowance (January) in their periods' exports.
	for _, c := range []struct{ query, file string }{
		{"period=2026-11&message=F0501", "F0501_AB12345001.xml"},
		{"period=2027-01&message=g0401", "G0401_" + al.Number + ".xml"},
	} {
		r := call(t, srv, "GET", "/admin/api/invoices/export?"+c.query, "aud", "")
		zr, err := zip.NewReader(bytes.NewReader(r.body), int64(len(r.body)))
		if r.status != 200 || err != nil || len(zr.File) != 1 || zr.File[0].Name != c.file {
			t.Fatalf("export %s: %d %v %s", c.query, r.status, err, r.body)
		}
	}
	if r := call(t, srv, "GET", "/admin/api/invoices/export?period=2026-11&message=X0000", "aud", ""); r.status != 400 {
		t.Fatalf("export of an unknown message: %d %s", r.status, r.body)
	}

	// The customer lists and downloads its allowances; another cannot.
	var mine struct{ Allowances []allowanceJSON }
	call(t, srv, "GET", "/api/v1/allowances", "acme", "").json(t, &mine)
	if len(mine.Allowances) != 1 || mine.Allowances[0].Number != al.Number || mine.Allowances[0].InvoiceNumber != "AB12345000" ||
		mine.Allowances[0].PDF != "/api/v1/allowances/"+al.Number+"/pdf" || mine.Allowances[0].Status != "issued" {
		t.Fatalf("customer allowances: %+v", mine)
	}
	isPDF(t, call(t, srv, "GET", mine.Allowances[0].PDF, "acme", ""))
	if r := call(t, srv, "GET", mine.Allowances[0].PDF, "other", ""); r.status != 404 || r.reason(t) != "not_found" {
		t.Fatalf("another account's allowance: %d %s", r.status, r.body)
	}
	call(t, srv, "GET", "/api/v1/allowances", "other", "").json(t, &mine)
	if len(mine.Allowances) != 0 {
		t.Fatalf("another account sees %+v", mine)
	}

	// Finance voids the allowance; the invoice bills its total again.
	if r := call(t, srv, "POST", "/admin/api/allowances/"+al.Number+"/void", "aud", `{"reason":"x"}`); r.status != 403 {
		t.Fatalf("auditor voiding an allowance: %d", r.status)
	}
	r = call(t, srv, "POST", "/admin/api/allowances/"+al.Number+"/void", "fin", `{"reason":"折讓取消"}`)
	var voided allowanceJSON
	r.json(t, &voided)
	if r.status != 200 || voided.Status != "voided" || voided.VoidReason != "折讓取消" || voided.VoidedAt == nil {
		t.Fatalf("allowance void: %d %s", r.status, r.body)
	}
	if r := call(t, srv, "POST", "/admin/api/allowances/"+al.Number+"/void", "fin", `{"reason":"again"}`); r.status != 409 {
		t.Fatalf("second allowance void: %d %s", r.status, r.body)
	}

	// The auditor's reconciliation: acme billed in full; solo's voided usage
	// awaits a range for January, the period a new invoice would be in.
	var rec invoicing.Reconciliation
	r = call(t, srv, "GET", "/admin/api/invoices/reconciliation?month=2026-11", "aud", "")
	r.json(t, &rec)
	if r.status != 200 || len(rec.Rows) != 2 || !rec.Rows[0].Pending.IsZero() || rec.Rows[0].Net != 2100 ||
		rec.Rows[1].Reason != invoicing.ReasonNoRange || !rec.Rows[1].Pending.Equal(decimal.RequireFromString("315")) {
		t.Fatalf("reconciliation: %d %s", r.status, r.body)
	}
	if r := call(t, srv, "GET", "/admin/api/invoices/reconciliation?month=11-2026", "aud", ""); r.status != 400 || r.errorCode(t) != "invalid_request" {
		t.Fatalf("reconciliation of a bad month: %d %s", r.status, r.body)
	}
}

func TestQuoteEndpoints(t *testing.T) {
	srv, _ := server(t)
	body := `{"agency":"臺北市政府資訊局","agency_tax_id":"04595257","agency_address":"臺北市信義區市府路1號",
		"items":[{"name":"AI API 服務（月費）","quantity":"12","unit":"月","unit_price":"500"},
		         {"name":"模型用量","quantity":"20","unit":"百萬tokens","unit_price":"285.7"}],"plan":"business"}`
	if r := call(t, srv, "POST", "/admin/api/quotes", "aud", body); r.status != 403 {
		t.Fatalf("auditor quoting: %d", r.status)
	}
	if r := call(t, srv, "POST", "/admin/api/quotes", "fin", `{"agency":"x","items":[]}`); r.status != 400 || r.errorCode(t) != "invalid_request" {
		t.Fatalf("empty quote: %d %s", r.status, r.body)
	}
	r := call(t, srv, "POST", "/admin/api/quotes", "fin", body)
	var q struct {
		QuoteID string `json:"quote_id"`
		Total   int64  `json:"total"`
		PDF     string `json:"pdf"`
	}
	r.json(t, &q)
	if r.status != 201 || q.Total != 12300 || q.PDF != "/admin/api/quotes/"+q.QuoteID+"/pdf" {
		t.Fatalf("quote: %d %s", r.status, r.body)
	}
	isPDF(t, call(t, srv, "GET", q.PDF, "aud", ""))
	r = call(t, srv, "POST", "/admin/api/quotes/"+q.QuoteID+"/accept", "fin", `{"start":"2027-01-01","months":6}`)
	var c struct {
		ContractID string    `json:"contract_id"`
		PeriodEnd  time.Time `json:"period_end"`
		PDF        string    `json:"pdf"`
	}
	r.json(t, &c)
	if r.status != 200 || c.ContractID == "" || !c.PeriodEnd.Equal(time.Date(2027, 7, 1, 0, 0, 0, 0, cst)) {
		t.Fatalf("accept: %d %s", r.status, r.body)
	}
	isPDF(t, call(t, srv, "GET", c.PDF, "aud", ""))
	if r := call(t, srv, "GET", "/admin/api/contracts/C-nope/pdf", "aud", ""); r.status != 404 {
		t.Fatalf("missing contract: %d", r.status)
	}
	if r := call(t, srv, "POST", "/admin/api/quotes/Q-nope/accept", "fin", `{}`); r.status != 404 {
		t.Fatalf("accepting a missing quote: %d", r.status)
	}
}

// A close that runs out of numbers part-way answers what it issued and
// why it stopped; a close that issues nothing answers the error alone.
func TestCloseRunningOutOfNumbers(t *testing.T) {
	srv, clk := serverWithRange(t, 12345000, 12345000) // one number for two accounts
	clk.Set(time.Date(2026, 12, 1, 2, 0, 0, 0, cst))

	r := call(t, srv, "POST", "/admin/api/invoices/close?month=2026-11", "fin", "")
	var part struct {
		Month  string        `json:"month"`
		Issued []invoiceJSON `json:"issued"`
		Error  wireError     `json:"error"`
	}
	r.json(t, &part)
	if r.status != 409 || part.Month != "2026-11" || len(part.Issued) != 1 || part.Issued[0].Number != "AB12345000" ||
		part.Issued[0].AccountID != "acme" || part.Error.Metadata["reason"] != "range_exhausted" || part.Error.Message == "" {
		t.Fatalf("close part-way: %d %s", r.status, r.body)
	}

	r = call(t, srv, "POST", "/admin/api/invoices/close?month=2026-11", "fin", "")
	var whole map[string]json.RawMessage
	r.json(t, &whole)
	if r.status != 409 || r.errorCode(t) != "range_exhausted" || len(whole) != 1 {
		t.Fatalf("close with no number left: want the error alone, got %d %s", r.status, r.body)
	}

	// Nothing half-written: the one invoice issued, and no other.
	var list struct{ Invoices []invoiceJSON }
	call(t, srv, "GET", "/admin/api/invoices?month=2026-11", "aud", "").json(t, &list)
	if len(list.Invoices) != 1 {
		t.Fatalf("after the failed closes: %+v", list)
	}
}

// openRouterError checks the error shape, OpenRouter's and the admin
// API's: the HTTP status as a number in code, and the reason in metadata.
func (r reply) openRouterError(t *testing.T) (code int, reason string) {
	t.Helper()
	var e struct {
		Error struct {
			Code     int            `json:"code"`
			Message  string         `json:"message"`
			Metadata map[string]any `json:"metadata"`
		} `json:"error"`
	}
	r.json(t, &e)
	if e.Error.Code != r.status || e.Error.Message == "" {
		t.Fatalf("status %d, error body %s: want the status as code and a message", r.status, r.body)
	}
	reason, _ = e.Error.Metadata["reason"].(string)
	return e.Error.Code, reason
}

func (r reply) reason(t *testing.T) string {
	t.Helper()
	_, reason := r.openRouterError(t)
	return reason
}

// The customer face answers errors as the rest of /api/v1 does.
func TestCustomerErrorsAreOpenRouters(t *testing.T) {
	srv, _ := server(t)
	for _, c := range []struct {
		path, token string
		status      int
		reason      string
	}{
		{"/api/v1/invoices/AB99999999/pdf", "acme", 404, "not_found"},
		{"/api/v1/allowances/AB99999999/pdf", "acme", 404, "not_found"},
		{"/api/v1/invoices", "", 401, "unauthenticated"},
		{"/api/v1/allowances", "fin", 403, "forbidden"},
		{"/api/v1/invoices?month=11-2026", "acme", 400, "invalid_request"},
	} {
		r := call(t, srv, "GET", c.path, c.token, "")
		if r.status != c.status {
			t.Fatalf("%s as %q: %d %s", c.path, c.token, r.status, r.body)
		}
		if _, reason := r.openRouterError(t); reason != c.reason {
			t.Errorf("%s as %q: reason %q, want %q", c.path, c.token, reason, c.reason)
		}
	}
	// The admin face keeps its named codes.
	if r := call(t, srv, "GET", "/admin/api/invoices/AB99999999/pdf", "fin", ""); r.status != 404 || r.errorCode(t) != "not_found" {
		t.Fatalf("admin 404: %d %s", r.status, r.body)
	}
}

// Closing a month that has not ended says when it can be, in the API's
// terms.
func TestCloseOpenMonthSaysWhen(t *testing.T) {
	srv, _ := server(t)
	r := call(t, srv, "POST", "/admin/api/invoices/close?month=2026-11", "fin", "")
	var e struct{ Error wireError }
	r.json(t, &e)
	if r.status != 400 || strings.Contains(e.Error.Message, "IssueMonthly") || !strings.Contains(e.Error.Message, "2026-12-01") {
		t.Fatalf("closing an open month: %d %s", r.status, r.body)
	}
}

// An allowance's amount is a whole number of NTD, as a JSON number or a
// string; anything else is a clear 400.
func TestAllowanceAmount(t *testing.T) {
	srv, clk := server(t)
	clk.Set(time.Date(2026, 12, 1, 2, 0, 0, 0, cst))
	if r := call(t, srv, "POST", "/admin/api/invoices/close?month=2026-11", "fin", ""); r.status != 200 {
		t.Fatalf("close: %d %s", r.status, r.body)
	}
	for _, bad := range []string{`"5.5"`, `5.5`, `"abc"`, `true`, `"1e3"`, `""`, `99999999999999999999`, `"+21"`, `" 21"`, `"0x15"`, `"-21"`} {
		r := call(t, srv, "POST", "/admin/api/invoices/AB12345000/allowances", "fin", `{"amount":`+bad+`,"reason":"x"}`)
		var e struct{ Error wireError }
		r.json(t, &e)
		if r.status != 400 || e.Error.Metadata["reason"] != "invalid_request" || !strings.Contains(e.Error.Message, "amount must be a whole number of NTD") {
			t.Errorf("amount %s: %d %s", bad, r.status, r.body)
		}
	}
	r := call(t, srv, "POST", "/admin/api/invoices/AB12345000/allowances", "fin", `{"amount":"21","reason":"服務中斷補償"}`)
	var al allowanceJSON
	r.json(t, &al)
	if r.status != 201 || al.Sales != 20 || al.Tax != 1 {
		t.Fatalf("allowance of \"21\": %d %s", r.status, r.body)
	}
}

// Contract terms are checked before anything is recorded: a huge, zero or
// negative months or a past start is a 400 and invoicing goes on; a second
// acceptance on other terms is a 409 naming the contract, on the same
// terms the contract again.
func TestAcceptQuoteTerms(t *testing.T) {
	srv, _ := server(t)
	r := call(t, srv, "POST", "/admin/api/quotes", "fin", `{"agency":"X","items":[{"name":"x","quantity":"1","unit_price":"100"}]}`)
	var q struct {
		QuoteID string `json:"quote_id"`
	}
	r.json(t, &q)
	if r.status != 201 {
		t.Fatalf("quote: %d %s", r.status, r.body)
	}
	accept := "/admin/api/quotes/" + q.QuoteID + "/accept"
	for _, c := range []struct{ body, want string }{
		{`{"months":1000000}`, "months must be 1 to 120"},
		{`{"start":"2020-01-01","months":-3}`, "months must be 1 to 120"},
		{`{"months":0}`, "months must be 1 to 120"},
		{`{"start":"2020-01-01"}`, "start 2020-01-01 is before 2026-11-01"},
		{`{"start":"2026-13-01"}`, "want YYYY-MM-DD"},
		{`{"months":"12"}`, "months"},
	} {
		r := call(t, srv, "POST", accept, "fin", c.body)
		var e struct{ Error wireError }
		r.json(t, &e)
		if r.status != 400 || e.Error.Metadata["reason"] != "invalid_request" || !strings.Contains(e.Error.Message, c.want) {
			t.Errorf("accept %s: %d %s; want 400 saying %q", c.body, r.status, r.body, c.want)
		}
	}
	for _, path := range []string{"/admin/api/invoices", "/admin/api/quotes/" + q.QuoteID + "/pdf"} {
		if r := call(t, srv, "GET", path, "fin", ""); r.status != 200 {
			t.Fatalf("%s after the refusals: %d %s", path, r.status, r.body)
		}
	}

	r = call(t, srv, "POST", accept, "fin", `{"start":"2026-12-01","months":6}`)
	var c struct {
		ContractID string    `json:"contract_id"`
		PeriodEnd  time.Time `json:"period_end"`
	}
	r.json(t, &c)
	if r.status != 200 || !c.PeriodEnd.Equal(time.Date(2027, 6, 1, 0, 0, 0, 0, cst)) {
		t.Fatalf("accept: %d %s", r.status, r.body)
	}
	for _, same := range []string{`{"start":"2026-12-01","months":6}`, `{}`, `{"months":6}`} {
		r := call(t, srv, "POST", accept, "fin", same)
		var again struct {
			ContractID string `json:"contract_id"`
		}
		r.json(t, &again)
		if r.status != 200 || again.ContractID != c.ContractID {
			t.Fatalf("accepting again with %s: %d %s", same, r.status, r.body)
		}
	}
	r = call(t, srv, "POST", accept, "fin", `{"months":12}`)
	var e struct{ Error wireError }
	r.json(t, &e)
	if r.status != 409 || e.Error.Metadata["reason"] != "conflict" || !strings.Contains(e.Error.Message, c.ContractID) {
		t.Fatalf("accepting again on other terms: %d %s", r.status, r.body)
	}
}
