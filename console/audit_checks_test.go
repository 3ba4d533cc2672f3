package console

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/google/uuid"
	"github.com/shopspring/decimal"

	"github.com/routefree/routefree/commands"
	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/eventstore"
)

// seedHistory appends n completed requests to acct's usage stream, in
// batches, as many gateway requests would.
func seedHistory(e *env, acct, key string, n int) {
	e.t.Helper()
	model := e.cat.IDs()[0]
	at := testNow.Add(-48 * time.Hour)
	for done := 0; done < n; {
		batch := make([]eventstore.EventData, 0, 500)
		for ; done < n && len(batch) < cap(batch); done++ {
			ts := at.Add(time.Duration(done) * time.Second)
			rc := &domain.RequestCompleted{RequestID: "gen-" + uuid.NewString(), KeyID: key, AccountID: acct, Model: model,
				Usage: domain.Usage{Input: 10, Output: 5}, Cost: decimal.RequireFromString("0.01"), StartedAt: ts.UTC(),
				Outcome: domain.OutcomeCompleted, Attempts: 1}
			d, err := commands.Event(uuid.New(), ts, rc)
			if err != nil {
				e.t.Fatal(err)
			}
			batch = append(batch, d)
		}
		if _, err := e.cap.Append(e.ctx, domain.UsageStream(acct), eventstore.Any(), batch...); err != nil {
			e.t.Fatal(err)
		}
	}
	e.sync()
}

// "Run the checks" shows the verdict whatever the length of history: with
// more events than one page of the log, the link to the next page must not
// eat the request's own check=1.
func TestAuditChecksOnALongHistory(t *testing.T) {
	e := newEnv(t, false)
	e.openAccount("acct_h", "歷史公司", domain.PlanStarter)
	keyID, _ := e.issueKey("acct_h")
	seedHistory(e, "acct_h", keyID, 150)
	b := e.browser()
	b.signIn(e.auditor)
	resp, page := b.get("/console/audit?check=1")
	if resp.StatusCode != 200 {
		t.Fatalf("audit page: %d", resp.StatusCode)
	}
	ok := elements(t, page, "p", "data-ok")
	if len(ok) != 1 || ok[0]["data-ok"] != "true" {
		t.Fatalf("no chain verdict on a history of 150+ events: %v", ok)
	}
	if n, _ := strconv.Atoi(ok[0]["data-events"]); n < 150 {
		t.Fatalf("verdict counts %d events", n)
	}
	next := attrOf(t, page, "a", "rel", "next", "href")
	if strings.Contains(next, "check=") || !strings.Contains(next, "page=2") {
		t.Fatalf("next page link %q", next)
	}
}

// The auditor clicks "run the checks" in a real browser on a store of
// 10,000 events and reads the verdict.
func TestBrowserAuditChecksTenThousandEvents(t *testing.T) {
	e := newEnv(t, false)
	e.openAccount("acct_big", "萬筆公司", domain.PlanStarter)
	keyID, _ := e.issueKey("acct_big")
	seedHistory(e, "acct_big", keyID, 10_000)
	c := newChrome(t)
	c.signIn(e.srv.URL, e.auditor)
	c.do("audit page", chromedp.Navigate(e.srv.URL+"/console/audit"), chromedp.WaitVisible(chromedp.CSS("#run-checks")))
	c.do("run the checks", chromedp.Click(chromedp.CSS("#run-checks")), chromedp.WaitVisible(chromedp.CSS("#chain-verdict")))
	if ok := c.attr("chain", "#chain-verdict", "data-ok"); ok != "true" {
		t.Fatalf("chain verdict data-ok=%q", ok)
	}
	if n, _ := strconv.Atoi(c.attr("events", "#chain-verdict", "data-events")); n < 10_000 {
		t.Fatalf("the verdict covers %d events, want at least 10,000", n)
	}
	if match := c.attr("replay", "#replay-verdict", "data-match"); match != "true" {
		t.Fatalf("replay data-match=%q", match)
	}
	text := get(c, "verdict text", chromedp.Text(chromedp.CSS("#chain-verdict")))
	if !strings.Contains(text, "10") {
		t.Fatalf("verdict text %q", text)
	}
	if v := c.violations(); len(v) > 0 {
		t.Fatalf("console errors: %v", v)
	}
}
