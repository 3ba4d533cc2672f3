package console

import (
	"bytes"
	"encoding/csv"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/shopspring/decimal"
	"golang.org/x/net/html"

	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/invoicing"
	"github.com/routefree/routefree/projections"
)

// getCSV follows a page's CSV link and reads the file back: UTF-8 with a
// byte-order mark, then CSV records.
func getCSV(t *testing.T, b *browser, href string) [][]string {
	t.Helper()
	resp, body := b.get(href)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s: %d", href, resp.StatusCode)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "text/csv; charset=utf-8" {
		t.Fatalf("%s: Content-Type %q", href, ct)
	}
	if cd := resp.Header.Get("Content-Disposition"); !strings.HasPrefix(cd, "attachment; filename=") || !strings.HasSuffix(cd, `.csv"`) {
		t.Errorf("%s: Content-Disposition %q", href, cd)
	}
	if !strings.HasPrefix(body, "\ufeff") {
		t.Fatalf("%s: no UTF-8 byte-order mark", href)
	}
	if !strings.Contains(body, "\r\n") {
		t.Errorf("%s: lines do not end in CRLF", href)
	}
	recs, err := csv.NewReader(bytes.NewReader([]byte(strings.TrimPrefix(body, "\ufeff")))).ReadAll()
	if err != nil {
		t.Fatalf("%s: %v", href, err)
	}
	return recs
}

// csvLink is the href of the page's CSV link for table id.
func csvLink(t *testing.T, page, id string) string {
	t.Helper()
	return attrOf(t, page, "a", "data-csv-for", id, "href")
}

// Every table with an id has a CSV link; the CSV holds the page's figures,
// amounts as plain decimals, Chinese as written; a page's role checks apply
// to its CSV.
func TestCSVDownloads(t *testing.T) {
	e := newEnv(t, false)
	e.openAccount("acct_csv", "表格股份有限公司", domain.PlanStarter)
	e.openAccount("acct_formula", "=HYPERLINK(\"http://x\")", domain.PlanStarter)
	keyID, secret := e.issueKey("acct_csv")
	seedUsage(e, "acct_csv", keyID)
	if _, err := e.cmds.TopUp(e.ctx, domain.CreditsToppedUp{AccountID: "acct_csv", Amount: decimal.RequireFromString("80000"),
		Method: domain.MethodBankTransfer, Reference: "BANK-80000"}); err != nil {
		t.Fatal(err)
	}
	if err := e.cmds.Adjust(e.ctx, domain.CreditsAdjusted{AccountID: "acct_formula", Amount: decimal.RequireFromString("-0.04"), Reason: "rounding"}); err != nil {
		t.Fatal(err)
	}
	e.sync()

	staff := e.browser()
	staff.signIn(e.admin)
	_, page := staff.get("/console/accounts")
	for _, id := range []string{"accounts"} {
		if !strings.Contains(csvLink(t, page, id), "format=csv") {
			t.Fatalf("no CSV link for %s", id)
		}
	}
	recs := getCSV(t, staff, csvLink(t, page, "accounts"))
	if len(recs) != 3 || recs[0][0] != tr(langZH, "account") || recs[0][3] != tr(langZH, "balance") {
		t.Fatalf("accounts CSV: %q", recs)
	}
	rows := map[string][]string{}
	for _, r := range recs[1:] {
		rows[r[0]] = r
	}
	// The page shows NT$…,…; the CSV the same figures as plain decimals.
	for _, tr := range elements(t, page, "tr", "data-account") {
		id := tr["data-account"]
		bal := rowBalance(t, page, id)
		if got := rows[id]; got == nil || got[3] != decimal.RequireFromString(bal).StringFixed(2) {
			t.Errorf("account %s: CSV %q, page balance %s", id, got, bal)
		}
	}
	if got := rows["acct_csv"]; got[1] != "表格股份有限公司" {
		t.Errorf("Chinese organisation read back as %q", got[1])
	}
	if !strings.Contains(page, "-NT$0.04") || !strings.Contains(page, "NT$79,9") {
		t.Errorf("accounts page does not format money as NT$80,000.00 / -NT$0.04")
	}
	if got := rows["acct_formula"]; got[3] != "-0.04" || !strings.HasPrefix(got[1], "'=") {
		t.Errorf("formula account row %q: want -0.04 and a defused formula", got)
	}

	// The account page: usage tables over the range asked, and top-ups.
	q := url.Values{"from": {"2026-03-01"}, "to": {"2026-03-15"}}.Encode()
	_, acct := staff.get("/console/accounts/acct_csv?" + q)
	for _, id := range []string{"chart-daily", "chart-models", "chart-keys", "chart-apps"} {
		href := csvLink(t, acct, id+"-table")
		if !strings.Contains(href, "from=2026-03-01") || !strings.Contains(href, "to=2026-03-15") {
			t.Errorf("%s: CSV link %q loses the range", id, href)
		}
		recs := getCSV(t, staff, href)
		bars := chartBars(t, acct, id)
		if len(recs) != len(bars)+2 { // header, rows, total
			t.Fatalf("%s: CSV has %d records for %d rows", id, len(recs), len(bars))
		}
		if recs[0][1] != tr(langZH, "requests") || recs[0][3] != tr(langZH, "chart.cost") {
			t.Errorf("%s: header %q", id, recs[0])
		}
		// The page isolates key names with direction marks; the CSV has
		// the names alone.
		plain := strings.NewReplacer("\u2068", "", "\u2069", "")
		for i, bar := range bars {
			r := recs[i+1]
			if r[0] != plain.Replace(bar["data-label"]) || r[1] != bar["data-requests"] || r[2] != bar["data-tokens"] ||
				r[3] != exactAmount(decimal.RequireFromString(bar["data-value"])) {
				t.Errorf("%s: CSV %q, page %v", id, r, bar)
			}
		}
		total := recs[len(recs)-1]
		if total[0] != tr(langZH, "total") || total[3] != exactAmount(decimal.RequireFromString(attrOf(t, acct, "p", "id", "usage-total", "data-total"))) {
			t.Errorf("%s: total row %q", id, total)
		}
	}
	top := getCSV(t, staff, csvLink(t, acct, "topups"))
	if len(top) != 2 || top[1][2] != "BANK-80000" || top[1][3] != "80000.00" {
		t.Errorf("top-ups CSV %q", top)
	}
	// An empty list is a header alone, not a "(none)" row.
	if recs := getCSV(t, staff, "/console/accounts/acct_formula?format=csv&table=topups"); len(recs) != 2 || recs[1][3] != "-0.04" {
		t.Errorf("adjustment CSV %q", recs)
	}
	if resp, _ := staff.get("/console/accounts/acct_csv?format=csv&table=nothing"); resp.StatusCode != http.StatusNotFound {
		t.Errorf("unknown table: %d", resp.StatusCode)
	}

	// English headers with ?lang=en remembered.
	staff.get("/console/accounts?lang=en")
	if recs := getCSV(t, staff, "/console/accounts?format=csv&table=accounts"); recs[0][3] != "Balance" {
		t.Errorf("English header %q", recs[0])
	}

	// The page's role checks hold for its CSV: a customer key gets its own
	// account, not the list of accounts nor another account.
	cust := e.browser()
	cust.signIn(secret)
	if resp, body := cust.get("/console/accounts?format=csv&table=accounts"); resp.StatusCode != http.StatusForbidden || strings.Contains(body, "acct_formula") {
		t.Errorf("customer reading the accounts CSV: %d", resp.StatusCode)
	}
	if resp, _ := cust.get("/console/accounts/acct_formula?format=csv&table=topups"); resp.StatusCode != http.StatusForbidden && resp.StatusCode != http.StatusNotFound {
		t.Errorf("customer reading another account's CSV: %d", resp.StatusCode)
	}
	if recs := getCSV(t, cust, "/console/accounts/acct_csv?"+q+"&format=csv&table=chart-daily-table"); len(recs) != 17 {
		t.Errorf("customer's own usage CSV: %d records", len(recs))
	}
	if resp, _ := staff.get("/console/invoices?format=csv&table=invoices"); resp.StatusCode != http.StatusForbidden {
		t.Errorf("admin reading the invoices CSV: %d", resp.StatusCode)
	}
	if resp, _ := e.browser().get("/console/accounts?format=csv&table=accounts"); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("signed-out CSV: %d", resp.StatusCode)
	}
}

// rowBalance is the data-balance of the accounts table's row of id.
func rowBalance(t *testing.T, page, id string) string {
	t.Helper()
	i := strings.Index(page, `<tr data-account="`+id+`">`)
	if i < 0 {
		t.Fatalf("no row %s", id)
	}
	row := page[i : i+strings.Index(page[i:], "</tr>")]
	cells := elements(t, "<table>"+row+"</tr></table>", "td", "data-balance")
	if len(cells) != 1 {
		t.Fatalf("row %s: %v", id, cells)
	}
	return cells[0]["data-balance"]
}

// The invoices, audit and models pages: their CSVs read back as the page.
func TestCSVOfFinanceAndAuditTables(t *testing.T) {
	e := newEnv(t, false)
	e.openAccount("acct_inv", "發票公司", domain.PlanStarter)
	e.invoice("acct_inv", "AB12345678", "2026-03")
	e.invoice("acct_inv", "AB12345679", "2026-03")

	fin := e.browser()
	fin.signIn(e.finance)
	_, page := fin.get("/console/invoices?month=2026-03")
	recs := getCSV(t, fin, csvLink(t, page, "invoices"))
	numbers := map[string]bool{}
	for _, r := range recs[1:] {
		numbers[r[0]] = true
	}
	if !numbers["AB12345678"] || !numbers["AB12345679"] {
		t.Fatalf("invoices CSV %q", recs)
	}
	last := recs[len(recs)-1] // the month's total row
	net := attrOf(t, page, "tr", "id", "month-total", "data-net")
	if !contains(last, net+".00") {
		t.Errorf("invoices CSV total row %q, page net %s", last, net)
	}
	months := getCSV(t, fin, csvLink(t, page, "month-totals"))
	if len(months) != 2 || months[1][0] != "2026-03" {
		t.Errorf("month totals CSV %q", months)
	}

	aud := e.browser()
	aud.signIn(e.auditor)
	_, page = aud.get("/console/audit?type=" + domain.TypeCreditsToppedUp)
	ev := getCSV(t, aud, csvLink(t, page, "events"))
	rows := elements(t, page, "tr", "data-type")
	if len(ev) != len(rows)+1 || len(rows) != 2 {
		t.Fatalf("audit CSV %d records, page %d rows", len(ev), len(rows))
	}
	for _, r := range ev[1:] {
		if !strings.Contains(r[3], domain.TypeCreditsToppedUp) { // the type, maybe with its name in words
			t.Errorf("audit CSV row %q", r)
		}
	}
	if resp, _ := aud.get("/console/quotes?format=csv&table=items"); resp.StatusCode == http.StatusOK {
		t.Errorf("auditor reaching the quote builder by CSV: %d", resp.StatusCode)
	}
	_, models := e.browser().get("/models")
	if m := getCSV(t, e.browser(), csvLink(t, models, "models")); len(m) != len(e.cat.IDs())+1 {
		t.Errorf("models CSV has %d records for %d models", len(m), len(e.cat.IDs()))
	}
}

// Every table with an id, on every page, has a CSV link that answers with
// that table: its header row is the table's header.
func TestEveryTableHasCSV(t *testing.T) {
	e := newEnv(t, false)
	e.openAccount("acct_all", "全表公司", domain.PlanStarter)
	keyID, secret := e.issueKey("acct_all")
	seedUsage(e, "acct_all", keyID)
	e.invoice("acct_all", "AB12345678", "2026-03")
	as := func(secret string) *browser { b := e.browser(); b.signIn(secret); return b }
	admin, finance, auditor, customer := as(e.admin), as(e.finance), as(e.auditor), as(secret)
	pages := []struct {
		b    *browser
		path string
	}{
		{admin, "/console/accounts"}, {admin, "/console/dashboard"}, {finance, "/console/accounts/acct_all"},
		{finance, "/console/invoices?month=2026-03"}, {auditor, "/console/audit?check=1"}, {customer, "/console/accounts/acct_all"},
		{e.browser(), "/models"}, {e.browser(), "/rankings"},
	}
	n := 0
	for _, p := range pages {
		_, page := p.b.get(p.path)
		links := map[string]string{}
		for _, a := range elements(t, page, "a", "data-csv-for") {
			links[a["data-csv-for"]] = a["href"]
		}
		for _, tb := range elements(t, page, "table", "id") {
			id := tb["id"]
			href, ok := links[id]
			if !ok {
				t.Errorf("%s: table %s has no CSV link", p.path, id)
				continue
			}
			recs := getCSV(t, p.b, href)
			if got, want := recs[0], headTexts(t, tableHTML(t, page, id)); strings.Join(got, "|") != strings.Join(want, "|") {
				t.Errorf("%s: table %s: CSV header %q, page %q", p.path, id, got, want)
			}
			for _, r := range recs[1:] {
				if len(r) != len(recs[0]) {
					t.Errorf("%s: table %s: CSV record %q under a header of %d columns", p.path, id, r, len(recs[0]))
				}
			}
			n++
		}
	}
	if n < 15 {
		t.Fatalf("only %d tables checked", n)
	}
}

// headTexts are the texts of a table's header cells, the empty ones left
// out, without the arrow of the sorted column.
func headTexts(t *testing.T, table string) []string {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(table))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	var text func(n *html.Node) string
	text = func(n *html.Node) string {
		if n.Type == html.TextNode {
			return n.Data
		}
		s := ""
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			s += text(c)
		}
		return s
	}
	var walk func(n *html.Node, inHead bool)
	walk = func(n *html.Node, inHead bool) {
		if n.Type == html.ElementNode && n.Data == "thead" {
			inHead = true
		}
		if inHead && n.Type == html.ElementNode && n.Data == "th" {
			s := strings.Join(strings.Fields(text(n)), " ")
			if s = strings.TrimSuffix(strings.TrimSuffix(s, " ▲"), " ▼"); s != "" {
				out = append(out, s)
			}
			return
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c, inHead)
		}
	}
	walk(doc, false)
	return out
}

// The invoices CSV: every value under its header, headers as plain column
// names (no sort arrow, no empty column for the buttons), an allowance's
// date under 開立日期 and its reason beside its status, and no "-0.00".
func TestInvoicesCSVColumns(t *testing.T) {
	e := newEnv(t, false)
	e.openBuyer("acct_col", "欄位公司", "04595257", domain.PlanStarter) // B2B: allowed before filing
	e.invoice("acct_col", "AB12345009", "2026-03")
	svc := e.deps.Invoices.(*invoicing.Service)
	small, err := svc.IssueAllowance(e.ctx, "AB12345009", 1, "尾數調整") // NT$1: no tax
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.VoidAllowance(e.ctx, small.Number, "開錯"); err != nil {
		t.Fatal(err)
	}
	big, err := svc.IssueAllowance(e.ctx, "AB12345009", 105, "客訴退款")
	if err != nil {
		t.Fatal(err)
	}
	e.sync()
	if small.Tax != 0 || big.Tax != 5 {
		t.Fatalf("allowance taxes %d and %d, want 0 and 5", small.Tax, big.Tax)
	}

	fin := e.browser()
	fin.signIn(e.finance)
	_, page := fin.get("/console/invoices?month=2026-03&sort=date")
	recs := getCSV(t, fin, csvLink(t, page, "invoices"))
	var want []string
	for _, k := range []string{"invoice.number", "invoice.date", "invoice.kind", "account", "buyer", "invoice.sales",
		"invoice.tax", "total", "invoice.allowances", "invoice.net", "status"} {
		want = append(want, tr(langZH, k))
	}
	if strings.Join(recs[0], "|") != strings.Join(want, "|") {
		t.Fatalf("invoices CSV header %q, want %q", recs[0], want)
	}
	col := map[string]int{}
	for i, h := range recs[0] {
		col[h] = i
	}
	rows := map[string][]string{}
	for _, r := range recs[1:] {
		if len(r) != len(want) {
			t.Fatalf("CSV record %q has %d values for %d columns", r, len(r), len(want))
		}
		for _, v := range r {
			if v == "-0.00" {
				t.Errorf("CSV record %q shows a negative zero", r)
			}
		}
		rows[r[0]] = r
	}
	date := func(a invoicing.Allowance) string {
		return a.IssuedAt.In(projections.Taipei).Format("2006-01-02 15:04")
	}
	for _, a := range []struct {
		al                invoicing.Allowance
		tax, total, state string
	}{
		{small, "0.00", "-1.00", tr(langZH, "invoice.voided")},
		{big, "-5.00", "-105.00", tr(langZH, "invoice.issued")},
	} {
		var r []string
		for k, v := range rows {
			if strings.Contains(k, a.al.Number) {
				r = v
			}
		}
		switch {
		case r == nil:
			t.Fatalf("no CSV record for allowance %s in %q", a.al.Number, recs)
		case r[col[tr(langZH, "invoice.date")]] != date(a.al):
			t.Errorf("allowance %s: %s is %q, want %q", a.al.Number, tr(langZH, "invoice.date"), r[col[tr(langZH, "invoice.date")]], date(a.al))
		case r[col[tr(langZH, "invoice.kind")]] != "" || r[col[tr(langZH, "account")]] != "" || r[col[tr(langZH, "buyer")]] != "":
			t.Errorf("allowance %s: kind, account and buyer read %q", a.al.Number, r[2:5])
		case r[col[tr(langZH, "invoice.tax")]] != a.tax || r[col[tr(langZH, "total")]] != a.total:
			t.Errorf("allowance %s: tax %q and total %q, want %s and %s", a.al.Number, r[col[tr(langZH, "invoice.tax")]], r[col[tr(langZH, "total")]], a.tax, a.total)
		case r[col[tr(langZH, "status")]] != a.state+" "+a.al.Reason:
			t.Errorf("allowance %s: status %q, want its state and reason", a.al.Number, r[col[tr(langZH, "status")]])
		}
	}
	inv := rows["AB12345009"]
	if inv == nil || inv[col[tr(langZH, "invoice.kind")]] != "B2B" || inv[col[tr(langZH, "invoice.net")]] != "895.00" {
		t.Errorf("invoice record %q", inv)
	}
}

// A table read as CSV: the sorted column's arrow left out of its name, a
// name spanning two columns naming both, the unnamed column of buttons
// and links left out, a spanning body cell followed by empty ones, and a
// deduction of nothing written as zero.
func TestTableRecords(t *testing.T) {
	page := `<p>before</p><table id="y"><tr><td>other</td></tr></table><table id="x">
<thead><tr><th><a href="?sort=n">No.` + sortMarkDesc + `</a></th><th colspan="2">Amount</th><th></th></tr></thead>
<tbody><tr><td>1</td><td>-NT$0.00</td><td>-NT$1,050.00</td><td><a href="/pdf">PDF</a><form><button>Void</button></form></td></tr>
<tr><td colspan="2">two<br>lines</td><td>=1+1</td><td><a href="/pdf">PDF</a></td></tr>
<tr><td colspan="4">(none)</td></tr></tbody></table><p>after</p>`
	var b strings.Builder
	if err := tableCSV(strings.NewReader(page), "x", func() io.Writer { return &b }); err != nil {
		t.Fatal(err)
	}
	want := utf8BOM + "No.,Amount,Amount\r\n1,0.00,-1050.00\r\ntwo lines,,'=1+1\r\n"
	if b.String() != want {
		t.Fatalf("csv %q, want %q", b.String(), want)
	}
	// A table without column names keeps the columns that hold something.
	b.Reset()
	if err := tableCSV(strings.NewReader(`<table id="f"><tr><td>a</td><td></td><td>NT$5.00</td></tr><tr><td>b</td><td></td><td></td></tr></table>`),
		"f", func() io.Writer { return &b }); err != nil {
		t.Fatal(err)
	}
	if want := utf8BOM + "a,5.00\r\nb,\r\n"; b.String() != want {
		t.Fatalf("csv %q, want %q", b.String(), want)
	}
	// A name the page isolates is written as given: without the marks
	// around it (a formula it starts is then defused), with those it holds.
	b.Reset()
	names := "<table id=\"k\"><tr><td>\u2068=cmd\u2069 (sk-1)</td></tr><tr><td>\u2068a\u2067b\u2069c\u2069 (sk-2)</td></tr>" +
		"<tr><td>\u2068open (sk-3)</td></tr><tr><td>x\u2068y\u2069</td></tr></table>"
	if err := tableCSV(strings.NewReader(names), "k", func() io.Writer { return &b }); err != nil {
		t.Fatal(err)
	}
	if want := utf8BOM + "'=cmd (sk-1)\r\na\u2067b\u2069c (sk-2)\r\n\u2068open (sk-3)\r\nx\u2068y\u2069\r\n"; b.String() != want {
		t.Fatalf("csv %q, want %q", b.String(), want)
	}
	if err := tableCSV(strings.NewReader(page), "z", func() io.Writer { return &b }); !errors.Is(err, errNoTable) {
		t.Fatalf("a page without the table: %v", err)
	}
}
