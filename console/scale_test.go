package console

import (
	"encoding/json"
	"fmt"
	"net/url"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/routefree/routefree/domain"
)

// auditPage is one answer of GET /admin/api/audit/events.
type auditPage struct {
	Data []struct {
		ID     string `json:"id"`
		Stream string `json:"stream"`
	} `json:"data"`
	Next string `json:"next"`
}

// readAuditLog follows the API's next cursor from the start and returns
// every event ID it was given, in order.
func readAuditLog(e *env, query url.Values) []string {
	e.t.Helper()
	var ids []string
	after := ""
	for pages := 0; pages < 100; pages++ {
		q := url.Values{}
		for k, v := range query {
			q[k] = v
		}
		if after != "" {
			q.Set("after", after)
		}
		code, body := e.call("GET", "/admin/api/audit/events?"+q.Encode(), e.auditor, nil)
		if code != 200 {
			e.t.Fatalf("page %d: %d %s", pages+1, code, body)
		}
		var p auditPage
		if err := json.Unmarshal(body, &p); err != nil {
			e.t.Fatal(err)
		}
		for _, ev := range p.Data {
			ids = append(ids, ev.ID)
		}
		if p.Next == "" {
			return ids
		}
		after = p.Next
	}
	e.t.Fatal("the cursor never ended")
	return nil
}

// One stream's events, read a page at a time through the cursor, come
// each once and all of them, as the whole log's do.
func TestAuditEventsOfOneStreamPageThroughTheCursor(t *testing.T) {
	e := newEnv(t, false)
	e.openAccount("acct_many", "Many", domain.PlanStarter)
	key, _ := e.issueKey("acct_many")
	const n = 250
	for i := range n {
		e.request("acct_many", key, "openai/gpt-4.1", "", testNow.Add(time.Duration(i)*time.Second), 10, 10, "0.01")
	}
	e.sync()
	stream := domain.UsageStream("acct_many")
	for _, limit := range []string{"100", "7"} {
		ids := readAuditLog(e, url.Values{"stream": {stream}, "limit": {limit}})
		seen := map[string]bool{}
		for _, id := range ids {
			if seen[id] {
				t.Fatalf("limit %s: event %s given twice", limit, id)
			}
			seen[id] = true
		}
		if len(ids) != n {
			t.Fatalf("limit %s: the cursor gave %d of the stream's %d events", limit, len(ids), n)
		}
	}
}

// allocatedBy is the bytes the process allocated while f ran.
func allocatedBy(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// A table's CSV is written as the page is rendered, a row at a time: it
// never holds the rendered page nor parses it into a tree, which took 16 KB
// an account here and 30 KB at 100,000 accounts (3 GB for their CSV).
func TestAccountsCSVAllocatesLittleARow(t *testing.T) {
	e := newEnv(t, false)
	const n = 1500
	for i := range n {
		if _, err := e.cmds.OpenAccount(e.ctx, domain.AccountOpened{AccountID: fmt.Sprintf("acct_%05d", i),
			Organisation: fmt.Sprintf("公司 %d 股份有限公司", i), Plan: domain.PlanStarter}); err != nil {
			t.Fatal(err)
		}
	}
	e.sync()
	var body []byte
	alloc := allocatedBy(func() {
		var code int
		code, body = e.call("GET", "/console/accounts?format=csv&table=accounts", e.admin, nil)
		if code != 200 {
			t.Fatalf("csv: %d %s", code, body)
		}
	})
	if rows := strings.Count(string(body), "\r\n"); rows != n+1 {
		t.Fatalf("the CSV holds %d lines, want a header and %d accounts", rows, n)
	}
	if perRow := alloc / n; perRow > 12<<10 {
		t.Fatalf("the accounts CSV allocated %d bytes an account (%d in all)", perRow, alloc)
	}
	t.Logf("%d bytes an account", alloc/n)
}

// A customer's GET /admin/api/accounts finds its own account: it does not
// copy every account of the store to pick one out, which cost the size of
// the whole directory on each call (30 MB at 100,000 accounts).
func TestCustomerAccountsListReadsItsOwnAccountOnly(t *testing.T) {
	e := newEnv(t, false)
	const n = 3000
	for i := range n {
		if _, err := e.cmds.OpenAccount(e.ctx, domain.AccountOpened{AccountID: fmt.Sprintf("acct_%05d", i),
			Organisation: fmt.Sprintf("公司 %d", i), Plan: domain.PlanStarter}); err != nil {
			t.Fatal(err)
		}
	}
	e.sync()
	_, secret := e.issueKey("acct_01234")
	e.call("GET", "/admin/api/accounts", secret, nil) // sign-in caches warmed
	var body []byte
	alloc := allocatedBy(func() {
		var code int
		if code, body = e.call("GET", "/admin/api/accounts", secret, nil); code != 200 {
			t.Fatalf("accounts: %d %s", code, body)
		}
	})
	var out struct {
		Data []AccountJSON `json:"data"`
	}
	if err := json.Unmarshal(body, &out); err != nil {
		t.Fatal(err)
	}
	if len(out.Data) != 1 || out.Data[0].ID != "acct_01234" {
		t.Fatalf("a customer's list: %s", body)
	}
	if alloc > 128<<10 {
		t.Fatalf("one customer's list of its account allocated %d bytes (%d accounts in the store)", alloc, n)
	}
}

// Staff read every account through GET /admin/api/accounts a page at a
// time: no answer holds more than a page, however large the limit asked,
// and following next_offset gives each account once.
func TestStaffAccountsListIsPaged(t *testing.T) {
	e := newEnv(t, false)
	const n = 2345
	for i := range n {
		if _, err := e.cmds.OpenAccount(e.ctx, domain.AccountOpened{AccountID: fmt.Sprintf("acct_%05d", i),
			Organisation: fmt.Sprintf("公司 %d", i), Plan: domain.PlanStarter}); err != nil {
			t.Fatal(err)
		}
	}
	e.sync()
	type page struct {
		Data       []AccountJSON `json:"data"`
		Total      int           `json:"total"`
		NextOffset *int          `json:"next_offset"`
	}
	get := func(q string) page {
		t.Helper()
		code, body := e.call("GET", "/admin/api/accounts"+q, e.admin, nil)
		if code != 200 {
			t.Fatalf("%s: %d %s", q, code, body)
		}
		var p page
		if err := json.Unmarshal(body, &p); err != nil {
			t.Fatal(err)
		}
		return p
	}
	if p := get("?limit=10000000"); len(p.Data) > 1000 || p.Total != n {
		t.Fatalf("limit=10000000 gave %d accounts of %d", len(p.Data), p.Total)
	}
	for _, limit := range []string{"", "7", "1000"} {
		seen := map[string]bool{}
		q := "?limit=" + limit
		for pages := 0; ; pages++ {
			if pages > n {
				t.Fatal("next_offset never ended")
			}
			p := get(q)
			for _, a := range p.Data {
				if seen[a.ID] {
					t.Fatalf("limit %q: %s given twice", limit, a.ID)
				}
				seen[a.ID] = true
			}
			if p.NextOffset == nil {
				break
			}
			q = fmt.Sprintf("?limit=%s&offset=%d", limit, *p.NextOffset)
		}
		if len(seen) != n {
			t.Fatalf("limit %q: the pages gave %d of %d accounts", limit, len(seen), n)
		}
	}
	for q, name := range map[string]string{"?limit=-1": "limit", "?limit=abc": "limit", "?limit=0": "limit", "?offset=-3": "offset", "?offset=x": "offset"} {
		code, body := e.call("GET", "/admin/api/accounts"+q, e.admin, nil)
		if code != 400 || !strings.Contains(string(body), name+" must be a whole number") {
			t.Fatalf("%s: %d %s", q, code, body)
		}
	}
	if p := get("?offset=999999"); len(p.Data) != 0 || p.NextOffset != nil || p.Total != n {
		t.Fatalf("past the end: %+v", p)
	}
}
