package console

import (
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/invoicing"
	"github.com/routefree/routefree/projections"
)

// The staff dashboard shows what the read models hold: usage and invoices
// by month, top-ups by month, usage by day over every account, the accounts
// that owe and the invoice documents still to upload; its tables, its CSVs
// and its tiles agree.
func TestDashboardMatchesReadModels(t *testing.T) {
	e := newEnv(t, false)
	e.openAccount("acct_d1", "儀表公司", domain.PlanStarter)
	e.openAccount("acct_d2", "月結公司", domain.PlanBusiness)
	k1, _ := e.issueKey("acct_d1")
	k2, _ := e.issueKey("acct_d2")
	if err := e.cmds.SetCreditLimit(e.ctx, "acct_d2", decimal.NewFromInt(5000)); err != nil {
		t.Fatal(err)
	}
	m := e.cat.IDs()[0]
	e.request("acct_d1", k1, m, "A", time.Date(2026, 2, 20, 10, 0, 0, 0, projections.Taipei), 100, 100, "12.345")
	e.request("acct_d1", k1, m, "", time.Date(2026, 3, 2, 10, 0, 0, 0, projections.Taipei), 100, 100, "7.5")
	e.request("acct_d2", k2, m, "B", time.Date(2026, 3, 3, 23, 59, 0, 0, projections.Taipei), 300, 100, "1234.56789")
	e.request("acct_d2", k2, m, "B", time.Date(2026, 3, 10, 8, 0, 0, 0, projections.Taipei), 10, 10, "0.04")
	e.sync()
	e.invoice("acct_d1", "AB12345678", "2026-03") // a NT$1,000 top-up and its invoice, not uploaded yet
	e.invoice("acct_d1", "AB12345679", "2026-03")
	// Credit given, not paid (the demo account's, a goodwill gesture): no
	// payment came in and no invoice follows, so it is no top-up here.
	if _, err := e.cmds.TopUp(e.ctx, domain.CreditsToppedUp{AccountID: "acct_d1", Amount: decimal.NewFromInt(300),
		Method: domain.MethodAdjustment, Reference: "goodwill"}); err != nil {
		t.Fatal(err)
	}
	e.sync()

	b := e.browser()
	b.signIn(e.finance)
	_, page := b.get("/console/dashboard?" + url.Values{"from": {"2026-03-01"}, "to": {"2026-03-15"}}.Encode())

	// Revenue by month: used from the usage model, invoiced from invoices.
	all, err := e.models.Usage.All(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	used := map[string]decimal.Decimal{}
	for _, r := range all {
		used[r.Period] = used[r.Period].Add(r.Cost)
	}
	invoiced := e.models.Invoices.Totals()
	rev := chartBars(t, page, "chart-revenue")
	if len(rev) != 12 || rev[0]["data-label"] != "2025-04" || rev[11]["data-label"] != "2026-03" {
		t.Fatalf("revenue months %v", rev)
	}
	for _, r := range rev {
		if !decimal.RequireFromString(r["data-value"]).Equal(used[r["data-label"]]) {
			t.Errorf("month %s: used %s, usage model %s", r["data-label"], r["data-value"], used[r["data-label"]])
		}
	}
	data := chartData(t, page, "chart-revenue")
	if len(data.Series) != 2 || data.Series[1].Values[11] != strconv.FormatInt(invoiced["2026-03"], 10) || invoiced["2026-03"] != 2000 {
		t.Errorf("invoiced series %+v, invoices %v", data.Series, invoiced)
	}
	if data.Series[0].Text[10] != "NT$12.35" || data.Series[0].Text[11] != "NT$1,242.11" {
		t.Errorf("used series text %v", data.Series[0].Text)
	}

	// Usage by day, every account.
	days := chartBars(t, page, "chart-usage")
	if len(days) != 15 {
		t.Fatalf("%d days", len(days))
	}
	want := map[string]decimal.Decimal{}
	for _, acct := range []string{"acct_d1", "acct_d2"} {
		rows, err := e.models.Usage.DailyByAccount(e.ctx, acct, "2026-03-01", "2026-03-15")
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rows {
			want[r.Period] = want[r.Period].Add(r.Cost)
		}
	}
	for _, d := range days {
		if !decimal.RequireFromString(d["data-value"]).Equal(want[d["data-label"]]) {
			t.Errorf("day %s: %s, usage model %s", d["data-label"], d["data-value"], want[d["data-label"]])
		}
	}

	// Top-ups by month: the two invoiced top-ups of March.
	ups := chartBars(t, page, "chart-topups")
	if last := ups[len(ups)-1]; last["data-label"] != "2026-03" || last["data-value"] != "2000" || last["data-count"] != "2" {
		t.Errorf("March top-ups %v", last)
	}
	if got := attrOf(t, page, "div", "id", "tile-topups", "data-value"); got != "2000" {
		t.Errorf("top-ups tile %s, want the NT$2,000 paid", got)
	}

	// Balances owed: acct_d2 used NT$1,234.60789 on credit.
	owed := chartBars(t, page, "chart-owed")
	v, _ := e.models.Balances.View("acct_d2", "", e.clock.Now())
	if len(owed) != 1 || !strings.Contains(owed[0]["data-label"], "acct_d2") || !decimal.RequireFromString(owed[0]["data-value"]).Equal(v.Balance.Neg()) {
		t.Errorf("owed %v, acct_d2 balance %s", owed, v.Balance)
	}
	if got := attrOf(t, page, "div", "id", "tile-owed", "data-value"); !decimal.RequireFromString(got).Equal(v.Balance.Neg()) || !strings.Contains(page, "NT$1,234.61") {
		t.Errorf("owed tile %s", got)
	}

	// Invoices pending upload: both top-up invoices, as the outbox lists them.
	var pending []string
	for _, d := range e.deps.Invoices.(*invoicing.Service).Documents() {
		if d.Status != invoicing.FilingUploaded {
			pending = append(pending, d.Message+"-"+d.Number)
		}
	}
	rows := elements(t, page, "tr", "data-document")
	if len(rows) != len(pending) || len(rows) != 2 || attrOf(t, page, "div", "id", "tile-pending", "data-count") != "2" {
		t.Errorf("pending uploads on the page %v, outbox %v", rows, pending)
	}

	// The CSV of the revenue table is the page's.
	recs := getCSV(t, b, csvLink(t, page, "chart-revenue-table"))
	if len(recs) != 14 || recs[12][0] != "2026-03" || recs[12][1] != exactAmount(used["2026-03"]) || recs[12][2] != "2000.00" {
		t.Errorf("revenue CSV %q", recs)
	}
	if p := getCSV(t, b, csvLink(t, page, "pending-uploads")); len(p) != 3 {
		t.Errorf("pending uploads CSV %q", p)
	}

	// A quiet business: every chart says it has no data.
	q := newEnv(t, false)
	qb := q.browser()
	qb.signIn(q.auditor)
	_, quiet := qb.get("/console/dashboard")
	for _, id := range []string{"chart-revenue", "chart-usage", "chart-topups", "chart-owed"} {
		if !strings.Contains(quiet, `id="`+id+`-nodata"`) || strings.Contains(quiet, `<canvas id="`+id+`"`) {
			t.Errorf("%s: no no-data note on an empty dashboard", id)
		}
	}
}
