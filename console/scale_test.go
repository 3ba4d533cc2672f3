package console

import (
	"encoding/json"
	"net/url"
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
