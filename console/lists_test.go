package console

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"

	"github.com/routefree/routefree/commands"
	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/eventstore"
)

// manyAdjustments appends n credit adjustments to acct, a minute apart,
// their reasons numbered adjust-00001… in the order they happened.
func (e *env) manyAdjustments(acct string, n int) {
	e.t.Helper()
	start := testNow.Add(-time.Duration(n) * time.Minute)
	var batch []eventstore.EventData
	flush := func() {
		if len(batch) == 0 {
			return
		}
		if _, err := e.cap.Append(e.ctx, domain.TopUpStream(acct), eventstore.Any(), batch...); err != nil {
			e.t.Fatal(err)
		}
		batch = batch[:0]
	}
	for i := 1; i <= n; i++ {
		at := start.Add(time.Duration(i) * time.Minute)
		d, err := commands.Event(uuid.New(), at, &domain.CreditsAdjusted{AccountID: acct, Amount: decimal.NewFromInt(1),
			Reason: fmt.Sprintf("adjust-%05d", i)})
		if err != nil {
			e.t.Fatal(err)
		}
		batch = append(batch, d)
		if len(batch) == 500 {
			flush()
		}
	}
	flush()
	e.sync()
}

// allEvents reads the whole history, oldest first.
func (e *env) allEvents() []eventstore.RecordedEvent {
	e.t.Helper()
	var out []eventstore.RecordedEvent
	pos := eventstore.Start
	for {
		evs, err := e.store.ReadAll(e.ctx, pos, 5000)
		if err != nil {
			e.t.Fatal(err)
		}
		if len(evs) == 0 {
			return out
		}
		out = append(out, evs...)
		pos = evs[len(evs)-1].Position
	}
}

// pagerOf is the first pager of a page: its page, pages and total.
func pagerOf(t *testing.T, page, list string) (p, pages, total int) {
	t.Helper()
	for _, n := range elements(t, page, "nav", "data-list") {
		if n["data-list"] != list {
			continue
		}
		p, _ = strconv.Atoi(n["data-page"])
		pages, _ = strconv.Atoi(n["data-pages"])
		total, _ = strconv.Atoi(n["data-total"])
		return
	}
	t.Fatalf("no pager for list %q", list)
	return
}

// The audit log of a store of 10,000 events: newest first, 50 a page, the
// last page the oldest; a search narrows it, and the page links keep it.
func TestAuditLogPagesTenThousandEvents(t *testing.T) {
	e := newEnv(t, false)
	e.openAccount("acct_log", "事件很多股份有限公司", domain.PlanStarter)
	e.manyAdjustments("acct_log", 10_000)
	all := e.allEvents()
	if len(all) < 10_000 {
		t.Fatalf("store holds %d events", len(all))
	}
	b := e.browser()
	b.signIn(e.auditor)

	began := time.Now()
	resp, first := b.get("/console/audit")
	t.Logf("first page of %d events in %s", len(all), time.Since(began)) // logged, not asserted
	if resp.StatusCode != 200 {
		t.Fatalf("audit page: %d", resp.StatusCode)
	}
	rows := elements(t, first, "tr", "data-position")
	if len(rows) != defaultPageSize {
		t.Fatalf("first page shows %d events, want %d", len(rows), defaultPageSize)
	}
	for i, r := range rows {
		want := all[len(all)-1-i].Position.String()
		if r["data-position"] != want {
			t.Fatalf("first page row %d is %s, want %s (newest first)", i, r["data-position"], want)
		}
	}
	p, pages, total := pagerOf(t, first, "")
	if p != 1 || total != len(all) || pages != (len(all)+defaultPageSize-1)/defaultPageSize {
		t.Fatalf("pager: page %d of %d, %d events; the store holds %d", p, pages, total, len(all))
	}
	if !strings.Contains(visibleText(t, first), fmt.Sprintf("1–%d / %d", defaultPageSize, len(all))) {
		t.Error("the page does not show the count of events")
	}

	// The last page, through the pager's own link, holds the oldest events.
	var lastURL string
	for _, a := range elements(t, first, "a", "data-page") {
		if a["data-page"] == strconv.Itoa(pages) {
			lastURL = a["href"]
		}
	}
	if lastURL == "" {
		t.Fatal("no link to the last page")
	}
	_, last := b.get("/console/audit" + strings.TrimSuffix(lastURL, "#events"))
	rows = elements(t, last, "tr", "data-position")
	if want := len(all) - (pages-1)*defaultPageSize; len(rows) != want {
		t.Fatalf("last page shows %d events, want %d", len(rows), want)
	}
	if got, want := rows[len(rows)-1]["data-position"], all[0].Position.String(); got != want {
		t.Fatalf("last page ends with %s, want the oldest event %s", got, want)
	}
	if got, want := rows[0]["data-position"], all[len(rows)-1].Position.String(); got != want {
		t.Fatalf("last page starts with %s, want %s", got, want)
	}

	// Oldest first on request.
	_, asc := b.get("/console/audit?dir=asc")
	if got := elements(t, asc, "tr", "data-position")[0]["data-position"]; got != all[0].Position.String() {
		t.Fatalf("oldest first starts with %s, want %s", got, all[0].Position)
	}

	// A search narrows the log: ten reasons start adjust-0123.
	_, found := b.get("/console/audit?q=" + url.QueryEscape("ADJUST-0123"))
	rows = elements(t, found, "tr", "data-position")
	if _, _, total := pagerOf(t, found, ""); total != 10 || len(rows) != 10 {
		t.Fatalf("search found %d events (%d shown), want 10", total, len(rows))
	}
	if !strings.Contains(found, "adjust-01239") || strings.Contains(found, "adjust-01240") {
		t.Error("the search shows the wrong events")
	}
	// Search with a type filter and paging: every link keeps both.
	_, typed := b.get("/console/audit?type=" + domain.TypeCreditsAdjusted + "&q=adjust-0&page=3")
	if p, _, total := pagerOf(t, typed, ""); p != 3 || total != 9999 {
		t.Fatalf("filtered search: page %d, %d events, want page 3 of 9999", p, total)
	}
	for _, a := range elements(t, typed, "a", "data-page") {
		u, err := url.Parse(a["href"])
		if err != nil {
			t.Fatal(err)
		}
		if q := u.Query(); q.Get("q") != "adjust-0" || q.Get("type") != domain.TypeCreditsAdjusted {
			t.Fatalf("page link %q drops the search or the filter", a["href"])
		}
	}
}
