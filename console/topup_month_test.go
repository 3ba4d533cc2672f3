package console

import (
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/shopspring/decimal"

	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/invoicing"
	"github.com/routefree/routefree/invoicing/httpapi"
	"github.com/routefree/routefree/projections"
)

// A top-up is invoiced at payment (docs/invoicing-ledger.md): its invoice
// counts in the Taipei month the top-up was paid in, even when it is
// issued a moment later, after midnight, in the next month. The
// reconciliation, the month's invoice list and totals, their CSV, the
// account page, the admin API and the dashboard's revenue all say so.
func TestATopUpPaidAtMonthEndCountsInItsPaymentMonthEverywhere(t *testing.T) {
	e := newEnv(t, false)
	svc := e.deps.Invoices.(*invoicing.Service)
	if err := svc.AssignRange(e.ctx, "2026-03", "AB", 10000000, 10000099); err != nil {
		t.Fatal(err)
	}
	e.openAccount("acct_eom", "月底儲值股份有限公司", domain.PlanStarter)
	e.sync()
	e.setClock(time.Date(2026, 3, 31, 23, 59, 0, 0, projections.Taipei))
	e.paidBankTransfer("acct_eom", "TX-0331-2359")
	e.sync()
	e.setClock(time.Date(2026, 4, 1, 0, 0, 30, 0, projections.Taipei))
	issueTopUpInvoices(t, e, svc)
	e.sync()
	invs := svc.Invoices("", "acct_eom")
	if len(invs) != 1 || invs[0].Total != 1000 {
		t.Fatalf("invoices: %+v", invs)
	}
	number := invs[0].Number
	if m := invs[0].IssuedAt.In(projections.Taipei).Format("2006-01"); m != "2026-04" {
		t.Fatalf("the invoice was issued in %s, not after midnight", m)
	}

	// The reconciliation.
	for month, want := range map[string]bool{"2026-03": true, "2026-04": false} {
		rec, err := svc.Reconcile(e.ctx, month)
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, r := range rec.Rows {
			found = found || slices.Contains(r.Invoices, number)
		}
		if found != want {
			t.Errorf("reconciliation of %s lists the invoice: %v, want %v", month, found, want)
		}
	}
	// The invoicing service's list, by month (the admin API's and the CLI's).
	for month, want := range map[string]int{"2026-03": 1, "2026-04": 0} {
		if got := len(svc.Invoices(month, "acct_eom")); got != want {
			t.Errorf("invoices of %s: %d, want %d", month, got, want)
		}
	}

	b := e.browser()
	b.signIn(e.finance)
	csv := func(path string) string { return b.getOK(t, path) }
	// The invoices page: the month's list and its totals.
	if l := lineWith(csv("/console/invoices?month=2026-03&format=csv&table=invoices"), number); l == "" {
		t.Error("the invoices page of 2026-03 does not list the invoice")
	}
	if l := lineWith(csv("/console/invoices?month=2026-04&format=csv&table=invoices"), number); l != "" {
		t.Errorf("the invoices page of 2026-04 lists the invoice: %s", l)
	}
	totals := csv("/console/invoices?month=2026-03&format=csv&table=month-totals")
	if l := lineWith(totals, "2026-03"); !strings.Contains(l, "1000") {
		t.Errorf("the month totals of 2026-03: %q in\n%s", l, totals)
	}
	if l := lineWith(totals, "2026-04"); strings.Contains(l, "1000") {
		t.Errorf("the month totals count the invoice in 2026-04: %q", l)
	}
	// The account page's list and the admin API.
	if l := lineWith(csv("/console/accounts/acct_eom?format=csv&table=account-invoices"), number); !strings.Contains(l, "2026-03") {
		t.Errorf("the account page's invoice row: %q, want month 2026-03", l)
	}
	code, body := e.call("GET", "/admin/api/accounts/acct_eom/invoices", e.finance, nil)
	var api struct {
		Data []struct {
			Number, Month string
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &api); code != http.StatusOK || err != nil || len(api.Data) != 1 || api.Data[0].Month != "2026-03" {
		t.Errorf("GET /admin/api/accounts/{id}/invoices: %d %s", code, body)
	}
	// The dashboard's revenue: invoiced in 2026-03, nothing in 2026-04.
	b.revenueCountsIn(t, "2026-03", "2026-04")

	// Voided, the payment is invoiced again, later still: the new invoice
	// counts in the month of payment too.
	if _, err := svc.Void(e.ctx, number, "買受人資料有誤"); err != nil {
		t.Fatal(err)
	}
	e.setClock(time.Date(2026, 4, 2, 9, 0, 0, 0, projections.Taipei))
	issueTopUpInvoices(t, e, svc)
	e.sync()
	invs = svc.Invoices("2026-03", "acct_eom")
	if len(invs) != 2 || invs[1].Voided || invs[1].Number == number {
		t.Fatalf("invoices of 2026-03 after the void: %+v", invs)
	}
	again := invs[1].Number
	if l := lineWith(csv("/console/accounts/acct_eom?format=csv&table=account-invoices"), again); !strings.Contains(l, "2026-03") {
		t.Errorf("the re-issued invoice's row: %q, want month 2026-03", l)
	}
	b.revenueCountsIn(t, "2026-03", "")
}

// The invoicing API's lists (staff's /admin/api/invoices, with and without
// ?month= and ?account=, and the customer's /api/v1/invoices) give every
// invoice the month it counts in, as the console's lists do: a top-up
// invoice issued after midnight says the month its top-up was paid in.
func TestTheInvoiceAPIsGiveATopUpInvoiceTheMonthItCountsIn(t *testing.T) {
	e := buildWithDeps(t, false, true, func(ech *echo.Echo, d *Deps) {
		httpapi.Register(ech.Group("/admin/api"), ech.Group("/api/v1"), d.Invoices.(*invoicing.Service), d.Auth)
	})
	svc := e.deps.Invoices.(*invoicing.Service)
	if err := svc.AssignRange(e.ctx, "2026-03", "AB", 10000000, 10000099); err != nil {
		t.Fatal(err)
	}
	e.openAccount("acct_eom", "月底儲值股份有限公司", domain.PlanStarter)
	_, owner, err := e.cmds.IssueKey(e.ctx, domain.KeyIssued{AccountID: "acct_eom", Name: "owner", Management: true})
	if err != nil {
		t.Fatal(err)
	}
	e.sync()
	e.setClock(time.Date(2026, 3, 31, 23, 59, 0, 0, projections.Taipei))
	e.paidBankTransfer("acct_eom", "TX-0331-2359")
	e.sync()
	e.setClock(time.Date(2026, 4, 1, 0, 0, 30, 0, projections.Taipei))
	issueTopUpInvoices(t, e, svc)
	e.sync()
	invs := svc.Invoices("", "acct_eom")
	if len(invs) != 1 || svc.InvoiceMonth(invs[0]) != "2026-03" || invs[0].IssuedAt.In(projections.Taipei).Month() != time.April {
		t.Fatalf("invoices: %+v", invs)
	}
	number := invs[0].Number

	for _, c := range []struct{ path, bearer string }{
		{"/admin/api/invoices", e.finance},
		{"/admin/api/invoices?month=2026-03", e.finance},
		{"/admin/api/invoices?account=acct_eom", e.auditor},
		{"/api/v1/invoices", owner},
		{"/api/v1/invoices?month=2026-03", owner},
	} {
		code, body := e.call("GET", c.path, c.bearer, nil)
		var got struct {
			Invoices []struct {
				Number, Month string
			} `json:"invoices"`
		}
		if err := json.Unmarshal(body, &got); code != http.StatusOK || err != nil {
			t.Fatalf("GET %s: %d %s", c.path, code, body)
		}
		if len(got.Invoices) != 1 || got.Invoices[0].Number != number || got.Invoices[0].Month != "2026-03" {
			t.Errorf("GET %s: %s, want invoice %s in month 2026-03", c.path, body, number)
		}
	}
	// The month it is issued in does not list it.
	code, body := e.call("GET", "/admin/api/invoices?month=2026-04", e.finance, nil)
	if code != http.StatusOK || strings.Contains(string(body), number) {
		t.Errorf("GET /admin/api/invoices?month=2026-04: %d %s", code, body)
	}
}

// A payment may wait months for its invoice (no number range for the
// period yet): the invoice still counts in the month of payment, and every
// list of the console says so alike, the account's invoices (page, CSV,
// admin API) and the dashboard's revenue as the invoices page and the
// invoicing API do.
func TestAnInvoiceIssuedMonthsAfterItsPaymentCountsInThePaymentMonthEverywhere(t *testing.T) {
	e := buildWithDeps(t, false, true, func(ech *echo.Echo, d *Deps) {
		httpapi.Register(ech.Group("/admin/api"), ech.Group("/api/v1"), d.Invoices.(*invoicing.Service), d.Auth)
	})
	number := invoicedMonthsLate(t, e)

	b := e.browser()
	b.signIn(e.finance)
	get := func(path string) string { return b.getOK(t, path) }
	if lineWith(get("/console/invoices?month=2026-01&format=csv&table=invoices"), number) == "" {
		t.Error("the invoices page of 2026-01 does not list the invoice")
	}
	if l := lineWith(get("/console/accounts/acct_late?format=csv&table=account-invoices"), number); !strings.Contains(l, "2026-01") {
		t.Errorf("the account page's invoice row: %q, want month 2026-01", l)
	}
	for _, path := range []string{"/admin/api/accounts/acct_late/invoices", "/admin/api/invoices?account=acct_late"} {
		code, body := e.call("GET", path, e.finance, nil)
		var api map[string]json.RawMessage
		if err := json.Unmarshal(body, &api); code != http.StatusOK || err != nil {
			t.Fatalf("GET %s: %d %s", path, code, body)
		}
		var rows []struct{ Number, Month string }
		for _, raw := range api {
			var list []struct{ Number, Month string }
			if json.Unmarshal(raw, &list) == nil { // the list, beside its total and paging
				rows = append(rows, list...)
			}
		}
		if len(rows) != 1 || rows[0].Number != number || rows[0].Month != "2026-01" {
			t.Errorf("GET %s: %s, want month 2026-01", path, body)
		}
	}
	b.revenueCountsIn(t, "2026-01", "2026-04")
}

// The audit page's comparison of the live figures with a replay counts
// an invoice issued months after its payment in the month of payment, as
// the reconciliation and the invoice lists do: its API and its table.
func TestTheAuditComparisonCountsALateInvoiceInItsPaymentMonth(t *testing.T) {
	e := newEnv(t, false)
	number := invoicedMonthsLate(t, e)
	rec, err := e.deps.Invoices.(*invoicing.Service).Reconcile(e.ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int64{} // the reconciliation's net NTD by month
	for _, r := range rec.Rows {
		want[r.Month] += r.Net
	}
	if want["2026-01"] != 1000 || want["2026-04"] != 0 {
		t.Fatalf("the reconciliation's net by month: %v", want)
	}

	code, body := e.call("GET", "/admin/api/audit/figures", e.auditor, nil)
	var api struct{ Data Comparison }
	if err := json.Unmarshal(body, &api); code != http.StatusOK || err != nil {
		t.Fatalf("GET /admin/api/audit/figures: %d %s", code, body)
	}
	got := map[string]string{}
	for _, r := range api.Data.Rows {
		if r.Figure == "invoices" {
			if r.Live != r.Replay {
				t.Errorf("invoices of %s: live %s, replay %s", r.Key, r.Live, r.Replay)
			}
			got[r.Key] = r.Live
		}
	}
	for m, n := range want {
		if g := got[m]; g != strconv.FormatInt(n, 10) && (n != 0 || g != "") {
			t.Errorf("the comparison's invoices of %s: %q, the reconciliation's NT$%d (invoice %s; rows %s)", m, g, n, number, body)
		}
	}
	for m := range got {
		if _, ok := want[m]; !ok && got[m] != "0" {
			t.Errorf("the comparison counts NT$%s of invoices in %s, where the reconciliation has none", got[m], m)
		}
	}

	b := e.browser()
	b.signIn(e.auditor)
	figures := b.getOK(t, "/console/audit?check=1&format=csv&table=figures")
	if l := lineWith(figures, "2026-01"); !strings.Contains(l, "1000") {
		t.Errorf("the audit page's figures of 2026-01: %q in\n%s", l, figures)
	}
	if l := lineWith(figures, "2026-04"); strings.Contains(l, "1000") {
		t.Errorf("the audit page counts the invoice in 2026-04: %q", l)
	}
}

// invoicedMonthsLate has acct_late pay NT$1,000 on 10 January 2026 and
// that payment invoiced on 10 April, when finance assigns a number range
// at last; it returns the invoice's number.
func invoicedMonthsLate(t *testing.T, e *env) string {
	t.Helper()
	svc := e.deps.Invoices.(*invoicing.Service)
	e.openAccount("acct_late", "晚開股份有限公司", domain.PlanStarter)
	e.sync()
	e.setClock(time.Date(2026, 1, 10, 12, 0, 0, 0, projections.Taipei))
	e.paidBankTransfer("acct_late", "TX-0110")
	e.sync()
	e.setClock(time.Date(2026, 4, 10, 12, 0, 0, 0, projections.Taipei))
	if err := svc.AssignRange(e.ctx, "2026-03", "AB", 10000000, 10000099); err != nil {
		t.Fatal(err)
	}
	issueTopUpInvoices(t, e, svc)
	e.sync()
	invs := svc.Invoices("", "acct_late")
	if len(invs) != 1 || svc.InvoiceMonth(invs[0]) != "2026-01" {
		t.Fatalf("invoices: %+v", invs)
	}
	return invs[0].Number
}

// getOK reads a page that must answer 200.
func (b *browser) getOK(t *testing.T, path string) string {
	t.Helper()
	resp, body := b.get(path)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d", path, resp.StatusCode)
	}
	return body
}

// lineWith is body's first line containing with ("" if none).
func lineWith(body, with string) string {
	for l := range strings.SplitSeq(body, "\n") {
		if strings.Contains(l, with) {
			return l
		}
	}
	return ""
}

// setClock moves the console's clock, the one its commands stamp events with.
func (e *env) setClock(t time.Time) {
	e.clock.mu.Lock()
	e.clock.t = t
	e.clock.mu.Unlock()
}

// paidBankTransfer records a NT$1,000 bank transfer to account.
func (e *env) paidBankTransfer(account, reference string) {
	e.t.Helper()
	if _, err := e.cmds.TopUp(e.ctx, domain.CreditsToppedUp{AccountID: account, Amount: decimal.NewFromInt(1000),
		Method: domain.MethodBankTransfer, Reference: reference}); err != nil {
		e.t.Fatal(err)
	}
}

// issueTopUpInvoices has invoicing fold the store and invoice what is paid,
// as its projector does.
func issueTopUpInvoices(t *testing.T, e *env, svc *invoicing.Service) {
	t.Helper()
	if err := svc.Sync(e.ctx); err != nil {
		t.Fatal(err)
	}
	if err := svc.InvoiceTopUps(e.ctx); err != nil {
		t.Fatal(err)
	}
}

// revenueCountsIn checks the dashboard's revenue: the NT$1,000 invoice
// counted in month and, unless not is "", not in month not.
func (b *browser) revenueCountsIn(t *testing.T, month, not string) {
	t.Helper()
	rev := b.getOK(t, "/console/dashboard?format=csv&table=chart-revenue-table")
	if l := lineWith(rev, month); !strings.Contains(l, "1000") {
		t.Errorf("the dashboard's revenue of %s: %q in\n%s", month, l, rev)
	}
	if l := lineWith(rev, not); not != "" && strings.Contains(l, "1000") {
		t.Errorf("the dashboard counts the invoice in %s: %q", not, l)
	}
}
