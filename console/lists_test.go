package console

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"
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

// rowsOf is the value of attr of every row of the table with id.
func rowsOf(t *testing.T, page, table, attr string) []string {
	t.Helper()
	i := strings.Index(page, `<table id="`+table+`"`)
	if i < 0 {
		t.Fatalf("no table %s", table)
	}
	part := page[i:]
	part = part[:strings.Index(part, "</table>")+len("</table>")]
	var out []string
	for _, r := range elements(t, part, "tr", attr) {
		out = append(out, r[attr])
	}
	return out
}

// The accounts list: search, filters, sort both ways and pages, each link
// keeping the rest of the query.
func TestAccountsListSearchFilterSortPage(t *testing.T) {
	e := newEnv(t, false)
	for i := 1; i <= 120; i++ {
		plan := domain.PlanStarter
		if i%3 == 0 {
			plan = domain.PlanBusiness
		}
		e.openAccount(fmt.Sprintf("acct_%03d", i), fmt.Sprintf("公司%03d", i), plan)
		if i%2 == 0 {
			if _, err := e.cmds.TopUp(e.ctx, domain.CreditsToppedUp{AccountID: fmt.Sprintf("acct_%03d", i), Amount: decimal.NewFromInt(int64(i * 100)),
				Method: domain.MethodBankTransfer, Reference: fmt.Sprintf("T%d", i)}); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := e.cmds.SuspendAccount(e.ctx, "acct_007", "unpaid"); err != nil {
		t.Fatal(err)
	}
	e.sync()
	b := e.browser()
	b.signIn(e.finance)

	_, page := b.get("/console/accounts")
	if ids := rowsOf(t, page, "accounts", "data-account"); len(ids) != defaultPageSize || ids[0] != "acct_001" {
		t.Fatalf("first page: %d rows from %v", len(ids), ids[:1])
	}
	if p, pages, total := pagerOf(t, page, ""); p != 1 || pages != 3 || total != 120 {
		t.Fatalf("pager %d/%d of %d", p, pages, total)
	}
	_, page = b.get("/console/accounts?page=3")
	if ids := rowsOf(t, page, "accounts", "data-account"); len(ids) != 20 || ids[19] != "acct_120" {
		t.Fatalf("last page: %d rows", len(ids))
	}
	// Balance, highest first: acct_120 has the largest top-up.
	_, page = b.get("/console/accounts?sort=balance&dir=desc")
	if ids := rowsOf(t, page, "accounts", "data-account"); ids[0] != "acct_120" || ids[1] != "acct_118" {
		t.Fatalf("by balance, descending: %v", ids[:3])
	}
	// The header link of the sorted column turns the order round.
	href := ""
	for _, a := range elements(t, page, "a", "href") {
		if strings.Contains(a["href"], "sort=balance") && !strings.Contains(a["href"], "page=") { // not the pager's
			href = a["href"]
		}
	}
	if u, _ := url.Parse(href); u == nil || u.Query().Get("dir") != "asc" {
		t.Fatalf("the balance header links to %q", href)
	}
	// Search and filters together, paging kept.
	_, page = b.get("/console/accounts?q=" + url.QueryEscape("公司0") + "&plan=business")
	ids := rowsOf(t, page, "accounts", "data-account")
	if len(ids) != 33 { // 公司003 … 公司099 whose number divides by 3
		t.Fatalf("search and plan filter found %d", len(ids))
	}
	for _, id := range ids {
		n, _ := strconv.Atoi(strings.TrimPrefix(id, "acct_"))
		if n%3 != 0 || n >= 100 {
			t.Fatalf("filter let %s through", id)
		}
	}
	// Its CSV holds every row found, not the page shown.
	if recs := getCSV(t, b, csvLink(t, page, "accounts")); len(recs) != 1+33 {
		t.Fatalf("the CSV of the search holds %d lines, want a header and 33 rows", len(recs))
	}
	_, first := b.get("/console/accounts?page=2")
	if recs := getCSV(t, b, csvLink(t, first, "accounts")); len(recs) != 1+120 {
		t.Fatalf("the CSV of a paged list holds %d lines, want a header and 120 rows", len(recs))
	}
	_, page = b.get("/console/accounts?status=suspended")
	if ids := rowsOf(t, page, "accounts", "data-account"); len(ids) != 1 || ids[0] != "acct_007" {
		t.Fatalf("suspended: %v", ids)
	}
	// The search form keeps the sort, and its fields start from the query.
	_, page = b.get("/console/accounts?sort=org&dir=desc&q=x")
	if got := attrOf(t, page, "input", "name", "sort", "value"); got != "org" {
		t.Fatalf("the search form drops the sort: %q", got)
	}
	if got := attrOf(t, page, "input", "type", "search", "value"); got != "x" {
		t.Fatalf("the search box shows %q", got)
	}
}

// A page with several lists pages each on its own: paging the keys keeps
// the top-ups' search, and the other way round.
func TestAccountPageListsAreIndependent(t *testing.T) {
	e := newEnv(t, false)
	e.openAccount("acct_multi", "多清單公司", domain.PlanStarter)
	for i := 0; i < 60; i++ {
		if _, _, err := e.cmds.IssueKey(e.ctx, domain.KeyIssued{AccountID: "acct_multi", Name: fmt.Sprintf("key-%02d", i)}); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < 5; i++ {
		if _, err := e.cmds.TopUp(e.ctx, domain.CreditsToppedUp{AccountID: "acct_multi", Amount: decimal.NewFromInt(100),
			Method: domain.MethodBankTransfer, Reference: fmt.Sprintf("REF-%d", i)}); err != nil {
			t.Fatal(err)
		}
	}
	e.sync()
	b := e.browser()
	b.signIn(e.finance)
	_, page := b.get("/console/accounts/acct_multi?topups_q=REF-3&keys_page=2&keys_sort=name&keys_dir=desc")
	if refs := rowsOf(t, page, "topups", "data-reference"); len(refs) != 1 || refs[0] != "REF-3" {
		t.Fatalf("top-ups searched: %v", refs)
	}
	keys := rowsOf(t, page, "keys", "data-key")
	if len(keys) != 10 {
		t.Fatalf("second page of 60 keys shows %d", len(keys))
	}
	if p, _, total := pagerOf(t, page, "keys"); p != 2 || total != 60 {
		t.Fatalf("keys pager: page %d of %d keys", p, total)
	}
	for _, a := range elements(t, page, "a", "data-page") {
		u, _ := url.Parse(a["href"])
		if q := u.Query(); q.Get("topups_q") != "REF-3" {
			t.Fatalf("a page link drops the other list's search: %q", a["href"])
		}
	}
}

// A history longer than the search bound: the newest events are still the
// first page, unfiltered pages are exact however long the history, a search
// covers the newest events up to the bound (oldest first, the oldest) and
// says so, and events appended later show at once.
func TestAuditLogBeyondItsSearchBound(t *testing.T) {
	defer func(scan, stride int) { auditLogScan, logStride = scan, stride }(auditLogScan, logStride)
	auditLogScan, logStride = 300, 64
	e := newEnv(t, false)
	e.openAccount("acct_log", "事件很多股份有限公司", domain.PlanStarter)
	e.manyAdjustments("acct_log", 1000)
	all := e.allEvents()
	b := e.browser()
	b.signIn(e.auditor)
	shown := func(path string) ([]string, string) {
		t.Helper()
		resp, page := b.get(path)
		if resp.StatusCode != 200 {
			t.Fatalf("%s: %d", path, resp.StatusCode)
		}
		var ps []string
		for _, r := range elements(t, page, "tr", "data-position") {
			ps = append(ps, r["data-position"])
		}
		return ps, page
	}
	positions := func(evs []eventstore.RecordedEvent, newestFirst bool) []string {
		ps := make([]string, len(evs))
		for i := range evs {
			ps[i] = evs[i].Position.String()
		}
		if newestFirst {
			slices.Reverse(ps)
		}
		return ps
	}

	// Unfiltered: every page exact, in either order, and nothing truncated.
	rows, first := shown("/console/audit")
	if want := positions(all[len(all)-defaultPageSize:], true); !slices.Equal(rows, want) {
		t.Fatalf("first page %v, want the newest events %v", rows, want)
	}
	_, pages, total := pagerOf(t, first, "")
	if total != len(all) || strings.Contains(first, `id="log-truncated"`) {
		t.Fatalf("unfiltered log counts %d events of %d (or says it is truncated)", total, len(all))
	}
	for _, p := range []int{2, 7, 13, pages} {
		from, to := (p-1)*defaultPageSize, min(p*defaultPageSize, len(all))
		if rows, _ := shown(fmt.Sprintf("/console/audit?dir=asc&page=%d", p)); !slices.Equal(rows, positions(all[from:to], false)) {
			t.Errorf("oldest first, page %d: %v", p, rows)
		}
		if rows, _ := shown(fmt.Sprintf("/console/audit?page=%d", p)); !slices.Equal(rows, positions(all[len(all)-to:len(all)-from], true)) {
			t.Errorf("newest first, page %d: %v", p, rows)
		}
	}

	// A search: the newest matches, and the hint that older ones were left.
	var adjustments []eventstore.RecordedEvent
	for _, ev := range all {
		if ev.Type == domain.TypeCreditsAdjusted {
			adjustments = append(adjustments, ev)
		}
	}
	rows, found := shown("/console/audit?q=ADJUST-")
	if want := positions(adjustments[len(adjustments)-defaultPageSize:], true); !slices.Equal(rows, want) {
		t.Fatalf("search, newest first: %v, want %v", rows, want)
	}
	if _, _, total := pagerOf(t, found, ""); total < auditLogScan || total >= auditLogScan+logStride || !strings.Contains(found, `id="log-truncated"`) {
		t.Fatalf("search counted %d matches of %d (bound %d), or no hint", total, len(adjustments), auditLogScan)
	}
	rows, _ = shown("/console/audit?q=ADJUST-&dir=asc&lang=en")
	if want := positions(adjustments[:defaultPageSize], false); !slices.Equal(rows, want) {
		t.Fatalf("search, oldest first: %v, want %v", rows, want)
	}
	if _, page := shown("/console/audit?q=ADJUST-&dir=asc&lang=en"); !strings.Contains(visibleText(t, page), "covered only the oldest two million") {
		t.Error("oldest first, the hint does not say the oldest events were searched")
	}

	// Appended after the index was built: shown on the next page view.
	e.manyAdjustments("acct_log", 3)
	all = e.allEvents()
	if rows, _ := shown("/console/audit"); rows[0] != all[len(all)-1].Position.String() {
		t.Fatalf("after new events the first row is %s, want %s", rows[0], all[len(all)-1].Position)
	}

	// The newest-first window moves on as events come: the search seen
	// before drops the matches it left and counts the new ones.
	e.manyAdjustments("acct_log", 200)
	all = e.allEvents()
	mark := (len(all) - auditLogScan) / logStride * logStride // the window starts at this mark
	var inWindow []eventstore.RecordedEvent
	for _, ev := range all[mark:] {
		if ev.Type == domain.TypeCreditsAdjusted {
			inWindow = append(inWindow, ev)
		}
	}
	rows, found = shown("/console/audit?q=ADJUST-")
	if _, _, total := pagerOf(t, found, ""); total != len(inWindow) {
		t.Fatalf("after 200 more events the search counts %d matches, want the window's %d", total, len(inWindow))
	}
	if want := positions(inWindow[len(inWindow)-defaultPageSize:], true); !slices.Equal(rows, want) {
		t.Fatalf("after 200 more events, newest first: %v, want %v", rows, want)
	}
}

// readCounter counts the events the console reads from the store.
type readCounter struct {
	eventstore.Store
	n atomic.Int64
}

func (r *readCounter) ReadAll(ctx context.Context, from eventstore.Position, max int) ([]eventstore.RecordedEvent, error) {
	evs, err := r.Store.ReadAll(ctx, from, max)
	r.n.Add(int64(len(evs)))
	return evs, err
}

// A searched view of a long log reads the whole window once; its other
// pages, and the same search after new events, read only their pages and
// the new events, and still show every match, old and new, in order.
func TestAuditLogSearchReadsEachEventOnce(t *testing.T) {
	var rc *readCounter
	e := buildWithDeps(t, false, true, func(_ *echo.Echo, d *Deps) {
		rc = &readCounter{Store: d.Store}
		d.Store = rc
	})
	e.openAccount("acct_scan", "事件很多股份有限公司", domain.PlanStarter)
	e.manyAdjustments("acct_scan", 6000)
	b := e.browser()
	b.signIn(e.auditor)
	view := func(path string) (rows []string, total int, read int64) {
		t.Helper()
		before := rc.n.Load()
		resp, page := b.get(path)
		if resp.StatusCode != 200 {
			t.Fatalf("%s: %d", path, resp.StatusCode)
		}
		for _, r := range elements(t, page, "tr", "data-position") {
			rows = append(rows, r["data-position"])
		}
		_, _, total = pagerOf(t, page, "")
		return rows, total, rc.n.Load() - before
	}
	matches := func() []string { // positions of the events holding 7", newest first
		var ps []string
		for _, ev := range e.allEvents() {
			if strings.Contains(strings.ToLower(ev.Stream+" "+ev.Type+" "+string(ev.Data)), `7"`) {
				ps = append(ps, ev.Position.String())
			}
		}
		slices.Reverse(ps)
		return ps
	}
	const q = "/console/audit?q=7%22"
	want := matches()
	if _, _, read := view("/console/audit"); read < 6000 {
		t.Fatalf("the first view indexed %d events", read) // the log index, built once
	}
	rows, total, read := view(q)
	if total != len(want) || !slices.Equal(rows, want[:defaultPageSize]) {
		t.Fatalf("search: %d matches, first page %v; want %d, %v", total, rows, len(want), want[:defaultPageSize])
	}
	if read < 6000 {
		t.Fatalf("the first search read %d events, fewer than the history", read)
	}
	rows, _, read = view(q + "&page=3")
	if !slices.Equal(rows, want[2*defaultPageSize:3*defaultPageSize]) {
		t.Fatalf("page 3: %v", rows)
	}
	if read > 2000 {
		t.Errorf("page 3 of a search seen before read %d events", read)
	}

	e.manyAdjustments("acct_scan", 40)
	want = matches()
	rows, total, read = view(q)
	if total != len(want) || !slices.Equal(rows, want[:defaultPageSize]) {
		t.Fatalf("after 40 new events: %d matches, first page %v; want %d, %v", total, rows, len(want), want[:defaultPageSize])
	}
	if read > 2000+2*40 {
		t.Errorf("the search after 40 new events read %d events", read)
	}
	// Another search is a scan of its own.
	if _, _, read := view("/console/audit?q=adjust-00001"); read < 6000 {
		t.Errorf("a new search read %d events", read)
	}
}

// backwardCounter is a readCounter whose store also reads from the end of
// the history (eventstore.BackwardReader), as SQLite and PostgreSQL do.
type backwardCounter struct {
	readCounter
}

func (r *backwardCounter) ReadAllBackward(ctx context.Context, before eventstore.Position, max int) ([]eventstore.RecordedEvent, error) {
	evs, err := r.Store.(eventstore.BackwardReader).ReadAllBackward(ctx, before, max)
	r.n.Add(int64(len(evs)))
	return evs, err
}

func (r *backwardCounter) CountThrough(ctx context.Context, through eventstore.Position) (int, error) {
	return r.Store.(eventstore.BackwardReader).CountThrough(ctx, through)
}

// The first view of the event log, its newest events, reads its page and
// no more, however long the history (the index that numbers other pages is
// built when one is asked for); the page and the count are exact.
func TestAuditLogFirstViewReadsItsPage(t *testing.T) {
	var rc *backwardCounter
	e := buildWithDeps(t, false, true, func(_ *echo.Echo, d *Deps) {
		rc = &backwardCounter{readCounter{Store: d.Store}}
		d.Store = rc
	})
	e.openAccount("acct_first", "事件很多股份有限公司", domain.PlanStarter)
	e.manyAdjustments("acct_first", 6000)
	all := e.allEvents()
	b := e.browser()
	b.signIn(e.auditor)
	view := func(path string) (rows []string, total int, read int64) {
		t.Helper()
		before := rc.n.Load()
		resp, page := b.get(path)
		if resp.StatusCode != 200 {
			t.Fatalf("%s: %d", path, resp.StatusCode)
		}
		for _, r := range elements(t, page, "tr", "data-position") {
			rows = append(rows, r["data-position"])
		}
		_, _, total = pagerOf(t, page, "")
		return rows, total, rc.n.Load() - before
	}
	newest := func(from, to int) []string { // all[len-to:len-from], newest first
		var ps []string
		for i := len(all) - 1 - from; i >= len(all)-to; i-- {
			ps = append(ps, all[i].Position.String())
		}
		return ps
	}
	rows, total, read := view("/console/audit")
	if read > defaultPageSize {
		t.Fatalf("the first view of %d events read %d of them; want its page, %d", len(all), read, defaultPageSize)
	}
	if total != len(all) || !slices.Equal(rows, newest(0, defaultPageSize)) {
		t.Fatalf("first view: %d events, rows %v; want %d, %v", total, rows, len(all), newest(0, defaultPageSize))
	}
	// Another page numbers the history once; it is then exact too.
	rows, total, _ = view("/console/audit?page=2")
	if total != len(all) || !slices.Equal(rows, newest(defaultPageSize, 2*defaultPageSize)) {
		t.Fatalf("page 2: %d events, rows %v", total, rows)
	}
	// An event appended since shows first, counted.
	e.manyAdjustments("acct_first", 1)
	all = e.allEvents()
	if rows, total, read := view("/console/audit"); total != len(all) || rows[0] != all[len(all)-1].Position.String() || read > defaultPageSize {
		t.Fatalf("after one more event: %d events, first row %s, %d read; want %d, %s", total, rows[0], read, len(all), all[len(all)-1].Position)
	}
}
