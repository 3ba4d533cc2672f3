package console

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/routefree/routefree/domain"
)

// keysRequest sends a JSON body to path with a bearer credential and
// returns the answer's status, Retry-After and body.
func (e *env) keysRequest(method, path, bearer string, body any) (int, string, []byte) {
	e.t.Helper()
	var rd *strings.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			e.t.Fatal(err)
		}
		rd = strings.NewReader(string(b))
	} else {
		rd = strings.NewReader("")
	}
	req, err := http.NewRequest(method, e.srv.URL+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+bearer)
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return resp.StatusCode, resp.Header.Get("Retry-After"), b
}

// rateRefusal is the error body of a key refused past the account's bound
// on keys made in an hour.
type rateRefusal struct {
	Error struct {
		Code     int            `json:"code"`
		Message  string         `json:"message"`
		Metadata map[string]any `json:"metadata"`
	} `json:"error"`
}

// churn creates and deletes n keys through /api/v1/keys with mgmt, each
// created key deleted at once, failing on any refusal.
func churn(e *env, mgmt string, n int) {
	e.t.Helper()
	for i := range n {
		code, _, b := e.keysRequest("POST", "/api/v1/keys", mgmt, map[string]any{"name": fmt.Sprint("loop ", i)})
		var out struct{ Data struct{ Hash string } }
		if code != http.StatusCreated || json.Unmarshal(b, &out) != nil {
			e.t.Fatalf("create %d: %d %s", i, code, b)
		}
		if code, _, b := e.keysRequest("DELETE", "/api/v1/keys/"+out.Data.Hash, mgmt, nil); code != http.StatusOK {
			e.t.Fatalf("delete %d: %d %s", i, code, b)
		}
	}
}

// A management key creating and deleting keys in a loop (a script gone
// wrong, or a leaked key) is stopped at the account's bound on keys made
// in an hour, 100 by default, whatever it deletes: the next create is a
// 429 in the API's error shape, with a Retry-After and a message saying
// when the next key can be made, and creates nothing; the console's key
// form refuses the same way, in the console's words. An hour after the
// first key, one more can be made.
func TestKeysAPIBoundsTheKeysMadeInAnHour(t *testing.T) {
	e := newEnv(t, false)
	e.openAccount("acct_churn", "迴圈公司", domain.PlanStarter)
	_, mgmt, err := e.cmds.IssueKey(e.ctx, domain.KeyIssued{AccountID: "acct_churn", Name: "provisioning", Management: true})
	if err != nil {
		t.Fatal(err)
	}
	e.sync()
	start := e.clock.Now()
	churn(e, mgmt, 60)
	e.setClock(start.Add(10 * time.Minute))
	churn(e, mgmt, 40)

	issued := countEvents(e, domain.TypeKeyIssued)
	code, retry, b := e.keysRequest("POST", "/api/v1/keys", mgmt, map[string]any{"name": "one too many"})
	var r rateRefusal
	if code != http.StatusTooManyRequests || json.Unmarshal(b, &r) != nil || r.Error.Code != http.StatusTooManyRequests {
		t.Fatalf("the 101st key in an hour: %d %s, want 429 in the API's error shape", code, b)
	}
	// The first 60 keys were made at start: the next key can be made an
	// hour after them, 50 minutes from now.
	next := start.Add(time.Hour).UTC().Format(time.RFC3339)
	if secs, err := strconv.Atoi(retry); err != nil || secs != 50*60 {
		t.Errorf("Retry-After %q, want %d", retry, 50*60)
	}
	for _, says := range []string{"acct_churn", "100 keys in the last hour", "at most 100", next, "--max-new-keys-per-hour"} {
		if !strings.Contains(r.Error.Message, says) {
			t.Errorf("refusal %q does not say %q", r.Error.Message, says)
		}
	}
	if r.Error.Metadata["retry_after_seconds"] != float64(50*60) || r.Error.Metadata["next_key_at"] != next ||
		r.Error.Metadata["keys_made"] != float64(100) || r.Error.Metadata["max_new_keys_per_hour"] != float64(100) {
		t.Errorf("metadata %v", r.Error.Metadata)
	}
	if n := countEvents(e, domain.TypeKeyIssued) - issued; n != 0 {
		t.Fatalf("%d keys issued past the bound", n)
	}

	// The console's key form, signed in with the same key, says the same.
	br := e.browser()
	csrf := br.signIn(mgmt)
	resp, page := br.post("/console/accounts/acct_churn/keys", url.Values{"csrf": {csrf}, "name": {"by hand"}})
	msg, untranslated := errorOf(t, page)
	if resp.StatusCode != http.StatusTooManyRequests || untranslated || !strings.Contains(msg, next) || !strings.Contains(msg, "100") {
		t.Errorf("the console's key form: %d %q (general text: %v), want 429 saying when the next key can be made", resp.StatusCode, msg, untranslated)
	}
	if got := resp.Header.Get("Retry-After"); got != retry {
		t.Errorf("the console's Retry-After %q, want %q", got, retry)
	}

	// 50 minutes on, the first 60 keys are an hour old: 60 more can be made.
	e.setClock(start.Add(time.Hour))
	churn(e, mgmt, 60)
	if code, _, b := e.keysRequest("POST", "/api/v1/keys", mgmt, map[string]any{"name": "again too many"}); code != http.StatusTooManyRequests {
		t.Fatalf("a 61st key within the hour after the first 60 left it: %d %s, want 429", code, b)
	}
}

// An app's OAuth exchange is refused as the keys API refuses a key past
// the account's bound on keys made in an hour: 429 with a Retry-After,
// saying when the next key can be made, and no key. The code is kept, so
// that the app may exchange it again then, within its life; the approval
// page, past the bound, refuses in the console's words.
func TestAuthExchangeIsBoundByTheKeysMadeInAnHour(t *testing.T) {
	e := newEnv(t, false)
	owner := pkceOwner(e, "acct_pkce")
	start := e.clock.Now()
	e.setClock(start.Add(-55 * time.Minute))
	churn(e, owner, 99)
	e.setClock(start)
	b := e.browser()
	b.signIn(owner)
	verifier, challenge := pkcePair(t)
	path := authURL("https://app.example/cb", challenge, "S256")
	code := b.approve(b.approveForm(path))
	churn(e, owner, 1) // the 100th key of the hour, after the approval

	issued := countEvents(e, domain.TypeKeyIssued)
	status, body := e.call(http.MethodPost, "/api/v1/auth/keys", "", map[string]any{"code": code, "code_verifier": verifier, "code_challenge_method": "S256"})
	var r rateRefusal
	if status != http.StatusTooManyRequests || json.Unmarshal(body, &r) != nil || r.Error.Code != http.StatusTooManyRequests {
		t.Fatalf("exchange past the bound: %d %s, want 429 in the API's error shape", status, body)
	}
	next := start.Add(5 * time.Minute).UTC().Format(time.RFC3339)
	if !strings.HasPrefix(r.Error.Message, "the key approved cannot be issued yet: ") || !strings.Contains(r.Error.Message, next) ||
		r.Error.Metadata["retry_after_seconds"] != float64(5*60) || r.Error.Metadata["next_key_at"] != next {
		t.Errorf("refusal %+v, want it to say the next key can be made at %s, in 300 seconds", r.Error, next)
	}
	if n := countEvents(e, domain.TypeKeyIssued) - issued; n != 0 {
		t.Fatalf("%d keys issued past the bound", n)
	}
	// Five minutes on, within the code's life, the same code gets the key.
	e.setClock(start.Add(5 * time.Minute))
	status, out := e.exchange(code, verifier, "S256")
	if status != http.StatusOK || out["key"] == nil {
		t.Fatalf("the exchange again once a key can be made: %d %v", status, out)
	}
	// Past the bound again, the approval page refuses, saying when.
	churn(e, owner, 98)
	resp, page := b.post("/auth", b.approveForm(path))
	msg, untranslated := errorOf(t, page)
	if resp.StatusCode != http.StatusTooManyRequests || untranslated || !strings.Contains(msg, start.Add(time.Hour).UTC().Format(time.RFC3339)) {
		t.Errorf("approving past the bound: %d %q (general text: %v), want 429 saying when the next key can be made", resp.StatusCode, msg, untranslated)
	}
}
