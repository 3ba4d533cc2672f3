package console

import (
	"net/http"
	"sort"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/shopspring/decimal"

	"github.com/routefree/routefree/invoicing"
	"github.com/routefree/routefree/invoicing/twrules"
	"github.com/routefree/routefree/projections"
)

// dashboardMonths is how many Taipei months the monthly charts cover.
const dashboardMonths = 12

// OwedRow is an account whose balance is below zero: what it owes and the
// credit it was allowed.
type OwedRow struct {
	AccountID, Organisation string
	Owed, CreditLimit       decimal.Decimal
}

// lastMonths lists the n Taipei months (YYYY-MM) ending with now's, oldest
// first.
func lastMonths(now time.Time, n int) []string {
	l := now.In(projections.Taipei)
	first := time.Date(l.Year(), l.Month(), 1, 12, 0, 0, 0, projections.Taipei)
	out := make([]string, n)
	for i := range out {
		out[i] = first.AddDate(0, i-n+1, 0).Format("2006-01")
	}
	return out
}

// dashboardPage is the staff's view of the business: revenue (used and
// invoiced) and top-ups by month, usage by day, the balances owed and the
// invoice documents still to upload to the MOF platform.
func (s *server) dashboardPage(c echo.Context) error {
	ctx := c.Request().Context()
	lang := language(c.Response(), c.Request())
	now := s.deps.now()
	months := lastMonths(now, dashboardMonths)
	thisMonth := months[len(months)-1]

	// Revenue: usage priced (the SQL usage model) and invoices net of voids
	// and allowances (whole NTD), per Taipei month.
	used := map[string]decimal.Decimal{}
	if s.deps.Models.Usage != nil {
		rows, err := s.deps.Models.Usage.All(ctx)
		if err != nil {
			return err
		}
		for _, r := range rows {
			used[r.Period] = used[r.Period].Add(r.Cost)
		}
	}
	invoiced := map[string]int64{} // net, in the month each invoice counts in
	for _, r := range s.countedInvoices("") {
		invoiced[r.Month] += r.Net()
	}
	revenue := Chart{ID: "chart-revenue", Title: tr(lang, "dash.revenue"), Kind: "bar", XTitle: tr(lang, "month"),
		YTitle: tr(lang, "chart.ntd"), KeyLabel: tr(lang, "month"), NoData: tr(lang, "chart.nodata"), TotalRow: tr(lang, "total"),
		Labels: months, Series: []Series{{Name: tr(lang, "dash.used")}, {Name: tr(lang, "dash.invoiced")}}}
	for _, m := range months {
		revenue.Series[0].Values = append(revenue.Series[0].Values, used[m])
		revenue.Series[1].Values = append(revenue.Series[1].Values, decimal.NewFromInt(invoiced[m]))
	}

	// Usage by day over the range asked (30 days by default).
	from, to, days, err := s.usageRange(c.QueryParam("from"), c.QueryParam("to"))
	if err != nil {
		return err
	}
	daily := usageChart(lang, "chart-usage", tr(lang, "dash.usage"), "bar", tr(lang, "day"), s.deps.Views.DailyUsage(days))

	// Top-ups by month.
	ups := s.deps.Views.TopUpsByMonth(months)
	topUps := Chart{ID: "chart-topups", Title: tr(lang, "dash.topups"), Kind: "bar", XTitle: tr(lang, "month"),
		YTitle: tr(lang, "chart.ntd"), KeyLabel: tr(lang, "month"), NoData: tr(lang, "chart.nodata"), TotalRow: tr(lang, "total"),
		Labels: months, Series: []Series{{Name: tr(lang, "dash.amount")}}, Counts: []Counts{{Name: tr(lang, "dash.topupcount"), Attr: "data-count"}}}
	for _, u := range ups {
		topUps.Series[0].Values = append(topUps.Series[0].Values, u.Amount)
		topUps.Counts[0].Values = append(topUps.Counts[0].Values, u.Count)
	}

	// Balances owed, largest first: the directory keeps the accounts that
	// owe, so the dashboard goes through them alone.
	var owed []OwedRow
	totalOwed := decimal.Zero
	for _, a := range s.deps.Views.accounts.Owing(now) {
		o := a.Balance.Decimal().Neg()
		owed = append(owed, OwedRow{AccountID: a.ID, Organisation: a.Organisation, Owed: o, CreditLimit: a.CreditLimit.Decimal()})
		totalOwed = totalOwed.Add(o)
	}
	sort.Slice(owed, func(i, j int) bool {
		if c := owed[i].Owed.Cmp(owed[j].Owed); c != 0 {
			return c > 0
		}
		return owed[i].AccountID < owed[j].AccountID
	})
	owedChart := Chart{ID: "chart-owed", Title: tr(lang, "dash.owed"), Kind: "hbar", XTitle: tr(lang, "account"),
		YTitle: tr(lang, "chart.ntd"), KeyLabel: tr(lang, "account"), NoData: tr(lang, "chart.nodata"), TotalRow: tr(lang, "total"),
		Series: []Series{{Name: tr(lang, "dash.owedamount")}, {Name: tr(lang, "creditlimit")}}}
	for _, o := range owed {
		owedChart.Labels = append(owedChart.Labels, o.Organisation+" ("+o.AccountID+")")
		owedChart.Series[0].Values = append(owedChart.Series[0].Values, o.Owed)
		owedChart.Series[1].Values = append(owedChart.Series[1].Values, o.CreditLimit)
	}

	// Invoice documents not uploaded yet, or rejected: the Turnkey outbox.
	var pending []FilingRow
	var docs []invoicing.Document
	f, finErr := s.finance()
	if finErr == nil {
		if err := f.Sync(ctx); err != nil {
			return err
		}
		docs = f.Documents()
		for _, d := range docs {
			if d.Status == invoicing.FilingUploaded {
				continue
			}
			pending = append(pending, FilingRow{Document: d, Due: d.Due(now), Late: !now.Before(d.Deadline)})
		}
		sort.SliceStable(pending, func(i, j int) bool { return pending[i].Deadline.Before(pending[j].Deadline) })
	}
	blank := blankDue(f, docs, finErr, now)
	pendingMore := 0
	if len(pending) > maxFilingRows {
		pendingMore = len(pending) - maxFilingRows
	}
	pendingCount := len(pending)
	pending = pending[:min(len(pending), maxFilingRows)]

	data := map[string]any{
		"Month": thisMonth, "From": from, "To": to,
		"UsedMonth": used[thisMonth], "InvoicedMonth": decimal.NewFromInt(invoiced[thisMonth]),
		"TopUpsMonth": ups[len(ups)-1].Amount, "TotalOwed": totalOwed, "OwedCount": len(owed),
		"Pending": pending, "PendingCount": pendingCount, "PendingMore": pendingMore, "Invoicing": finErr == nil, "Blank": blank,
		"Revenue": revenue, "Daily": daily, "TopUps": topUps, "Owed": owedChart,
	}
	return s.render(c, http.StatusOK, "dashboard", s.newPage(c, "title.dashboard", data))
}

// blanksSent reports whether Turnkey has sent every E0402 the outbox
// wrote for a period (none listed yet: not sent).
func blanksSent(docs []invoicing.Document, period string) bool {
	listed := false
	for _, d := range docs {
		if d.Message == invoicing.MessageE0402 && d.Period == period {
			if d.Status != invoicing.FilingUploaded {
				return false
			}
			listed = true
		}
	}
	return listed
}

// BlankDue is the E0402 of the period that ended last, while it is due.
type BlankDue struct {
	Period  string
	Numbers int64
	LastDay string // Taipei date, YYYY-MM-DD
}

// blankDue is the period that ended last when, in the ten days after, some
// of its numbers were never used: they are reported as blank (E0402) by
// then, which nothing else reminds finance of.
func blankDue(f Finance, docs []invoicing.Document, finErr error, now time.Time) *BlankDue {
	if finErr != nil {
		return nil
	}
	cur := twrules.PeriodOf(now)
	last := twrules.PeriodOf(cur.Start().AddDate(0, -1, 0))
	due := twrules.BlankDeadline(last)
	if !now.Before(due) {
		return nil
	}
	st := f.RangeStatus(last.String())
	n := st.Left + st.Passed
	if n <= 0 || blanksSent(docs, last.String()) {
		return nil
	}
	return &BlankDue{Period: last.String(), Numbers: n, LastDay: due.Add(-time.Second).In(twrules.Taipei).Format("2006-01-02")}
}
