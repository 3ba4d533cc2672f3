package console

import (
	"bufio"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/shopspring/decimal"

	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/invoicing"
	"github.com/routefree/routefree/invoicing/httpapi"
)

// The README's role table, read back: action → column → allowed.
func readRoleTable(t *testing.T) (cols []string, rows map[string]map[string]bool, order []string) {
	t.Helper()
	f, err := os.Open("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows = map[string]map[string]bool{}
	in := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "<!-- roles:begin -->":
			in = true
			continue
		case line == "<!-- roles:end -->":
			in = false
		}
		if !in || !strings.HasPrefix(line, "|") || strings.HasPrefix(line, "|---") {
			continue
		}
		cells := strings.Split(strings.Trim(line, "|"), "|")
		for i := range cells {
			cells[i] = strings.TrimSpace(cells[i])
		}
		if cols == nil {
			cols = cells[1:]
			continue
		}
		if len(cells) != len(cols)+1 {
			t.Fatalf("README role table: row %q has %d cells, want %d", cells[0], len(cells), len(cols)+1)
		}
		row := map[string]bool{}
		for i, c := range cells[1:] {
			switch {
			case c == "✓" || strings.HasPrefix(c, "own"):
				row[cols[i]] = true
			case c == "✗":
				row[cols[i]] = false
			default:
				t.Fatalf("README role table: cell %q of %q is neither ✓, own… nor ✗", c, cells[0])
			}
		}
		rows[cells[0]] = row
		order = append(order, cells[0])
	}
	if len(rows) == 0 {
		t.Fatal("README has no role table between <!-- roles:begin --> and <!-- roles:end -->")
	}
	return cols, rows, order
}

// roles is a console with the invoicing API mounted beside it, as serve
// runs them, and one signed-in caller per column of the table.
type roles struct {
	*env
	svc     *invoicing.Service
	secret  map[string]string   // column → bearer
	session map[string]*browser // column → signed-in browser
	csrf    map[string]string
	n       int
	// fixtures every read probe uses
	invoice, allowance, quote, contract string
}

func newRoles(t *testing.T) *roles {
	e := buildWithDeps(t, false, true, func(ech *echo.Echo, d *Deps) {
		httpapi.Register(ech.Group("/admin/api"), ech.Group("/api/v1"), d.Invoices.(*invoicing.Service), d.Auth)
		d.TurnkeyDir = t.TempDir()
		withPayments(t, ech, d)
	})
	r := &roles{env: e, svc: e.deps.Invoices.(*invoicing.Service), session: map[string]*browser{}, csrf: map[string]string{}}
	e.openBuyer("acct_r", "角色公司", "04595257", domain.PlanStarter) // prepaid: its top-ups are invoiced, B2B: allowed before filing
	e.openAccount("acct_p", "後付公司", domain.PlanBusiness)          // postpaid: it has a credit limit
	if err := r.svc.AssignRange(e.ctx, "2026-03", "AB", 10000000, 10009999); err != nil {
		t.Fatal(err)
	}
	_, inference, err := e.cmds.IssueKey(e.ctx, domain.KeyIssued{AccountID: "acct_r", Name: "app"})
	if err != nil {
		t.Fatal(err)
	}
	_, management, err := e.cmds.IssueKey(e.ctx, domain.KeyIssued{AccountID: "acct_r", Name: "owner", Management: true})
	if err != nil {
		t.Fatal(err)
	}
	e.sync()
	r.secret = map[string]string{"admin": e.admin, "finance": e.finance, "auditor": e.auditor,
		"inference key": inference, "management key": management}
	for col, s := range r.secret {
		b := e.browser()
		r.csrf[col] = b.signIn(s)
		r.session[col] = b
	}
	r.invoice = r.freshInvoice()
	r.allowance = r.freshAllowance()
	r.quote = r.freshQuote()
	q, err := r.svc.AcceptQuote(e.ctx, r.freshQuote(), time.Time{}, 0)
	if err != nil {
		t.Fatal(err)
	}
	r.contract = q.Contract.ContractID
	return r
}

func (r *roles) unique(prefix string) string { r.n++; return fmt.Sprintf("%s-%d", prefix, r.n) }

func (r *roles) api(col, method, path string, body any) int {
	r.t.Helper()
	code, _ := r.call(method, path, r.secret[col], body)
	return code
}

func (r *roles) page(col, path string) int {
	r.t.Helper()
	resp, _ := r.session[col].get(path)
	return resp.StatusCode
}

// builder is 200 where the quotes page offers the quote builder, 403
// where the page shows the quotes alone.
func (r *roles) builder(col string) int {
	r.t.Helper()
	resp, page := r.session[col].get("/console/quotes")
	if resp.StatusCode == http.StatusOK && !strings.Contains(page, `id="quote-form"`) {
		return http.StatusForbidden
	}
	return resp.StatusCode
}

func (r *roles) form(col, path string, v url.Values) int {
	r.t.Helper()
	v.Set("csrf", r.csrf[col])
	v.Set("once", randomToken()) // the page's one-time token, which finance's forms need
	resp, _ := r.session[col].post(path, v)
	return resp.StatusCode
}

func (r *roles) freshAccount() string {
	id := r.unique("acct_x")
	r.openAccount(id, "臨時公司 "+id, domain.PlanStarter)
	return id
}

// suspendedAccount is a new account, suspended.
func (r *roles) suspendedAccount() string {
	r.t.Helper()
	id := r.freshAccount()
	if err := r.cmds.SuspendAccount(r.ctx, id, "unpaid"); err != nil {
		r.t.Fatal(err)
	}
	r.sync()
	return id
}

func (r *roles) freshKey() string {
	id, _ := r.issueKey("acct_r")
	return id
}

func (r *roles) freshStaffToken() string {
	id, _, err := r.cmds.IssueStaffToken(r.ctx, "auditor", r.unique("temp"))
	if err != nil {
		r.t.Fatal(err)
	}
	r.sync()
	return id
}

// freshInvoice is the invoice of a new paid top-up of acct_r.
func (r *roles) freshInvoice() string {
	r.t.Helper()
	ref := r.unique("PAY")
	if _, err := r.cmds.TopUp(r.ctx, domain.CreditsToppedUp{AccountID: "acct_r", Amount: decimal.NewFromInt(1050),
		Method: domain.MethodBankTransfer, Reference: ref}); err != nil {
		r.t.Fatal(err)
	}
	inv, _, err := r.svc.IssueTopUp(r.ctx, "acct_r", ref)
	if err != nil {
		r.t.Fatal(err)
	}
	r.sync()
	return inv.Number
}

func (r *roles) freshAllowance() string {
	r.t.Helper()
	a, err := r.svc.IssueAllowance(r.ctx, r.freshInvoice(), 105, "discount")
	if err != nil {
		r.t.Fatal(err)
	}
	return a.Number
}

func (r *roles) quoteRequest() invoicing.QuoteRequest {
	return invoicing.QuoteRequest{Agency: "臺北市政府資訊局", Items: []domain.QuoteItem{{Name: "AI API 服務",
		Quantity: decimal.NewFromInt(12), Unit: "月", UnitPrice: decimal.NewFromInt(10000)}}}
}

func (r *roles) freshQuote() string {
	r.t.Helper()
	q, err := r.svc.CreateQuote(r.ctx, r.quoteRequest())
	if err != nil {
		r.t.Fatal(err)
	}
	return q.QuoteID
}

// probe is one request of an action, as the caller of a column; it
// returns the status.
type probe struct {
	what string
	do   func(r *roles, col string) int
}

func apiProbe(method, path string, body func(r *roles) any) probe {
	return probe{method + " " + path, func(r *roles, col string) int {
		var b any
		if body != nil {
			b = body(r)
		}
		return r.api(col, method, path, b)
	}}
}

// probes are the requests that exercise each row of the README's table: the
// admin API, the console's forms and pages, and the invoicing API.
var probes = map[string][]probe{
	"see an account: balance, plan, keys, usage, top-ups (`GET /admin/api/accounts/{id}…`, console account page)": {
		apiProbe("GET", "/admin/api/accounts/acct_r", nil),
		apiProbe("GET", "/admin/api/accounts/acct_r/keys", nil),
		apiProbe("GET", "/admin/api/accounts/acct_r/usage", nil),
		apiProbe("GET", "/admin/api/accounts/acct_r/topups", nil),
		{"console account page", func(r *roles, col string) int { return r.page(col, "/console/accounts/acct_r") }},
		{"console account usage CSV", func(r *roles, col string) int {
			return r.page(col, "/console/accounts/acct_r?format=csv&table=chart-daily-table")
		}},
	},
	"list every account (console `/console/accounts`)": {
		{"console accounts page", func(r *roles, col string) int { return r.page(col, "/console/accounts") }},
		{"console accounts CSV", func(r *roles, col string) int { return r.page(col, "/console/accounts?format=csv&table=accounts") }},
	},
	"see the staff dashboard: revenue, usage, balances owed, invoices pending upload, top-ups (console `/console/dashboard`)": {
		{"console dashboard", func(r *roles, col string) int { return r.page(col, "/console/dashboard") }},
		{"console dashboard CSV", func(r *roles, col string) int {
			return r.page(col, "/console/dashboard?format=csv&table=chart-revenue-table")
		}},
	},
	"open an account (API, console form)": {
		{"POST /admin/api/accounts", func(r *roles, col string) int {
			return r.api(col, "POST", "/admin/api/accounts", map[string]any{"organisation": r.unique("新公司")})
		}},
		{"console open-account form", func(r *roles, col string) int {
			return r.form(col, "/console/accounts", url.Values{"organisation": {r.unique("表單公司")}, "plan": {"starter"}})
		}},
	},
	"change a plan, RPM, TPM, volume discount (API, console form)": {
		apiProbe("POST", "/admin/api/accounts/acct_r/plan", func(*roles) any { return map[string]any{"plan": "starter"} }),
		{"console plan form", func(r *roles, col string) int {
			return r.form(col, "/console/accounts/acct_r/plan", url.Values{"plan": {"starter"}})
		}},
	},
	"suspend and resume an account (API, console forms)": {
		{"POST /admin/api/accounts/{id}/suspend", func(r *roles, col string) int {
			return r.api(col, "POST", "/admin/api/accounts/"+r.freshAccount()+"/suspend", map[string]any{"reason": "unpaid"})
		}},
		{"console suspend form", func(r *roles, col string) int {
			return r.form(col, "/console/accounts/"+r.freshAccount()+"/suspend", url.Values{"reason": {"unpaid"}, "confirm": {"yes"}})
		}},
		{"POST /admin/api/accounts/{id}/resume", func(r *roles, col string) int {
			return r.api(col, "POST", "/admin/api/accounts/"+r.suspendedAccount()+"/resume", map[string]any{"reason": "paid"})
		}},
		{"console resume form", func(r *roles, col string) int {
			return r.form(col, "/console/accounts/"+r.suspendedAccount()+"/resume", url.Values{"reason": {"paid"}})
		}},
	},
	"correct an account's organisation, 統一編號, address and contact (`POST /admin/api/accounts/{id}/details`, console form)": {
		{"POST /admin/api/accounts/{id}/details", func(r *roles, col string) int {
			return r.api(col, "POST", "/admin/api/accounts/acct_r/details", map[string]any{"organisation": r.unique("更名公司"), "reason": "renamed"})
		}},
		{"console details form", func(r *roles, col string) int {
			return r.form(col, "/console/accounts/acct_r/details", url.Values{"organisation": {r.unique("表單更名公司")},
				"reason": {"renamed"}, "confirm": {"yes"}})
		}},
	},
	"issue and revoke API keys (API, console forms)": {
		apiProbe("POST", "/admin/api/accounts/acct_r/keys", func(*roles) any { return map[string]any{"name": "new"} }),
		{"POST /admin/api/keys/{id}/revoke", func(r *roles, col string) int {
			return r.api(col, "POST", "/admin/api/keys/"+r.freshKey()+"/revoke", nil)
		}},
		{"console key form", func(r *roles, col string) int {
			return r.form(col, "/console/accounts/acct_r/keys", url.Values{"name": {"form key"}})
		}},
		{"console revoke form", func(r *roles, col string) int {
			return r.form(col, "/console/keys/"+r.freshKey()+"/revoke", url.Values{"confirm": {"yes"}})
		}},
	},
	"list, create and revoke keys through OpenRouter's key API (`/api/v1/keys`)": {
		apiProbe("GET", "/api/v1/keys", nil),
		apiProbe("POST", "/api/v1/keys", func(r *roles) any { return map[string]any{"name": r.unique("or-key")} }),
		{"DELETE /api/v1/keys/{hash}", func(r *roles, col string) int {
			return r.api(col, "DELETE", "/api/v1/keys/"+r.freshKey(), nil)
		}},
	},
	"read the account's usage by day, model and upstream through OpenRouter's activity API (`GET /api/v1/activity`)": {
		apiProbe("GET", "/api/v1/activity", nil),
	},
	"set an account's data requirement: Taiwan residency, no retention (`POST /admin/api/accounts/{id}/data-requirement`)": {
		apiProbe("POST", "/admin/api/accounts/acct_r/data-requirement", func(*roles) any { return map[string]any{"residency": "tw"} }),
	},
	"publish prices (`POST /admin/api/prices`)": {
		apiProbe("POST", "/admin/api/prices", func(*roles) any { return map[string]any{"from_catalog": true} }),
	},
	"list, issue and revoke staff tokens (`/admin/api/staff/tokens`)": {
		apiProbe("GET", "/admin/api/staff/tokens", nil),
		apiProbe("POST", "/admin/api/staff/tokens", func(*roles) any { return map[string]any{"role": "auditor", "name": "new"} }),
		{"POST /admin/api/staff/tokens/{id}/revoke", func(r *roles, col string) int {
			return r.api(col, "POST", "/admin/api/staff/tokens/"+r.freshStaffToken()+"/revoke", nil)
		}},
	},
	"list, issue and revoke staff tokens in the console, each revocation confirmed first (`/console/staff`)": {
		{"console staff page", func(r *roles, col string) int { return r.page(col, "/console/staff") }},
		{"console staff form", func(r *roles, col string) int {
			return r.form(col, "/console/staff", url.Values{"role": {"auditor"}, "name": {r.unique("form staff")}})
		}},
		{"console staff revoke form", func(r *roles, col string) int {
			return r.form(col, "/console/staff/"+r.freshStaffToken()+"/revoke", url.Values{"confirm": {"yes"}})
		}},
	},
	"record a top-up or a credit adjustment (API, console forms)": {
		apiProbe("POST", "/admin/api/accounts/acct_r/adjustments", func(*roles) any {
			return map[string]any{"amount": "-1.5", "reason": "refund of a failed request"}
		}),
		{"console adjustment form", func(r *roles, col string) int {
			return r.form(col, "/console/accounts/acct_r/adjustments", url.Values{"amount": {"2"}, "reason": {"goodwill"}})
		}},
		{"POST /admin/api/accounts/{id}/topups", func(r *roles, col string) int {
			return r.api(col, "POST", "/admin/api/accounts/acct_r/topups", map[string]any{"amount": "100",
				"method": domain.MethodBankTransfer, "reference": r.unique("API-TX")})
		}},
		{"console top-up form", func(r *roles, col string) int {
			return r.form(col, "/console/accounts/acct_r/topups", url.Values{"amount": {"100"},
				"method": {domain.MethodBankTransfer}, "reference": {r.unique("FORM-TX")}})
		}},
	},
	"set a credit limit (API, console form)": {
		apiProbe("POST", "/admin/api/accounts/acct_p/credit-limit", func(*roles) any { return map[string]any{"credit_limit": "5000"} }),
		{"console credit-limit form", func(r *roles, col string) int {
			return r.form(col, "/console/accounts/acct_p/credit-limit", url.Values{"credit_limit": {"6000"}})
		}},
	},
	"close a month, void an invoice, issue and void an allowance": {
		{"POST /admin/api/allowances/{number}/void", func(r *roles, col string) int {
			return r.api(col, "POST", "/admin/api/allowances/"+r.freshAllowance()+"/void", map[string]any{"reason": "issued in error"})
		}},
		apiProbe("POST", "/admin/api/invoices/close?month=2026-02", nil),
		{"POST /admin/api/invoices/{number}/void", func(r *roles, col string) int {
			return r.api(col, "POST", "/admin/api/invoices/"+r.freshInvoice()+"/void", map[string]any{"reason": "wrong buyer"})
		}},
		{"POST /admin/api/invoices/{number}/allowances", func(r *roles, col string) int {
			return r.api(col, "POST", "/admin/api/invoices/"+r.freshInvoice()+"/allowances", map[string]any{"amount": 105, "reason": "discount"})
		}},
		{"console close form", func(r *roles, col string) int {
			return r.form(col, "/console/invoices/close", url.Values{"month": {"2026-02"}, "confirm": {"yes"}})
		}},
		{"console void form", func(r *roles, col string) int {
			return r.form(col, "/console/invoices/"+r.freshInvoice()+"/void", url.Values{"reason": {"wrong buyer"}, "confirm": {"yes"}})
		}},
		{"console allowance form", func(r *roles, col string) int {
			return r.form(col, "/console/invoices/"+r.freshInvoice()+"/allowances", url.Values{"amount": {"105"}, "reason": {"discount"}, "allowances": {"0"}, "confirm": {"yes"}})
		}},
		{"console allowance void form", func(r *roles, col string) int {
			return r.form(col, "/console/allowances/"+r.freshAllowance()+"/void", url.Values{"reason": {"issued in error"}, "confirm": {"yes"}})
		}},
	},
	"add or withdraw an invoice number range, run the Turnkey outbox (console invoices page)": {
		{"console range form", func(r *roles, col string) int {
			r.n++
			from := 40000000 + int64(r.n)*10
			return r.form(col, "/console/invoices/ranges", url.Values{"period": {"2026-05"}, "prefix": {"RG"},
				"from": {fmt.Sprint(from)}, "to": {fmt.Sprint(from + 9)}, "confirm": {"yes"}})
		}},
		{"console range withdrawal form", func(r *roles, col string) int {
			r.n++
			from := 50000000 + int64(r.n)*10
			if err := r.svc.AssignRange(r.ctx, "2026-05", "WD", from, from+9); err != nil {
				r.t.Fatal(err)
			}
			return r.form(col, "/console/invoices/ranges/withdraw", url.Values{"period": {"2026-05"}, "prefix": {"WD"},
				"from": {fmt.Sprint(from)}, "to": {fmt.Sprint(from + 9)}, "reason": {"typed for the wrong period"}, "confirm": {"yes"}})
		}},
		{"console outbox form", func(r *roles, col string) int {
			return r.form(col, "/console/invoices/outbox", url.Values{"confirm": {"yes"}})
		}},
	},
	"build, issue, accept, withdraw and replace quotes (API, console quote builder and quote pages)": {
		apiProbe("POST", "/admin/api/quotes", func(r *roles) any { return r.quoteRequest() }),
		{"POST /admin/api/quotes/{id}/accept", func(r *roles, col string) int {
			return r.api(col, "POST", "/admin/api/quotes/"+r.freshQuote()+"/accept", map[string]any{})
		}},
		{"POST /admin/api/quotes/{id}/withdraw", func(r *roles, col string) int {
			return r.api(col, "POST", "/admin/api/quotes/"+r.freshQuote()+"/withdraw", map[string]any{"reason": "單價誤植"})
		}},
		{"POST /admin/api/quotes with replaces", func(r *roles, col string) int {
			req := r.quoteRequest()
			req.Replaces = r.freshQuote()
			return r.api(col, "POST", "/admin/api/quotes", req)
		}},
		{"console quote withdrawal", func(r *roles, col string) int {
			return r.form(col, "/console/quotes/"+r.freshQuote()+"/withdraw", url.Values{"reason": {"單價誤植"}, "confirm": {"yes"}})
		}},
		{"console quote builder", func(r *roles, col string) int { return r.builder(col) }},
		{"console quote form", func(r *roles, col string) int {
			return r.form(col, "/console/quotes", url.Values{"agency": {"臺北市政府"}, "item_name": {"AI API"},
				"item_qty": {"1"}, "item_unit": {"月"}, "item_price": {"1000"}})
		}},
	},
	"set an account's invoice carrier or donation code (`POST /admin/api/accounts/{id}/invoice-carrier`)": {
		apiProbe("POST", "/admin/api/accounts/acct_r/invoice-carrier", func(*roles) any { return map[string]any{"donation_code": "919"} }),
	},
	"read every invoice, allowance, quote and contract, their PDFs, the MIG exports, the reconciliation (console invoices and quotes pages)": {
		apiProbe("GET", "/admin/api/invoices/reconciliation?month=2026-03", nil),
		apiProbe("GET", "/admin/api/invoices", nil),
		apiProbe("GET", "/admin/api/quotes", nil),
		{"GET /admin/api/invoices/{number}/pdf", func(r *roles, col string) int {
			return r.api(col, "GET", "/admin/api/invoices/"+r.invoice+"/pdf", nil)
		}},
		{"GET /admin/api/allowances/{number}/pdf", func(r *roles, col string) int {
			return r.api(col, "GET", "/admin/api/allowances/"+r.allowance+"/pdf", nil)
		}},
		{"GET /admin/api/quotes/{id}/pdf", func(r *roles, col string) int {
			return r.api(col, "GET", "/admin/api/quotes/"+r.quote+"/pdf", nil)
		}},
		{"GET /admin/api/contracts/{id}/pdf", func(r *roles, col string) int {
			return r.api(col, "GET", "/admin/api/contracts/"+r.contract+"/pdf", nil)
		}},
		apiProbe("GET", "/admin/api/invoices/export?period=2026-03", nil),
		{"console invoices page", func(r *roles, col string) int { return r.page(col, "/console/invoices") }},
		{"console quotes page", func(r *roles, col string) int { return r.page(col, "/console/quotes") }},
		{"console invoices CSV", func(r *roles, col string) int { return r.page(col, "/console/invoices?format=csv&table=invoices") }},
		{"console MIG export", func(r *roles, col string) int {
			return r.page(col, "/console/invoices/export?message=F0401&period=2026-03")
		}},
	},
	"read an account's invoices (`GET /admin/api/accounts/{id}/invoices`)": {
		apiProbe("GET", "/admin/api/accounts/acct_r/invoices", nil),
	},
	"read one's own invoices and their PDFs (`/api/v1/invoices`)": {
		apiProbe("GET", "/api/v1/invoices", nil),
		{"GET /api/v1/invoices/{number}/pdf", func(r *roles, col string) int {
			return r.api(col, "GET", "/api/v1/invoices/"+r.invoice+"/pdf", nil)
		}},
	},
	"read and export the event log, the hash-chain verdict, live figures beside a replay (API, console audit page)": {
		apiProbe("GET", "/admin/api/audit/events", nil),
		apiProbe("GET", "/admin/api/audit/verify", nil),
		apiProbe("GET", "/admin/api/audit/figures", nil),
		apiProbe("GET", "/admin/api/audit/export", nil),
		{"console audit page", func(r *roles, col string) int { return r.page(col, "/console/audit?check=1") }},
		{"console audit CSV", func(r *roles, col string) int { return r.page(col, "/console/audit?format=csv&table=events") }},
	},
	"top up by card or ATM through ECPay (`POST /admin/api/accounts/{id}/payments`, console top-up page)": {
		apiProbe("POST", "/admin/api/accounts/acct_r/payments", func(*roles) any { return map[string]any{"amount": "100", "method": "card"} }),
		{"console top-up page", func(r *roles, col string) int { return r.page(col, "/console/accounts/acct_r/payments") }},
		{"console payments CSV", func(r *roles, col string) int {
			return r.page(col, "/console/accounts/acct_r/payments?format=csv&table=payments")
		}},
		{"console checkout form", func(r *roles, col string) int {
			return r.form(col, "/console/accounts/acct_r/payments", url.Values{"amount": {"100"}, "method": {"atm"}})
		}},
	},
	"follow an account's card and ATM checkouts (`GET /admin/api/accounts/{id}/payments`)": {
		apiProbe("GET", "/admin/api/accounts/acct_r/payments", nil),
	},
	"read every account's card and ATM checkouts by state, with their top-ups and invoices (`GET /admin/api/payments`, console `/console/payments`, `/console/accounts/{id}/checkouts`)": {
		apiProbe("GET", "/admin/api/payments?status=paid", nil),
		{"console checkouts", func(r *roles, col string) int { return r.page(col, "/console/payments?status=expired") }},
		{"console checkouts CSV", func(r *roles, col string) int { return r.page(col, "/console/payments?format=csv&table=checkouts") }},
		{"console account checkouts", func(r *roles, col string) int { return r.page(col, "/console/accounts/acct_r/checkouts") }},
	},
	"read the payment notifications refused for finance (`GET /admin/api/payments/refused`, console `/console/payments/refused`)": {
		apiProbe("GET", "/admin/api/payments/refused", nil),
		{"console refused notifications", func(r *roles, col string) int { return r.page(col, "/console/payments/refused") }},
		{"console refused notifications CSV", func(r *roles, col string) int {
			return r.page(col, "/console/payments/refused?format=csv&table=refused")
		}},
	},
	"rename a key and set its spending limit (console key form)": {
		{"console key change form", func(r *roles, col string) int {
			return r.form(col, "/console/keys/"+r.freshKey(), url.Values{"name": {r.unique("renamed")}, "spend_limit": {"10"}})
		}},
	},
	"rename a key and set its limit through OpenRouter's key API (`PATCH /api/v1/keys/{hash}`)": {
		{"PATCH /api/v1/keys/{hash}", func(r *roles, col string) int {
			return r.api(col, "PATCH", "/api/v1/keys/"+r.freshKey(), map[string]any{"name": r.unique("renamed"), "limit": 10})
		}},
	},
	"set where one's invoices go: carrier, donation code or 統一編號 (console account page)": {
		{"console invoice carrier form", func(r *roles, col string) int {
			return r.form(col, "/console/accounts/acct_r/invoice-carrier", url.Values{"donation_code": {"919"}})
		}},
	},
	"list one's apps on the public rankings, or take them off (console account page)": {
		{"console rankings form", func(r *roles, col string) int {
			return r.form(col, "/console/accounts/acct_r/rankings", url.Values{"listed": {"on"}})
		}},
	},
}

// Every cell of the README's role table, allowed and refused, on every face
// that offers the action.
func TestRoleTable(t *testing.T) {
	cols, rows, order := readRoleTable(t)
	for row := range probes {
		if _, ok := rows[row]; !ok {
			t.Errorf("the README's role table has no row %q", row)
		}
	}
	r := newRoles(t)
	for _, row := range order {
		ps, ok := probes[row]
		if !ok {
			t.Errorf("no probes for the README's row %q", row)
			continue
		}
		for _, col := range cols {
			if _, ok := r.secret[col]; !ok {
				t.Fatalf("the README's role table has a column %q the test does not know", col)
			}
			allowed := rows[row][col]
			t.Run(row+"/"+col, func(t *testing.T) {
				for _, p := range ps {
					got := p.do(r, col)
					switch {
					case allowed && (got < 200 || got >= 400):
						t.Errorf("%s as %s: %d, want it allowed", p.what, col, got)
					case !allowed && got != http.StatusForbidden:
						t.Errorf("%s as %s: %d, want 403", p.what, col, got)
					}
				}
			})
		}
	}
}

// Finance's rights do not come in through admin's forms: a plan change or
// an account opening carrying a credit limit is refused, and nothing moves.
func TestAdminCannotSetCreditLimitsSideways(t *testing.T) {
	e := newEnv(t, false)
	e.openAccount("acct_c", "側門公司", domain.PlanBusiness)
	if code, body := e.call("POST", "/admin/api/accounts/acct_c/plan", e.admin, map[string]any{"plan": "business", "credit_limit": "90000"}); code != http.StatusForbidden {
		t.Errorf("plan change with a credit limit: %d %s", code, body)
	}
	if code, body := e.call("POST", "/admin/api/accounts", e.admin, map[string]any{"organisation": "新", "plan": "business", "credit_limit": "90000"}); code != http.StatusForbidden {
		t.Errorf("account opening with a credit limit: %d %s", code, body)
	}
	if v, _ := e.models.Balances.View("acct_c", "", e.clock.Now()); !v.CreditLimit.IsZero() {
		t.Fatalf("credit limit moved to %s", v.CreditLimit)
	}
	if n := len(e.views.Accounts()); n != 1 {
		t.Fatalf("%d accounts, want 1", n)
	}
}
