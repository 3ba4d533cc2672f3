package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"
	"github.com/shopspring/decimal"
	"pgregory.net/rapid"

	"github.com/routefree/routefree/auth"
	"github.com/routefree/routefree/commands"
	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/eventstore"
	"github.com/routefree/routefree/eventstore/sqlite"
	"github.com/routefree/routefree/invoicing"
	"github.com/routefree/routefree/invoicing/httpapi"
	"github.com/routefree/routefree/invoicing/pdf/pdftest"
	"github.com/routefree/routefree/invoicing/twrules"
)

// docClock is the settable clock of a generated history.
type docClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *docClock) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *docClock) Set(t time.Time) { c.mu.Lock(); c.t = t; c.mu.Unlock() }

// bearerPrincipals maps the history's bearer tokens to who they are: the
// finance staff and each account's key. Authentication is not what the
// property is about; the invoicing API's own role checks still run.
type bearerPrincipals map[string]auth.Principal

func (b bearerPrincipals) Authenticate(r *http.Request) (auth.Principal, error) {
	p, ok := b[strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")]
	if !ok {
		return auth.Principal{}, auth.ErrUnauthenticated
	}
	return p, nil
}

var (
	docAccounts = []string{"b2b", "b2c", "pre"}
	docStart    = time.Date(2026, 10, 20, 10, 0, 0, 0, twrules.Taipei)
	docEnd      = time.Date(2027, 1, 4, 12, 0, 0, 0, twrules.Taipei)
	// One 字軌 per period, each numbered from its own start.
	docRanges = map[string]struct {
		prefix string
		from   int64
	}{"2026-09": {"AB", 10000000}, "2026-11": {"CD", 20000000}, "2027-01": {"EF", 30000000}}
)

// docHistory is one generated history: a SQLite store file, the command
// handler and invoicing service that the CLI and serve use, the finance
// and customer invoicing API on a loopback server, and the test's own sums.
type docHistory struct {
	rt    *rapid.T
	ctx   context.Context
	dir   string
	store *sqlite.Store
	cmds  *commands.Handler
	svc   *invoicing.Service
	clk   *docClock
	srv   *httptest.Server
	seq   int
	// usage is every request's cost per account and Taipei month of its
	// start; balance is top-ups and adjustments less usage; paid is each
	// account's top-ups.
	usage   map[[2]string]decimal.Decimal
	balance map[string]decimal.Decimal
	paid    map[string]decimal.Decimal
	plans   map[string]domain.Plan
	// mixed accounts paid while postpaid or changed plan: part of their
	// usage is paid by credit invoiced at payment.
	mixed map[string]bool
	// skipped are the numbers taken out of use, per period.
	skipped map[string][]int64
	// adjusted lists the adjustments not reversed yet.
	adjusted []docAdjustment
	// voidsLess counts the voids that took an amount off the re-issue.
	voidsLess int
}

func newDocHistory(rt *rapid.T, base string) *docHistory {
	dir, err := os.MkdirTemp(base, "history-")
	if err != nil {
		rt.Fatal(err)
	}
	h := &docHistory{rt: rt, ctx: context.Background(), dir: dir, clk: &docClock{t: docStart},
		usage: map[[2]string]decimal.Decimal{}, balance: map[string]decimal.Decimal{}, paid: map[string]decimal.Decimal{},
		plans: map[string]domain.Plan{}, mixed: map[string]bool{}, skipped: map[string][]int64{}}
	if h.store, err = sqlite.Open(filepath.Join(dir, "events.db"), sqlite.Options{}); err != nil {
		rt.Fatal(err)
	}
	h.cmds = &commands.Handler{Store: h.store, Now: h.clk.Now}
	if h.svc, err = invoicing.New(h.store, invoicing.Config{Seller: invoicing.DevSeller(), Now: h.clk.Now}); err != nil {
		rt.Fatal(err)
	}
	// 2027-01 is two periods after the first clock's: meant.
	for period, r := range docRanges {
		if err := h.svc.AssignRange(h.ctx, period, r.prefix, r.from, r.from+99_999, invoicing.FarPeriodMeant); err != nil {
			rt.Fatal(err)
		}
	}
	for _, a := range []domain.AccountOpened{
		{AccountID: "b2b", Organisation: "艾克米股份有限公司", TaxID: "22099131", Plan: domain.PlanBusiness},
		{AccountID: "b2c", Organisation: "王小明工作室", Plan: domain.PlanEnterprise},
		{AccountID: "pre", Organisation: "小商店", Plan: domain.PlanStarter},
	} {
		if _, err := h.cmds.OpenAccount(h.ctx, a); err != nil {
			rt.Fatal(err)
		}
		h.plans[a.AccountID] = a.Plan
	}
	e := echo.New()
	principals := bearerPrincipals{"fin": {Staff: true, Role: auth.Finance, TokenID: "t-fin"}}
	for _, a := range docAccounts {
		principals["key-"+a] = auth.Principal{AccountID: a, KeyID: "k-" + a}
	}
	httpapi.Register(e.Group("/admin/api"), e.Group("/api/v1"), h.svc, principals)
	h.srv = httptest.NewServer(e)
	return h
}

func (h *docHistory) close() {
	h.srv.Close()
	h.store.Close()
	os.RemoveAll(h.dir)
}

// call sends a request to the invoicing API and decodes a JSON answer.
func (h *docHistory) call(method, path, token string, body any, out any) int {
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, h.srv.URL+path, rd)
	req.Header.Set("Authorization", "Bearer "+token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.rt.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if out != nil && resp.StatusCode < 300 {
		if err := json.Unmarshal(data, out); err != nil {
			h.rt.Fatalf("%s %s: %v: %s", method, path, err, data)
		}
	}
	if resp.StatusCode >= 500 {
		h.rt.Fatalf("%s %s: %d %s", method, path, resp.StatusCode, data)
	}
	return resp.StatusCode
}

func (h *docHistory) fetch(path, token string) []byte {
	req, _ := http.NewRequest(http.MethodGet, h.srv.URL+path, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.rt.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		h.rt.Fatalf("GET %s: %d %s", path, resp.StatusCode, data)
	}
	return data
}

// Invoices as the API shows them.
type apiAllowance struct {
	Number string `json:"number"`
	Sales  int64  `json:"sales"`
	Tax    int64  `json:"tax"`
	Status string `json:"status"`
}

type apiInvoice struct {
	Number     string         `json:"number"`
	Printed    string         `json:"printed_number"`
	Period     string         `json:"period"`
	Month      string         `json:"month"`
	AccountID  string         `json:"account_id"`
	TopUpRef   string         `json:"topup_ref"`
	Kind       string         `json:"kind"`
	BuyerTaxID string         `json:"buyer_tax_id"`
	Sales      int64          `json:"sales"`
	Tax        int64          `json:"tax"`
	Total      int64          `json:"total"`
	Net        int64          `json:"net"`
	Status     string         `json:"status"`
	Allowances []apiAllowance `json:"allowances"`
	PDF        string         `json:"pdf"`
}

func (h *docHistory) adminInvoices() []apiInvoice {
	var body struct {
		Invoices []apiInvoice `json:"invoices"`
	}
	if code := h.call(http.MethodGet, "/admin/api/invoices", "fin", nil, &body); code != http.StatusOK {
		h.rt.Fatalf("admin list: %d", code)
	}
	return body.Invoices
}

func (h *docHistory) live() []apiInvoice {
	var out []apiInvoice
	for _, inv := range h.adminInvoices() {
		if inv.Status != "voided" {
			out = append(out, inv)
		}
	}
	return out
}

// invPath is an invoice's path under the invoices, named by its period.
func invPath(inv apiInvoice, suffix string) string {
	return "/invoices/" + inv.Number + suffix + "?period=" + inv.Period
}

// Actions.

func (h *docHistory) advance(rt *rapid.T) {
	now := h.clk.Now().In(twrules.Taipei)
	nextMonth := time.Date(now.Year(), now.Month()+1, 1, 0, 0, 0, 0, twrules.Taipei)
	var next time.Time
	switch rapid.IntRange(0, 3).Draw(rt, "advance kind") {
	case 0: // the last second of the Taipei month
		next = nextMonth.Add(-time.Second)
	case 1: // the first second of the next
		next = nextMonth
	default:
		next = now.Add(time.Duration(rapid.IntRange(1, 9*24).Draw(rt, "hours")) * time.Hour)
	}
	if next.After(docEnd) {
		next = docEnd
	}
	if next.After(h.clk.Now()) {
		h.clk.Set(next)
	}
}

func (h *docHistory) use(rt *rapid.T) {
	acct := rapid.SampledFrom(docAccounts).Draw(rt, "account")
	now := h.clk.Now().In(twrules.Taipei)
	monthStart := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, twrules.Taipei)
	started := now
	switch rapid.IntRange(0, 3).Draw(rt, "start") {
	case 0: // the month's last moment: late usage of a month that may be closed
		started = monthStart.Add(-time.Millisecond)
	case 1: // its first
		started = monthStart
	}
	if started.Before(docStart) {
		started = now
	}
	// A request is billed whatever ended it once tokens were delivered
	// (a stream cut by the upstream, the client, the key's revocation or
	// the account's suspension, a shutdown); one of no cost (a free model)
	// bills nothing; a failed one, beside it, is no money at all.
	cost := decimal.New(int64(rapid.IntRange(0, 3_000_000).Draw(rt, "cost 1e-4")), -4)
	outcome := rapid.SampledFrom([]string{domain.OutcomeCompleted, domain.OutcomeUpstreamBrokeMid, domain.OutcomeClientDisconnected,
		domain.OutcomeKeyStoppedMid, domain.OutcomeShutdown, domain.OutcomeGatewayFailedMid}).Draw(rt, "outcome")
	h.seq++
	id := fmt.Sprintf("req-%d", h.seq)
	d, err := commands.Event(domain.EventID(domain.TypeRequestCompleted, id), now, &domain.RequestCompleted{
		RequestID: id, AccountID: acct, Model: rapid.SampledFrom([]string{"openai/gpt-4.1", "anthropic/claude-sonnet-4.6"}).Draw(rt, "model"),
		Usage: domain.Usage{Input: 10, Output: 5}, Cost: cost, StartedAt: started.UTC(), Outcome: outcome, Stream: outcome != domain.OutcomeCompleted})
	if err == nil {
		_, err = h.store.Append(h.ctx, domain.UsageStream(acct), eventstore.Any(), d)
	}
	if err == nil && rapid.Bool().Draw(rt, "a failed request beside it") {
		h.seq++
		fid := fmt.Sprintf("req-%d", h.seq)
		d, err = commands.Event(domain.RequestEventID(domain.TypeRequestFailed, fid), now, &domain.RequestFailed{RequestID: fid,
			AccountID: acct, Status: 502, Reason: "upstream_error", Outcome: domain.OutcomeUpstreamFailed, StartedAt: started.UTC()})
		if err == nil {
			_, err = h.store.Append(h.ctx, domain.UsageStream(acct), eventstore.Any(), d)
		}
	}
	if err != nil {
		rt.Fatal(err)
	}
	k := [2]string{acct, started.In(twrules.Taipei).Format("2006-01")}
	h.usage[k] = h.usage[k].Add(cost)
	h.balance[acct] = h.balance[acct].Sub(cost)
}

// topUp pays an account, as the payment door does (or gives credit as a
// top-up of method adjustment, never invoiced), and invoices the payment
// as serve's background work does. A postpaid account's payment pays its
// monthly invoices first, so its figures leave the test's simple sums.
func (h *docHistory) topUp(rt *rapid.T) {
	acct := rapid.SampledFrom(docAccounts).Draw(rt, "account paying")
	amount := decimal.NewFromInt(int64(rapid.IntRange(1, 20_000).Draw(rt, "top-up NTD")))
	method := rapid.SampledFrom([]string{domain.MethodCard, domain.MethodBankTransfer, domain.MethodAdjustment}).Draw(rt, "method")
	h.seq++
	if _, err := h.cmds.TopUp(h.ctx, domain.CreditsToppedUp{AccountID: acct, Amount: amount, Method: method,
		Reference: fmt.Sprintf("pay-%d", h.seq)}); err != nil {
		rt.Fatal(err)
	}
	h.balance[acct] = h.balance[acct].Add(amount)
	if method != domain.MethodAdjustment {
		h.paid[acct] = h.paid[acct].Add(amount)
		if h.postpaid(acct) {
			h.mixed[acct] = true
		}
	}
	h.invoiceTopUps()
}

func (h *docHistory) postpaid(acct string) bool {
	p, ok := h.plans[acct]
	return ok && p.Postpaid()
}

// plan moves b2c or pre to the other kind of plan.
func (h *docHistory) plan(rt *rapid.T) {
	acct := rapid.SampledFrom([]string{"b2c", "pre"}).Draw(rt, "account moved")
	pc := domain.PlanChanged{AccountID: acct, Plan: domain.PlanStarter}
	if !h.postpaid(acct) {
		pc.Plan, pc.CreditLimit = domain.PlanEnterprise, decimal.NewFromInt(100_000)
	}
	if err := h.cmds.ChangePlan(h.ctx, pc); err != nil {
		rt.Fatal(err)
	}
	h.plans[acct] = pc.Plan
	h.mixed[acct] = true
}

func (h *docHistory) invoiceTopUps() {
	if err := h.svc.Sync(h.ctx); err != nil {
		h.rt.Fatal(err)
	}
	if err := h.svc.InvoiceTopUps(h.ctx); err != nil {
		h.rt.Fatal(err)
	}
}

func (h *docHistory) adjust(rt *rapid.T) {
	acct := rapid.SampledFrom(docAccounts).Draw(rt, "account adjusted")
	d := decimal.New(int64(rapid.IntRange(-30_000, 30_000).Draw(rt, "adjustment cents")), -2)
	if d.IsZero() {
		return
	}
	id, _, err := h.cmds.AdjustOnceRecorded(h.ctx, domain.CreditsAdjusted{AccountID: acct, Amount: d, Reason: "correction"}, "")
	if err != nil {
		rt.Fatal(err)
	}
	h.balance[acct] = h.balance[acct].Add(d)
	h.adjusted = append(h.adjusted, docAdjustment{id: id, acct: acct, amount: d})
}

// docAdjustment is an adjustment not reversed yet.
type docAdjustment struct {
	id     uuid.UUID
	acct   string
	amount decimal.Decimal
}

// reverse reverses an adjustment, as finance undoes one recorded by
// mistake.
func (h *docHistory) reverse(rt *rapid.T) {
	if len(h.adjusted) == 0 {
		return
	}
	i := rapid.IntRange(0, len(h.adjusted)-1).Draw(rt, "adjustment reversed")
	a := h.adjusted[i]
	h.adjusted = slices.Delete(h.adjusted, i, i+1)
	if err := h.cmds.Adjust(h.ctx, domain.CreditsAdjusted{AccountID: a.acct, Amount: a.amount.Neg(), Reason: "reverses a mistake", Reverses: a.id}); err != nil {
		rt.Fatal(err)
	}
	h.balance[a.acct] = h.balance[a.acct].Sub(a.amount)
}

// closeMonth closes an ended month through the API: last month, or, late,
// the one before; sometimes twice, and the second close issues nothing.
func (h *docHistory) closeMonth(rt *rapid.T) {
	now := h.clk.Now().In(twrules.Taipei)
	back := rapid.IntRange(1, 2).Draw(rt, "months back")
	month := time.Date(now.Year(), now.Month()-time.Month(back), 1, 0, 0, 0, 0, twrules.Taipei).Format("2006-01")
	if month < "2026-10" {
		return
	}
	var rep struct {
		Issued []apiInvoice `json:"issued"`
	}
	if code := h.call(http.MethodPost, "/admin/api/invoices/close?month="+month, "fin", nil, &rep); code != http.StatusOK {
		rt.Fatalf("close %s: %d", month, code)
	}
	if rapid.Bool().Draw(rt, "close again") {
		rep.Issued = nil
		if code := h.call(http.MethodPost, "/admin/api/invoices/close?month="+month, "fin", nil, &rep); code != http.StatusOK || len(rep.Issued) != 0 {
			rt.Fatalf("close %s again: %d, issued %+v", month, code, rep.Issued)
		}
	}
}

// issueEarly issues one account's invoice of the running month, as
// `routefree invoices issue` does before the close.
func (h *docHistory) issueEarly(rt *rapid.T) {
	acct := rapid.SampledFrom(docAccounts).Draw(rt, "account issued early")
	_, _, err := h.svc.IssueMonthly(h.ctx, acct, h.clk.Now().In(twrules.Taipei).Format("2006-01"))
	if err != nil && !errors.Is(err, invoicing.ErrInvalid) { // nothing to bill yet
		rt.Fatal(err)
	}
}

// skip takes the current period's next few numbers out of use, as
// finance does after a restore (invoices skip).
func (h *docHistory) skip(rt *rapid.T) {
	period := twrules.PeriodOf(h.clk.Now()).String()
	r, used, ok := h.svc.Range(period)
	if !ok {
		return
	}
	k := rapid.Int64Range(0, 2).Draw(rt, "numbers to skip") + used
	through := fmt.Sprintf("%s%08d", r.Prefix, r.From+k)
	sk, err := h.svc.SkipNumbers(h.ctx, period, through, "issued before a restore")
	if err != nil {
		rt.Fatalf("skip through %s: %v", through, err)
	}
	for n := r.From + used; n <= r.From+k && sk.Count > 0; n++ {
		h.skipped[period] = append(h.skipped[period], n)
	}
}

func (h *docHistory) void(rt *rapid.T) {
	invs := h.live()
	if len(invs) == 0 {
		return
	}
	inv := rapid.SampledFrom(invs).Draw(rt, "invoice to void")
	code := h.call(http.MethodPost, "/admin/api"+invPath(inv, "/void"), "fin", map[string]string{"reason": "重開"}, nil)
	if code != http.StatusOK && code != http.StatusConflict { // live allowances, or past the filing deadline
		rt.Fatalf("void %s: %d", inv.Number, code)
	}
	if code == http.StatusOK && inv.TopUpRef != "" {
		h.invoiceTopUps()
	}
}

// voidLess voids a live monthly invoice through the admin API, taking an
// amount off its re-issue ("less"), which the next close issues.
func (h *docHistory) voidLess(rt *rapid.T) {
	monthly := func() []apiInvoice {
		var invs []apiInvoice
		for _, inv := range h.live() {
			if inv.TopUpRef == "" && inv.Total >= 2 {
				invs = append(invs, inv)
			}
		}
		return invs
	}
	invs := monthly()
	if len(invs) == 0 {
		// Finance may issue one early, then void it.
		h.issueEarly(rt)
		invs = monthly()
	}
	if len(invs) == 0 {
		return
	}
	inv := rapid.SampledFrom(invs).Draw(rt, "invoice to void less")
	less := rapid.Int64Range(1, inv.Total-1).Draw(rt, "amount off the re-issue")
	code := h.call(http.MethodPost, "/admin/api"+invPath(inv, "/void"), "fin", map[string]any{"reason": "重開減收", "less": less}, nil)
	if code != http.StatusOK && code != http.StatusConflict { // live allowances, or past the filing deadline
		rt.Fatalf("void of %s taking NT$%d off its re-issue: %d", inv.Number, less, code)
	}
	if code == http.StatusOK {
		h.voidsLess++
	}
}

func (h *docHistory) allowance(rt *rapid.T) {
	var invs []apiInvoice
	for _, inv := range h.live() {
		if inv.Net > 0 {
			invs = append(invs, inv)
		}
	}
	if len(invs) == 0 {
		return
	}
	inv := rapid.SampledFrom(invs).Draw(rt, "invoice to allow")
	var amount int64
	switch rapid.IntRange(0, 2).Draw(rt, "allowance kind") {
	case 0: // the whole of what it still bills
		amount = inv.Net
	case 1: // as much as its tax
		amount = max(1, min(inv.Tax, inv.Net))
	default:
		amount = rapid.Int64Range(1, inv.Net).Draw(rt, "allowance")
	}
	code := h.call(http.MethodPost, "/admin/api"+invPath(inv, "/allowances"), "fin", map[string]any{"amount": amount, "reason": "服務中斷"}, nil)
	if code != http.StatusCreated && code != http.StatusConflict { // nine allowances already; a B2C invoice before filing
		rt.Fatalf("allowance of %d on %s: %d", amount, inv.Number, code)
	}
	// Refused on a B2C monthly invoice before filing, the amount is taken
	// off its re-issue instead, by its void.
	live := false
	for _, a := range inv.Allowances {
		live = live || a.Status != "voided"
	}
	if code == http.StatusConflict && inv.Kind == "b2c" && inv.TopUpRef == "" && !live && inv.Total >= 2 {
		less := min(amount, inv.Total-1)
		code := h.call(http.MethodPost, "/admin/api"+invPath(inv, "/void"), "fin", map[string]any{"reason": "折讓改作廢重開", "less": less}, nil)
		if code != http.StatusOK && code != http.StatusConflict { // past the filing deadline
			rt.Fatalf("void of %s taking NT$%d off its re-issue: %d", inv.Number, less, code)
		}
		if code == http.StatusOK {
			h.voidsLess++
		}
	}
}

func (h *docHistory) voidAllowance(rt *rapid.T) {
	var live []string
	for _, inv := range h.live() {
		for _, a := range inv.Allowances {
			if a.Status != "voided" {
				live = append(live, a.Number)
			}
		}
	}
	if len(live) == 0 {
		return
	}
	n := rapid.SampledFrom(live).Draw(rt, "allowance to void")
	if code := h.call(http.MethodPost, "/admin/api/allowances/"+n+"/void", "fin", map[string]string{"reason": "折讓取消"}, nil); code != http.StatusOK {
		rt.Fatalf("void allowance %s: %d", n, code)
	}
}

// check asserts the invariants across documents: the reconciliation, the
// finance and customer lists, and the number ranges.
func (h *docHistory) check(settled bool) (map[string]int64, []apiInvoice) {
	rt := h.rt
	var rec invoicing.Reconciliation
	if code := h.call(http.MethodGet, "/admin/api/invoices/reconciliation", "fin", nil, &rec); code != http.StatusOK {
		rt.Fatalf("reconciliation: %d", code)
	}
	all := h.adminInvoices()

	// Every account and month: invoiced + pending = used, and used is the
	// test's usage (postpaid) or payments (prepaid).
	type am = [2]string
	usedRows, paidRows := map[am]decimal.Decimal{}, map[string]decimal.Decimal{}
	rowNTD, rowNet := map[am]int64{}, map[am]int64{}
	for _, r := range rec.Rows {
		if !r.Invoiced.Add(r.Pending).Equal(r.Used) {
			rt.Fatalf("%s %s %s: invoiced %s + pending %s ≠ used %s", r.AccountID, r.Month, r.Basis, r.Invoiced, r.Pending, r.Used)
		}
		if r.Pending.IsNegative() || (!r.Pending.IsZero() && r.Reason == "") {
			rt.Fatalf("%s %s %s: pending %s (%q)", r.AccountID, r.Month, r.Basis, r.Pending, r.Reason)
		}
		if settled && r.Reason != "" && r.Reason != invoicing.ReasonUnderOneNTD && r.Reason != invoicing.ReasonMonthOpen {
			rt.Fatalf("%s %s %s: after the last close, %s pending: %s", r.AccountID, r.Month, r.Basis, r.Pending, r.Reason)
		}
		k := am{r.AccountID, r.Month}
		switch r.Basis {
		case invoicing.BasisUsage:
			usedRows[k] = usedRows[k].Add(r.Used)
		case invoicing.BasisTopUps:
			paidRows[r.AccountID] = paidRows[r.AccountID].Add(r.Used)
		}
		rowNTD[k] += r.InvoicedNTD
		rowNet[k] += r.Net
	}
	for k, u := range h.usage {
		switch {
		case h.mixed[k[0]]: // credit paid at payment pays part of it
			if usedRows[k].GreaterThan(u) {
				rt.Fatalf("%s %s: the reconciliation's usage %s, more than the test's %s", k[0], k[1], usedRows[k], u)
			}
		case k[0] == "pre": // prepaid: its payments are invoiced, not its usage
		case !usedRows[k].Equal(u):
			rt.Fatalf("%s %s: the reconciliation's usage %s, the test's %s", k[0], k[1], usedRows[k], u)
		}
	}
	for _, acct := range docAccounts {
		if got := paidRows[acct]; (!h.mixed[acct] && !got.Equal(h.paid[acct])) || got.GreaterThan(h.paid[acct]) {
			rt.Fatalf("%s: the reconciliation's top-ups %s, the test's payments %s", acct, got, h.paid[acct])
		}
	}

	// Each invoice adds up; its allowances never exceed it; the
	// reconciliation's whole-NTD figures are the list's.
	listNTD, listNet := map[am]int64{}, map[am]int64{}
	netByMonth := map[string]int64{}
	type pn = [2]string
	seen := map[pn]bool{}
	numbers := map[string][]int64{}
	for _, inv := range all {
		if inv.Sales+inv.Tax != inv.Total || inv.Total <= 0 || inv.Sales < 0 || inv.Tax < 0 {
			rt.Fatalf("invoice %s: %d + %d ≠ %d", inv.Number, inv.Sales, inv.Tax, inv.Total)
		}
		if want, _ := twrules.SplitInclusive(inv.Total); inv.Kind == "b2b" && inv.Sales != want {
			rt.Fatalf("invoice %s: sales %d of %d, the rule's %d", inv.Number, inv.Sales, inv.Total, want)
		}
		if (inv.Kind == "b2b") != (inv.AccountID == "b2b") || (inv.Kind == "b2b" && inv.BuyerTaxID != "22099131") {
			rt.Fatalf("invoice %s of %s is %s to %q", inv.Number, inv.AccountID, inv.Kind, inv.BuyerTaxID)
		}
		var as, at int64
		for _, a := range inv.Allowances {
			if a.Status != "voided" {
				as, at = as+a.Sales, at+a.Tax
			}
			if a.Sales < 0 || a.Tax < 0 || a.Sales+a.Tax <= 0 {
				rt.Fatalf("allowance %s: %d + %d", a.Number, a.Sales, a.Tax)
			}
		}
		if as > inv.Sales || at > inv.Tax {
			rt.Fatalf("invoice %s (%d + %d) has allowances of %d + %d", inv.Number, inv.Sales, inv.Tax, as, at)
		}
		net := inv.Total - as - at
		if inv.Status == "voided" {
			net = 0
		} else {
			listNTD[am{inv.AccountID, inv.Month}] += inv.Total
			listNet[am{inv.AccountID, inv.Month}] += net
		}
		if inv.Net != net {
			rt.Fatalf("invoice %s: net %d, its figures give %d", inv.Number, inv.Net, net)
		}
		netByMonth[inv.Month] += net
		// Numbers: unique in their period, from its range.
		if seen[pn{inv.Period, inv.Number}] {
			rt.Fatalf("invoice %s issued twice in %s", inv.Number, inv.Period)
		}
		seen[pn{inv.Period, inv.Number}] = true
		r := docRanges[inv.Period]
		if !strings.HasPrefix(inv.Number, r.prefix) || inv.Printed != twrules.PrintedNumber(inv.Number) {
			rt.Fatalf("invoice %s (%s) in %s: range %s", inv.Number, inv.Printed, inv.Period, r.prefix)
		}
		n, _ := strconv.ParseInt(inv.Number[2:], 10, 64)
		numbers[inv.Period] = append(numbers[inv.Period], n)
	}
	for k := range rowNTD {
		if rowNTD[k] != listNTD[k] || rowNet[k] != listNet[k] {
			rt.Fatalf("%s %s: the reconciliation invoices NT$%d (net %d), the list NT$%d (net %d)", k[0], k[1], rowNTD[k], rowNet[k], listNTD[k], listNet[k])
		}
	}
	for k := range listNTD {
		if _, ok := rowNTD[k]; !ok {
			rt.Fatalf("%s %s: invoiced NT$%d, and the reconciliation has no row", k[0], k[1], listNTD[k])
		}
	}
	checkAllowedBeyond(rt, rec, all)
	// No gaps: a period's numbers, voided ones included, and those taken
	// out of use run from its range's first, once each, as many as the
	// range status counts used.
	for period, sk := range h.skipped {
		numbers[period] = append(numbers[period], sk...)
	}
	for period, ns := range numbers {
		sort.Slice(ns, func(i, j int) bool { return ns[i] < ns[j] })
		for i, n := range ns {
			if n != docRanges[period].from+int64(i) {
				rt.Fatalf("%s: numbers %v (%v skipped) leave a gap or repeat one", period, ns, h.skipped[period])
			}
		}
		if _, used, _ := h.svc.Range(period); used != int64(len(ns)) {
			rt.Fatalf("%s: the range counts %d used, %d issued", period, used, len(ns))
		}
	}

	// The customer's list is the finance list's invoices of that account,
	// with the same figures.
	for _, acct := range docAccounts {
		var body struct {
			Invoices []apiInvoice `json:"invoices"`
		}
		if code := h.call(http.MethodGet, "/api/v1/invoices", "key-"+acct, nil, &body); code != http.StatusOK {
			rt.Fatalf("%s's list: %d", acct, code)
		}
		var want []apiInvoice
		for _, inv := range all {
			if inv.AccountID == acct {
				want = append(want, inv)
			}
		}
		if len(body.Invoices) != len(want) {
			rt.Fatalf("%s sees %d invoices, finance %d", acct, len(body.Invoices), len(want))
		}
		for i, got := range body.Invoices {
			w := want[i]
			got.PDF, w.PDF = "", ""
			if fmt.Sprint(got.Allowances) != fmt.Sprint(w.Allowances) || got.Number != w.Number || got.Period != w.Period ||
				got.Month != w.Month || got.Total != w.Total || got.Sales != w.Sales || got.Tax != w.Tax || got.Net != w.Net || got.Status != w.Status {
				rt.Fatalf("%s sees %+v, finance %+v", acct, got, w)
			}
		}
	}
	return netByMonth, all
}

// checkReplay runs `routefree replay` on the history's folder and checks
// its balances, usage and invoices by month, and its reconciliation
// totals, against the test's figures, the finance list and the live
// service.
func (h *docHistory) checkReplay(netByMonth map[string]int64, invoices int) {
	rt := h.rt
	var out, errb bytes.Buffer
	if code := run(h.ctx, []string{"replay", "--data-dir", h.dir}, &out, &errb); code != 0 {
		rt.Fatalf("replay: exit %d: %s", code, errb.String())
	}
	text := out.String()
	section := func(title string) []string {
		_, rest, ok := strings.Cut(text, "\n"+title+"\n")
		if !ok {
			rt.Fatalf("replay prints no %s:\n%s", title, text)
		}
		rest, _, _ = strings.Cut(rest, "\n\n")
		return strings.Split(rest, "\n")[1:] // after the header
	}
	balances := map[string]string{}
	for _, l := range section("BALANCES (NTD)") {
		if f := strings.Fields(l); len(f) == 2 && f[0] != "TOTAL" {
			balances[f[0]] = f[1]
		}
	}
	for _, acct := range docAccounts {
		got, _ := decimal.NewFromString(balances[acct])
		if !got.Equal(h.balance[acct]) || (balances[acct] == "" && !h.balance[acct].IsZero()) {
			rt.Fatalf("%s: replay's balance %q, the test's %s", acct, balances[acct], h.balance[acct])
		}
	}
	usage := map[[2]string]string{}
	for _, l := range section("USAGE BY MONTH (Asia/Taipei, NTD)") {
		if f := strings.Fields(l); len(f) == 3 && f[1] != "TOTAL" {
			usage[[2]string{f[1], f[0]}] = f[2]
		}
	}
	if len(usage) != len(h.usage) {
		rt.Fatalf("replay's usage %v, the test's %v", usage, h.usage)
	}
	for k, u := range h.usage {
		if got, _ := decimal.NewFromString(usage[k]); !got.Equal(u) {
			rt.Fatalf("%s %s: replay's usage %q, the test's %s", k[0], k[1], usage[k], u)
		}
	}
	line := regexp.MustCompile(`^(\d{4}-\d{2}) +(-?\d+)$`)
	printed := map[string]int64{}
	for _, l := range section("INVOICES BY MONTH (net NTD)") {
		m := line.FindStringSubmatch(l)
		if m == nil {
			rt.Fatalf("replay's invoices by month: %q", l)
		}
		printed[m[1]], _ = strconv.ParseInt(m[2], 10, 64)
	}
	for m, n := range netByMonth {
		if printed[m] != n {
			rt.Fatalf("%s: replay's net invoiced NT$%d, the list's NT$%d", m, printed[m], n)
		}
	}
	for m, n := range printed {
		if netByMonth[m] != n {
			rt.Fatalf("%s: replay's net invoiced NT$%d, the list's NT$%d", m, n, netByMonth[m])
		}
	}
	live, err := h.svc.Reconcile(h.ctx, "")
	if err != nil {
		rt.Fatal(err)
	}
	var want bytes.Buffer
	if err := live.WriteTotals(&want); err != nil {
		rt.Fatal(err)
	}
	// Why an amount waits depends on the day (a month not ended yet),
	// and replay's day is today's, not the history's: the reasons aside,
	// the totals are the same.
	noReasons := func(s string) string {
		var keep []string
		for _, l := range strings.Split(s, "\n") {
			if !strings.HasPrefix(l, "  pending ") {
				keep = append(keep, l)
			}
		}
		return strings.Join(keep, "\n")
	}
	if !strings.Contains(noReasons(text), noReasons(want.String())) {
		rt.Fatalf("replay does not print the live reconciliation:\n%s\nwant:\n%s", text, want.String())
	}
	if docs := fmt.Sprintf("INVOICE DOCUMENTS %d ", invoices); !strings.Contains(text, docs) {
		rt.Fatalf("replay does not print %q:\n%s", docs, text)
	}
}

// checkPDF reads one invoice's PDF back, as finance and as its customer
// download it: both print its number, its figures and its total in words.
func (h *docHistory) checkPDF(tb testing.TB, inv apiInvoice) {
	rt := h.rt
	admin := pdftest.LayoutText(tb, h.fetch("/admin/api"+invPath(inv, "/pdf"), "fin"))
	customer := pdftest.LayoutText(tb, h.fetch("/api/v1"+invPath(inv, "/pdf"), "key-"+inv.AccountID))
	if admin != customer {
		rt.Fatalf("invoice %s: finance's PDF and the customer's differ", inv.Number)
	}
	ntd := func(n int64) string { return groupNTD(n) }
	wants := []string{inv.Printed, "總計新臺幣（大寫）：" + twrules.UpperNTD(inv.Total)}
	labels := map[string]int64{"總計（含稅）": inv.Total}
	if inv.Kind == "b2b" {
		labels = map[string]int64{"銷售額合計": inv.Sales, "營業稅（5%）": inv.Tax, "總計": inv.Total}
	}
	for _, w := range wants {
		if !strings.Contains(admin, w) {
			rt.Fatalf("invoice %s: the PDF lacks %q:\n%s", inv.Number, w, admin)
		}
	}
	for label, n := range labels {
		re := regexp.MustCompile(`(?m)` + regexp.QuoteMeta(label) + `\s+(\S+)\s*$`)
		m := re.FindStringSubmatch(admin)
		if m == nil || m[1] != ntd(n) {
			rt.Fatalf("invoice %s: the PDF prints %s %v, the list %s:\n%s", inv.Number, label, m, ntd(n), admin)
		}
	}
}

// checkAllowedBeyond asserts that the live allowances on each account's
// live top-up invoices, as the list shows them, are for the paid credit
// the reconciliation says was refunded (whole NTD), or are named by it as
// allowed beyond the refunds, with allowances of the list's to void.
func checkAllowedBeyond(rt *rapid.T, rec invoicing.Reconciliation, all []apiInvoice) {
	allowed := map[string]int64{}
	live := map[string]string{} // allowance number → account
	for _, inv := range all {
		if inv.TopUpRef == "" || inv.Status == "voided" {
			continue
		}
		for _, a := range inv.Allowances {
			if a.Status != "voided" {
				allowed[inv.AccountID] += a.Sales + a.Tax
				live[a.Number] = inv.AccountID
			}
		}
	}
	named := map[string]invoicing.Refund{}
	for _, r := range rec.Refunds {
		named[r.AccountID] = r
		for _, a := range r.ToVoid {
			if live[a.Number] != r.AccountID {
				rt.Fatalf("%s: allowance %s to void is not one the list shows live on its top-up invoices", r.AccountID, a.Number)
			}
		}
	}
	for _, acct := range docAccounts {
		r := named[acct]
		if want := max(allowed[acct]-r.Refunded.Floor().IntPart(), 0); r.Beyond != want {
			rt.Fatalf("%s: top-up invoices allowed NT$%d for NT$%s refunded; the reconciliation names NT$%d allowed beyond refunds", acct, allowed[acct], r.Refunded, r.Beyond)
		}
	}
}

func groupNTD(n int64) string {
	s := strconv.FormatInt(n, 10)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// TestEveryNTInvoicedAgreesAcrossDocuments generates histories through the
// store, the command handler, the invoicing service and its HTTP API: B2B
// and B2C postpaid accounts and a prepaid one, usage at the last and first
// moment of Taipei months, top-ups, adjustments, early issues, closes run
// twice and late, voids, allowances (whole, partial, as much as the tax)
// and their voids. After every step the reconciliation's invoiced + pending
// is used, every invoice adds up, the finance and customer lists agree with
// each other and with the reconciliation, and each period's numbers run
// without gaps; at the end, after the last close, nothing is pending but
// fractions, `routefree replay` prints the test's balances and usage, the
// list's net by month and the live reconciliation, and one invoice's PDF,
// read back, prints the list's figures.
func TestEveryNTInvoicedAgreesAcrossDocuments(t *testing.T) {
	base := t.TempDir()
	n, voidsLess := 0, 0
	rapid.Check(t, func(rt *rapid.T) {
		n++
		h := newDocHistory(rt, base)
		defer h.close()
		defer func() { voidsLess += h.voidsLess }()
		actions := map[string]func(*rapid.T){
			"advance": h.advance, "use": h.use, "topUp": h.topUp, "adjust": h.adjust, "close": h.closeMonth,
			"issueEarly": h.issueEarly, "plan": h.plan, "void": h.void, "voidLess": h.voidLess, "allowance": h.allowance, "voidAllowance": h.voidAllowance,
			"skip": h.skip, "reverse": h.reverse,
		}
		names := make([]string, 0, len(actions))
		for k := range actions {
			names = append(names, k)
		}
		sort.Strings(names)
		steps := rapid.IntRange(5, 30).Draw(rt, "steps")
		for i := 0; i < steps; i++ {
			actions[rapid.SampledFrom(append(names, "use", "use", "advance")).Draw(rt, "action")](rt)
			h.check(false)
		}
		// The last close bills every earlier month; top-ups are invoiced.
		h.clk.Set(docEnd)
		if code := h.call(http.MethodPost, "/admin/api/invoices/close?month=2026-12", "fin", nil, nil); code != http.StatusOK {
			rt.Fatalf("last close: %d", code)
		}
		h.invoiceTopUps()
		net, all := h.check(true)
		h.checkReplay(net, len(all))
		if len(all) > 0 {
			h.checkPDF(rapidDocTB{TB: t, rt: rt}, rapid.SampledFrom(all).Draw(rt, "invoice read back"))
		}
	})
	t.Logf("%d histories, %d voids taking an amount off the re-issue", n, voidsLess)
}

// rapidDocTB lets pdftest's helpers fail the rapid check, which then
// shrinks the history, rather than the whole test.
type rapidDocTB struct {
	testing.TB
	rt *rapid.T
}

func (r rapidDocTB) Helper()                           {}
func (r rapidDocTB) Fatalf(format string, args ...any) { r.rt.Fatalf(format, args...) }
func (r rapidDocTB) Fatal(args ...any)                 { r.rt.Fatal(args...) }
func (r rapidDocTB) Errorf(format string, args ...any) { r.rt.Errorf(format, args...) }
