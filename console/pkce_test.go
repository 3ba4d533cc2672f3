package console

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/routefree/routefree/commands"
	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/eventstore"
	"github.com/routefree/routefree/internal/testenv"
	"github.com/routefree/routefree/projections"
)

// pkcePair is a code verifier and its S256 challenge, as an app makes them.
func pkcePair(t *testing.T) (verifier, challenge string) {
	t.Helper()
	verifier = randomToken()
	sum := sha256.Sum256([]byte(verifier))
	return verifier, base64.RawURLEncoding.EncodeToString(sum[:])
}

func authURL(callback, challenge, method string) string {
	q := url.Values{"callback_url": {callback}}
	if challenge != "" {
		q.Set("code_challenge", challenge)
	}
	if method != "" {
		q.Set("code_challenge_method", method)
	}
	return "/auth?" + q.Encode()
}

// pkceOwner opens an account with a management key, its owner's.
func pkceOwner(e *env, acct string) string {
	e.t.Helper()
	e.openAccount(acct, "PKCE 股份有限公司", domain.PlanStarter)
	_, mgmt, err := e.cmds.IssueKey(e.ctx, domain.KeyIssued{AccountID: acct, Name: "owner", Management: true})
	if err != nil {
		e.t.Fatal(err)
	}
	e.sync()
	return mgmt
}

// decide sends the /auth page's form with decision, signed in, and
// returns where it leads.
func (b *browser) decide(authPath, decision string) *url.URL {
	b.e.t.Helper()
	resp, page := b.get(authPath)
	if resp.StatusCode != http.StatusOK {
		b.e.t.Fatalf("GET %s: %d\n%s", authPath, resp.StatusCode, page)
	}
	v := formFields(b.e.t, page, "/auth")
	v.Set("decision", decision)
	resp, body := b.post("/auth", v)
	if resp.StatusCode != http.StatusSeeOther {
		b.e.t.Fatalf("POST /auth (%s): %d\n%s", decision, resp.StatusCode, body)
	}
	to, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		b.e.t.Fatal(err)
	}
	return to
}

// exchange posts a code and verifier to /api/v1/auth/keys.
func (e *env) exchange(code, verifier, method string) (int, map[string]any) {
	e.t.Helper()
	body := map[string]any{"code": code}
	if verifier != "" {
		body["code_verifier"] = verifier
	}
	if method != "" {
		body["code_challenge_method"] = method
	}
	status, b := e.call(http.MethodPost, "/api/v1/auth/keys", "", body)
	var out map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		e.t.Fatalf("exchange answered %d, not JSON: %s", status, b)
	}
	return status, out
}

// An app sends a signed-out user to /auth: they sign in, come back to the
// page, which names the app asking, approve, and go to the app's callback
// with a code; the app exchanges the code and its verifier for a new key
// of the user's account, named after the app, stored hashed and shown
// nowhere else; the same code exchanged again gets nothing.
func TestAuthPageSignsInApprovesAndTheCodeGivesAKeyOnce(t *testing.T) {
	e := newEnv(t, false)
	owner := pkceOwner(e, "acct_pkce")
	verifier, challenge := pkcePair(t)
	path := authURL("https://chat.example.com/openrouter/callback?from=settings", challenge, "S256")

	b := e.browser()
	// The app's link is cross-site, and the browser leaves the session's
	// SameSite=Strict cookie out: a page of ours moves on to the same
	// request, same-site.
	req, _ := http.NewRequest(http.MethodGet, e.srv.URL+path, nil)
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	hop, err := b.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	hop.Body.Close()
	if hop.StatusCode != http.StatusOK || hop.Header.Get("Refresh") != "0; url="+path {
		t.Fatalf("arriving cross-site: %d, Refresh %q", hop.StatusCode, hop.Header.Get("Refresh"))
	}
	resp, _ := b.get(path)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/console/signin" {
		t.Fatalf("signed out: %d to %q, want a redirect to the sign-in page", resp.StatusCode, resp.Header.Get("Location"))
	}
	_, page := b.get("/console/signin")
	csrf := attrOf(t, page, "input", "id", "signin-csrf", "value")
	resp, _ = b.post("/console/signin", url.Values{"csrf": {csrf}, "token": {owner}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != path {
		t.Fatalf("sign-in led to %q, want back to %q", resp.Header.Get("Location"), path)
	}

	resp, page = b.get(path)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /auth signed in: %d", resp.StatusCode)
	}
	if got := strings.TrimSpace(textOf(t, page, "auth-app")); got != "chat.example.com" {
		t.Errorf("the page names the app %q, want its callback's host", got)
	}
	// The approval's redirect leaves for the app's origin: the page's
	// policy lets its form go there, and nowhere else.
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "form-action 'self' https://chat.example.com;") {
		t.Errorf("the page's policy keeps its form from the callback: %s", csp)
	}

	keysBefore := len(e.models.Keys.ByAccount("acct_pkce"))
	to := b.decide(path, "approve")
	if to.Scheme != "https" || to.Host != "chat.example.com" || to.Path != "/openrouter/callback" || to.Query().Get("from") != "settings" {
		t.Fatalf("approval led to %s, want the callback", to)
	}
	code := to.Query().Get("code")
	if code == "" {
		t.Fatalf("no code in %s", to)
	}

	status, out := e.exchange(code, verifier, "S256")
	if status != http.StatusOK {
		t.Fatalf("exchange: %d %v", status, out)
	}
	key, _ := out["key"].(string)
	if !strings.HasPrefix(key, commands.KeyPrefix) || out["user_id"] != "acct_pkce" {
		t.Fatalf("exchange answered %v", out)
	}
	e.sync()
	k, ok := e.models.Keys.Lookup(commands.HashKey(key))
	if !ok || k.AccountID != "acct_pkce" || k.Name != "chat.example.com" || k.Management || k.Revoked {
		t.Fatalf("the key given is not a working key of the account named after the app: %+v (found %v)", k, ok)
	}
	if n := len(e.models.Keys.ByAccount("acct_pkce")); n != keysBefore+1 {
		t.Errorf("the account has %d keys, want %d", n, keysBefore+1)
	}
	// Keys are kept hashed: the secret is in no event.
	if n := eventsContaining(e, key); n != 0 {
		t.Errorf("the key's secret is in %d stored events", n)
	}
	if n := eventsContaining(e, code); n != 0 {
		t.Errorf("the code is in %d stored events", n)
	}

	status, out = e.exchange(code, verifier, "S256")
	if status != http.StatusForbidden || out["key"] != nil {
		t.Fatalf("the same code again: %d %v, want 403 and no key", status, out)
	}
}

// appKeys are the account's keys named after app.
func appKeys(e *env, acct, app string) []projections.KeyInfo {
	var out []projections.KeyInfo
	for _, k := range e.models.Keys.ByAccount(acct) {
		if k.Name == app {
			out = append(out, k)
		}
	}
	return out
}

// eventsContaining counts the stored events whose data holds s.
func eventsContaining(e *env, s string) int {
	e.t.Helper()
	evs, err := e.store.ReadAll(e.ctx, eventstore.Start, 100000)
	if err != nil {
		e.t.Fatal(err)
	}
	n := 0
	for _, ev := range evs {
		if strings.Contains(string(ev.Data), s) {
			n++
		}
	}
	return n
}

// textOf is the text inside the element of id.
func textOf(t *testing.T, page, id string) string {
	t.Helper()
	i := strings.Index(page, `id="`+id+`"`)
	if i < 0 {
		t.Fatalf("no element %s in page", id)
	}
	rest := page[i:]
	start := strings.Index(rest, ">")
	end := strings.Index(rest, "<")
	if start < 0 || end < start {
		t.Fatalf("element %s has no text", id)
	}
	return rest[start+1 : end]
}

// A verifier that does not match the challenge gets no key, and spends the
// code: the right verifier after a wrong one gets nothing either.
func TestAuthCodeWithTheWrongVerifierGivesNothing(t *testing.T) {
	e := newEnv(t, false)
	b := e.browser()
	b.signIn(pkceOwner(e, "acct_pkce"))
	verifier, challenge := pkcePair(t)
	code := b.decide(authURL("https://app.example/cb", challenge, "S256"), "approve").Query().Get("code")

	other, _ := pkcePair(t)
	if status, out := e.exchange(code, other, "S256"); status != http.StatusForbidden || out["key"] != nil {
		t.Fatalf("wrong verifier: %d %v, want 403", status, out)
	}
	if status, out := e.exchange(code, verifier, "S256"); status != http.StatusForbidden || out["key"] != nil {
		t.Fatalf("right verifier after a wrong one: %d %v, want 403", status, out)
	}
	// No key was issued: the code was refused before the exchange made one.
	e.sync()
	if k := appKeys(e, "acct_pkce", "app.example"); len(k) != 0 {
		t.Fatalf("a code spent by a wrong verifier left keys: %+v", k)
	}
	// A code for a challenge needs its verifier.
	code = b.decide(authURL("https://app.example/cb", challenge, "S256"), "approve").Query().Get("code")
	if status, out := e.exchange(code, "", ""); status != http.StatusForbidden || out["key"] != nil {
		t.Fatalf("no verifier: %d %v, want 403", status, out)
	}
}

// The plain method compares the verifier with the challenge as sent; the
// exchange naming another method than the approval's is a 400.
func TestAuthCodePlainChallenge(t *testing.T) {
	e := newEnv(t, false)
	b := e.browser()
	b.signIn(pkceOwner(e, "acct_pkce"))
	verifier := randomToken()
	path := authURL("http://localhost:51423/callback", verifier, "plain")

	code := b.decide(path, "approve").Query().Get("code")
	if status, out := e.exchange(code, verifier, "S256"); status != http.StatusBadRequest || out["key"] != nil {
		t.Fatalf("another method than the approval's: %d %v, want 400", status, out)
	}
	code = b.decide(path, "approve").Query().Get("code")
	status, out := e.exchange(code, verifier, "plain")
	key, _ := out["key"].(string)
	if status != http.StatusOK || !strings.HasPrefix(key, commands.KeyPrefix) {
		t.Fatalf("plain: %d %v", status, out)
	}
	e.sync()
	if k, ok := e.models.Keys.Lookup(commands.HashKey(key)); !ok || k.Name != "localhost:51423" {
		t.Errorf("a local app's key is named after its host and port: %+v", k)
	}
}

// A code lives ten minutes.
func TestAuthCodeExpires(t *testing.T) {
	e := newEnv(t, false)
	b := e.browser()
	b.signIn(pkceOwner(e, "acct_pkce"))
	verifier, challenge := pkcePair(t)
	code := b.decide(authURL("https://app.example/cb", challenge, "S256"), "approve").Query().Get("code")

	e.clock.mu.Lock()
	e.clock.t = e.clock.t.Add(authCodeLife + time.Second)
	e.clock.mu.Unlock()
	if status, out := e.exchange(code, verifier, "S256"); status != http.StatusForbidden || out["key"] != nil {
		t.Fatalf("expired code: %d %v, want 403", status, out)
	}
	e.sync()
	if k := appKeys(e, "acct_pkce", "app.example"); len(k) != 0 {
		t.Fatalf("an expired code left keys: %+v", k)
	}
}

// Deny sends the user back to the app with error=access_denied and issues
// nothing.
func TestAuthDenyReturnsAnErrorToTheApp(t *testing.T) {
	e := newEnv(t, false)
	b := e.browser()
	b.signIn(pkceOwner(e, "acct_pkce"))
	_, challenge := pkcePair(t)
	before := countEvents(e, domain.TypeKeyIssued)
	to := b.decide(authURL("https://app.example/cb?x=1", challenge, "S256"), "deny")
	if to.Host != "app.example" || to.Path != "/cb" || to.Query().Get("error") != "access_denied" || to.Query().Get("code") != "" || to.Query().Get("x") != "1" {
		t.Fatalf("deny led to %s", to)
	}
	if n := countEvents(e, domain.TypeKeyIssued) - before; n != 0 {
		t.Fatalf("deny issued %d keys", n)
	}
}

// Only https callbacks, or http to this machine, as OpenRouter takes them;
// a bad request is refused on the page, never sent on to its callback.
func TestAuthRefusesBadRequests(t *testing.T) {
	e := newEnv(t, false)
	b := e.browser()
	b.signIn(pkceOwner(e, "acct_pkce"))
	_, challenge := pkcePair(t)
	for _, path := range []string{
		"/auth",
		authURL("http://app.example/cb", challenge, "S256"),
		authURL("javascript:alert(1)", challenge, "S256"),
		authURL("https://user:pw@app.example/cb", challenge, "S256"),
		authURL("https:///cb", challenge, "S256"),
		authURL("/cb", challenge, "S256"),
		authURL("https://app.example/cb", challenge, "S512"),
		authURL("https://app.example/cb", "short", "S256"),
		authURL("https://app.example/cb", "not plain!", "plain"),
	} {
		if resp, _ := b.get(path); resp.StatusCode != http.StatusBadRequest {
			t.Errorf("GET %s: %d, want 400", path, resp.StatusCode)
		}
	}
	for _, ok := range []string{"http://localhost:3000/cb", "http://127.0.0.1:8080/", "http://[::1]:9000/cb", "https://app.example"} {
		if resp, _ := b.get(authURL(ok, challenge, "S256")); resp.StatusCode != http.StatusOK {
			t.Errorf("GET with callback %s: %d, want 200", ok, resp.StatusCode)
		}
	}
	// The form's decision needs the session's CSRF token, as every form.
	resp, _ := b.post("/auth", url.Values{"callback_url": {"https://app.example/cb"}, "code_challenge": {challenge},
		"code_challenge_method": {"S256"}, "decision": {"approve"}})
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("approve without the CSRF token: %d, want 403", resp.StatusCode)
	}
}

// An inference key cannot issue keys, so it cannot approve; it can deny.
func TestAuthApprovalNeedsAManagementKey(t *testing.T) {
	e := newEnv(t, false)
	pkceOwner(e, "acct_pkce")
	_, inference := e.issueKey("acct_pkce")
	b := e.browser()
	csrf := b.signIn(inference)
	_, challenge := pkcePair(t)
	path := authURL("https://app.example/cb", challenge, "S256")
	resp, page := b.get(path)
	if resp.StatusCode != http.StatusOK || !strings.Contains(page, `id="auth-needs-management"`) {
		t.Fatalf("an inference key's page: %d, want the page saying a management key approves", resp.StatusCode)
	}
	before := countEvents(e, domain.TypeKeyIssued)
	resp, _ = b.post("/auth", url.Values{"csrf": {csrf}, "callback_url": {"https://app.example/cb"}, "code_challenge": {challenge},
		"code_challenge_method": {"S256"}, "decision": {"approve"}})
	if resp.StatusCode != http.StatusForbidden || countEvents(e, domain.TypeKeyIssued) != before {
		t.Fatalf("an inference key approving: %d", resp.StatusCode)
	}
	if to := b.decide(path, "deny"); to.Query().Get("error") != "access_denied" {
		t.Fatalf("an inference key denying led to %s", to)
	}
}

// Exchanges of one code at once give its key to one of them.
func TestAuthCodeConcurrentExchangesGiveOneKey(t *testing.T) {
	e := newEnv(t, false)
	b := e.browser()
	b.signIn(pkceOwner(e, "acct_pkce"))
	verifier, challenge := pkcePair(t)
	code := b.decide(authURL("https://app.example/cb", challenge, "S256"), "approve").Query().Get("code")
	var wg sync.WaitGroup
	var mu sync.Mutex
	won, lost := 0, 0
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			status, _ := e.exchange(code, verifier, "S256")
			mu.Lock()
			defer mu.Unlock()
			switch status {
			case http.StatusOK:
				won++
			case http.StatusForbidden:
				lost++
			}
		}()
	}
	wg.Wait()
	if won != 1 || lost != 7 {
		t.Fatalf("8 exchanges of one code: %d gave a key, %d were refused", won, lost)
	}
}

// Gateway instances sharing Redis share codes: the exchange may reach
// another instance than the approval did, once.
func TestAuthCodeExchangedAtAnotherInstance(t *testing.T) {
	e := newEnv(t, false)
	other := secondInstance(t, e)
	other.auth.WithClock(e.clock.Now)
	b := e.browser()
	b.signIn(pkceOwner(e, "acct_pkce"))
	verifier, challenge := pkcePair(t)
	code := b.decide(authURL("https://app.example/cb", challenge, "S256"), "approve").Query().Get("code")

	// Redis holds the code's grant under the code's hash, pointing to its
	// approval: neither the code nor, once issued, the key is in it.
	keys, err := other.rdb.Keys(e.ctx, other.prefix+"console:authcode:*").Result()
	if err != nil || len(keys) != 1 {
		t.Fatalf("Redis holds %d grants (%v), want 1", len(keys), err)
	}
	stored := keys[0]
	if v, err := other.rdb.Get(e.ctx, keys[0]).Result(); err == nil {
		stored += v
	}
	if strings.Contains(stored, code) {
		t.Errorf("Redis keeps the code in clear")
	}

	body := strings.NewReader(`{"code":"` + code + `","code_verifier":"` + verifier + `","code_challenge_method":"S256"}`)
	resp, err := http.Post(other.srv.URL+"/api/v1/auth/keys", "application/json", body)
	if err != nil {
		t.Fatal(err)
	}
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	resp.Body.Close()
	key, _ := out["key"].(string)
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(key, commands.KeyPrefix) {
		t.Fatalf("exchange at the other instance: %d %v", resp.StatusCode, out)
	}
	if status, _ := e.exchange(code, verifier, "S256"); status != http.StatusForbidden {
		t.Fatalf("the same code at the first instance: %d, want 403", status)
	}
	if strings.Contains(stored, key) {
		t.Errorf("Redis keeps the key in clear")
	}
}

// A visitor an app sent to /auth signs in first: the sign-in page says
// which app (its callback's host) is waiting for their approval, in the
// page's language; without an app waiting it says nothing of the kind.
func TestSignInPageNamesTheAppWaiting(t *testing.T) {
	e := newEnv(t, false)
	_, challenge := pkcePair(t)
	path := authURL("https://chat.example.com:8443/openrouter/callback", challenge, "S256")

	plain := e.browser()
	if _, page := plain.get("/console/signin"); len(elementsByID(t, page, "signin-app")) != 0 {
		t.Errorf("the sign-in page names a waiting app when none is")
	}

	b := e.browser()
	if resp, _ := b.get(path); resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/console/signin" {
		t.Fatalf("signed out: %d to %q, want the sign-in page", resp.StatusCode, resp.Header.Get("Location"))
	}
	for lang, says := range map[string]string{
		"en":    "An app is waiting for your approval",
		"zh-TW": "應用程式正等候您核准",
	} {
		_, page := b.get("/console/signin?lang=" + lang)
		if len(elementsByID(t, page, "signin-app")) != 1 {
			t.Fatalf("%s: the sign-in page does not say an app is waiting:\n%s", lang, visibleText(t, page))
		}
		if got := strings.TrimSpace(textOf(t, page, "signin-app-name")); got != "chat.example.com:8443" {
			t.Errorf("%s: the sign-in page names the app %q, want the callback's host", lang, got)
		}
		if text := visibleText(t, page); !strings.Contains(text, says) {
			t.Errorf("%s: the sign-in page reads %q, want it to say %q", lang, text, says)
		}
	}
}

// approveForm is the /auth page's form, signed in, with decision approve.
func (b *browser) approveForm(authPath string) url.Values {
	b.e.t.Helper()
	resp, page := b.get(authPath)
	if resp.StatusCode != http.StatusOK {
		b.e.t.Fatalf("GET %s: %d\n%s", authPath, resp.StatusCode, page)
	}
	v := formFields(b.e.t, page, "/auth")
	v.Set("decision", "approve")
	return v
}

// approve posts the form and returns the code its redirect to the
// callback carries.
func (b *browser) approve(v url.Values) string {
	t := b.e.t
	t.Helper()
	resp, body := b.post("/auth", v)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("POST /auth: %d, want a redirect to the app\n%s", resp.StatusCode, body)
	}
	to, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || to.Host != "app.example" || to.Query().Get("code") == "" {
		t.Fatalf("POST /auth led to %q, want the callback with a code", resp.Header.Get("Location"))
	}
	return to.Query().Get("code")
}

// An approval sent twice (a double click, a resend) issues one key: the
// browser follows the second answer, which leads to the app with another
// code of the same approval, and the app gets the key with it. The code
// of the answer the browser dropped then gives nothing. Sent again once
// the app has its key, the form issues nothing and says so.
func TestAuthApprovalSentTwiceIssuesOneKey(t *testing.T) {
	e := newEnv(t, false)
	b := e.browser()
	b.signIn(pkceOwner(e, "acct_pkce"))
	verifier, challenge := pkcePair(t)
	path := authURL("https://app.example/cb", challenge, "S256")
	before := countEvents(e, domain.TypeKeyIssued)

	v := b.approveForm(path)
	first := b.approve(v)
	second := b.approve(v)
	if n := countEvents(e, domain.TypeKeyIssued) - before; n != 0 {
		t.Fatalf("an approval sent twice issued %d keys before the exchange, want none", n)
	}
	if first == second {
		t.Errorf("the second answer repeats the first code")
	}
	status, out := e.exchange(second, verifier, "S256")
	key, _ := out["key"].(string)
	if status != http.StatusOK || !strings.HasPrefix(key, commands.KeyPrefix) {
		t.Fatalf("exchanging the second answer's code: %d %v", status, out)
	}
	if status, out := e.exchange(first, verifier, "S256"); status != http.StatusForbidden || out["key"] != nil {
		t.Fatalf("the dropped answer's code after the key was given: %d %v, want 403", status, out)
	}
	if n := countEvents(e, domain.TypeKeyIssued) - before; n != 1 {
		t.Fatalf("an approval sent twice issued %d keys, want 1", n)
	}
	e.sync()
	if k, ok := e.models.Keys.Lookup(commands.HashKey(key)); !ok || k.Revoked || k.Name != "app.example" {
		t.Fatalf("the app's key after the dropped code was tried: %+v (found %v), want it working", k, ok)
	}
	if keys := appKeys(e, "acct_pkce", "app.example"); len(keys) != 1 {
		t.Fatalf("the account has %d keys of the app, want 1", len(keys))
	}

	// The same form once more, the key given: nothing issued, a page
	// saying the app was already given its key.
	resp, page := b.post("/auth", v)
	if resp.StatusCode != http.StatusOK || len(elementsByID(t, page, "auth-given")) != 1 {
		t.Fatalf("the form sent after the exchange: %d to %q, want the page saying the app has its key\n%s",
			resp.StatusCode, resp.Header.Get("Location"), visibleText(t, page))
	}
	if n := countEvents(e, domain.TypeKeyIssued) - before; n != 1 {
		t.Fatalf("%d keys issued, want 1", n)
	}
	// A new page is a new approval.
	code := b.approve(b.approveForm(path))
	if status, _ := e.exchange(code, verifier, "S256"); status != http.StatusOK || countEvents(e, domain.TypeKeyIssued)-before != 2 {
		t.Fatalf("a new page's approval: exchange %d, %d keys issued, want 2", status, countEvents(e, domain.TypeKeyIssued)-before)
	}
}

// Copies of one approval at once, some reaching another instance sharing
// Redis, each answer with a code of the one approval, and issue nothing;
// exchanges of those codes at once, at both instances, issue one key.
func TestAuthApprovalSentAtOnceToTwoInstancesIssuesOneKey(t *testing.T) {
	e := newEnv(t, false)
	other := secondInstance(t, e)
	other.auth.WithClock(e.clock.Now)
	b := e.browser()
	b.signIn(pkceOwner(e, "acct_pkce"))
	verifier, challenge := pkcePair(t)
	v := b.approveForm(authURL("https://app.example/cb", challenge, "S256"))
	before := countEvents(e, domain.TypeKeyIssued)

	var wg sync.WaitGroup
	codes := make([]string, 6)
	for i := range codes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			base := e.srv.URL
			if i%2 == 1 {
				base = other.srv.URL
			}
			resp, err := b.c.PostForm(base+"/auth", v)
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close()
			if to, err := url.Parse(resp.Header.Get("Location")); err == nil && resp.StatusCode == http.StatusSeeOther {
				codes[i] = to.Query().Get("code")
			}
		}()
	}
	wg.Wait()
	if n := countEvents(e, domain.TypeKeyIssued) - before; n != 0 {
		t.Fatalf("6 copies of one approval issued %d keys before an exchange, want none", n)
	}
	for i, c := range codes {
		if c == "" {
			t.Fatalf("copy %d led to no code", i)
		}
	}
	keys := make([]string, len(codes))
	for i, code := range codes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			base := e.srv.URL
			if i%2 == 0 {
				base = other.srv.URL
			}
			body := strings.NewReader(`{"code":"` + code + `","code_verifier":"` + verifier + `"}`)
			resp, err := http.Post(base+"/api/v1/auth/keys", "application/json", body)
			if err != nil {
				t.Error(err)
				return
			}
			defer resp.Body.Close()
			var out map[string]any
			_ = json.NewDecoder(resp.Body).Decode(&out)
			if k, _ := out["key"].(string); resp.StatusCode == http.StatusOK {
				keys[i] = k
			} else if resp.StatusCode != http.StatusForbidden {
				t.Errorf("exchange %d: %d %v, want 200 or 403", i, resp.StatusCode, out)
			}
		}()
	}
	wg.Wait()
	key := ""
	for _, k := range keys {
		if k != "" && key != "" {
			t.Fatalf("two exchanges of one approval's codes gave keys")
		}
		if k != "" {
			key = k
		}
	}
	if !strings.HasPrefix(key, commands.KeyPrefix) {
		t.Fatalf("no exchange of the approval's codes gave its key")
	}
	if n := countEvents(e, domain.TypeKeyIssued) - before; n != 1 {
		t.Fatalf("exchanges of one approval's codes issued %d keys, want 1", n)
	}
	e.sync()
	if k, ok := e.models.Keys.Lookup(commands.HashKey(key)); !ok || k.Name != "app.example" {
		t.Fatalf("the key given is not the app's: %+v", k)
	}
	// Redis holds neither the key nor the form's one-time token in clear.
	keys, err := other.rdb.Keys(e.ctx, other.prefix+"*").Result()
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		val, _ := other.rdb.Get(e.ctx, k).Result()
		if strings.Contains(k+val, key) || strings.Contains(k+val, v.Get("once")) {
			t.Errorf("Redis keeps the key or the form's token in clear under %s", k)
		}
	}
}

// keyEvents counts the stored key.issued and key.revoked events.
func keyEvents(e *env) (issued, revoked int) {
	return countEvents(e, domain.TypeKeyIssued), countEvents(e, domain.TypeKeyRevoked)
}

// An approval makes nothing usable: the key exists once the app exchanged
// its code, not before. A code never exchanged (the app crashed, or was
// slower than 10 minutes) leaves no key behind, and the key the exchange
// issues records who approved it.
func TestAuthKeyExistsOnlyOnceTheAppExchangedItsCode(t *testing.T) {
	e := newEnv(t, false)
	b := e.browser()
	b.signIn(pkceOwner(e, "acct_pkce"))
	owner := e.models.Keys.ByAccount("acct_pkce")[0].KeyID
	issued, revoked := keyEvents(e)

	// Approved, never exchanged: nothing issued, nothing listed, even
	// once the code has expired.
	_, challenge := pkcePair(t)
	b.decide(authURL("https://crashed.example/cb", challenge, "S256"), "approve")
	e.sync()
	if i, r := keyEvents(e); i != issued || r != revoked {
		t.Fatalf("an approval alone wrote %d key.issued and %d key.revoked events, want none", i-issued, r-revoked)
	}
	if k := appKeys(e, "acct_pkce", "crashed.example"); len(k) != 0 {
		t.Fatalf("an approval alone lists %d keys of the app, want none: %+v", len(k), k)
	}
	e.clock.mu.Lock()
	e.clock.t = e.clock.t.Add(authCodeLife + time.Second)
	e.clock.mu.Unlock()
	if k := appKeys(e, "acct_pkce", "crashed.example"); len(k) != 0 {
		t.Fatalf("a code never exchanged left %d keys: %+v", len(k), k)
	}

	// Exchanged: one key, issued by the approving key.
	verifier, challenge := pkcePair(t)
	code := b.decide(authURL("https://app.example/cb", challenge, "S256"), "approve").Query().Get("code")
	if i, _ := keyEvents(e); i != issued {
		t.Fatalf("an approval issued %d keys before the exchange", i-issued)
	}
	status, out := e.exchange(code, verifier, "S256")
	key, _ := out["key"].(string)
	if status != http.StatusOK || !strings.HasPrefix(key, commands.KeyPrefix) {
		t.Fatalf("exchange: %d %v", status, out)
	}
	e.sync()
	k, ok := e.models.Keys.Lookup(commands.HashKey(key))
	if !ok || k.Revoked || k.Name != "app.example" {
		t.Fatalf("the key given: %+v (found %v)", k, ok)
	}
	if i, r := keyEvents(e); i != issued+1 || r != revoked {
		t.Fatalf("%d keys issued and %d revoked, want 1 and 0", i-issued, r-revoked)
	}
	evs, err := e.store.ReadAll(e.ctx, eventstore.Start, 100000)
	if err != nil {
		t.Fatal(err)
	}
	var by domain.Actor
	for _, ev := range evs {
		if a := commands.Audited(&ev); ev.Type == domain.TypeKeyIssued && strings.Contains(string(ev.Data), k.KeyID) && a.Actor != nil {
			by = *a.Actor
		}
	}
	if by.Kind != domain.ActorKey || by.ID != owner {
		t.Errorf("the app's key.issued names %v as its actor, want the approving key %s", by, owner)
	}
}

// Deny after approve (the same page's other button, or the page again by
// the back button) is the user's last word: the codes of the approvals
// before it give nothing, and no key is left behind. Approving again
// afterwards is a new approval whose code works.
func TestAuthDenyAfterApproveVoidsTheApproval(t *testing.T) {
	e := newEnv(t, false)
	b := e.browser()
	b.signIn(pkceOwner(e, "acct_pkce"))
	verifier, challenge := pkcePair(t)
	path := authURL("https://app.example/cb?state=s1", challenge, "S256")
	issued, _ := keyEvents(e)

	// The same page: approve, then deny with the same form.
	v := b.approveForm(path)
	samePage := b.approve(v)
	v.Set("decision", "deny")
	resp, _ := b.post("/auth", v)
	to, _ := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusSeeOther || to == nil || to.Query().Get("error") != "access_denied" || to.Query().Get("state") != "s1" {
		t.Fatalf("deny after approve on the same page: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	// The page again (the back button reloads it): approve, then deny
	// on the page reloaded once more.
	backButton := b.approve(b.approveForm(path))
	if to := b.decide(path, "deny"); to.Query().Get("error") != "access_denied" {
		t.Fatalf("deny led to %s", to)
	}
	for name, code := range map[string]string{"same page": samePage, "back button": backButton} {
		if status, out := e.exchange(code, verifier, "S256"); status != http.StatusForbidden || out["key"] != nil {
			t.Errorf("%s: the code of an approval denied afterwards: %d %v, want 403 and no key", name, status, out)
		}
	}
	e.sync()
	if i, _ := keyEvents(e); i != issued {
		t.Fatalf("approvals denied afterwards issued %d keys", i-issued)
	}
	if k := appKeys(e, "acct_pkce", "app.example"); len(k) != 0 {
		t.Fatalf("approvals denied afterwards left keys: %+v", k)
	}

	// The user changes their mind again: a new approval works.
	code := b.approve(b.approveForm(path))
	if status, out := e.exchange(code, verifier, "S256"); status != http.StatusOK {
		t.Fatalf("approving after a deny: %d %v", status, out)
	}
	if i, _ := keyEvents(e); i != issued+1 {
		t.Fatalf("%d keys issued, want 1", i-issued)
	}
}

// The callback's own query (an app's state, its page's parameters) is
// kept as the app wrote it when the code or the error is added, as OAuth
// 2.0 requires (RFC 6749, 3.1.2); a code or error of the app's own is
// replaced rather than repeated, so that the app reads ours; characters a
// URL may not carry are escaped rather than sent raw.
func TestAuthCallbackKeepsTheAppsQuery(t *testing.T) {
	e := newEnv(t, false)
	b := e.browser()
	b.signIn(pkceOwner(e, "acct_pkce"))
	_, challenge := pkcePair(t)
	for _, c := range []struct{ callback, kept string }{
		{"https://app.example/cb?state=a%2Fb+c&x=1", "state=a%2Fb+c&x=1"},
		{"https://app.example/cb?", ""},
		{"https://app.example/cb?code=stale&state=s&error=old", "state=s"},
		{"https://app.example/cb?x=a b&y=\"<>\"", "x=a%20b&y=%22%3C%3E%22"},
	} {
		for _, decision := range []string{"approve", "deny"} {
			to := b.decide(authURL(c.callback, challenge, "S256"), decision)
			added := "error=access_denied"
			if decision == "approve" {
				added = "code=" + url.QueryEscape(to.Query().Get("code"))
			}
			want := added
			if c.kept != "" {
				want = c.kept + "&" + added
			}
			if to.Host != "app.example" || to.Path != "/cb" || to.RawQuery != want || len(to.Query()["code"])+len(to.Query()["error"]) != 1 {
				t.Errorf("%s with callback %q led to %s, want the query %q", decision, c.callback, to, want)
			}
		}
	}
}

// /auth's refusals read in the page's language, each saying what is wrong
// with the app's request rather than a general text.
func TestAuthRefusalsInThePagesLanguage(t *testing.T) {
	e := newEnv(t, false)
	b := e.browser()
	b.signIn(pkceOwner(e, "acct_pkce"))
	_, challenge := pkcePair(t)
	for _, c := range []struct {
		path   string
		zh, en string
	}{
		{"/auth", "callback_url", "callback_url is required"},
		{authURL("https://app.example/"+strings.Repeat("a", maxCallbackLen), challenge, "S256"), "2048", "longer than 2048 bytes"},
		{authURL("https://app.example/cb#/done", challenge, "S256"), "片段", "fragment"},
		{authURL("javascript:alert(1)//", challenge, "S256"), "https", "must be https"},
		{authURL("ftp://app.example/cb", challenge, "S256"), "https", "must be https"},
		{authURL("http://app.example/cb", challenge, "S256"), "localhost", "http only to localhost"},
		{authURL("https://app.example:99999/cb", challenge, "S256"), "https", "https URL"},
		{authURL("https://app.example/cb", "", "S256"), "code_challenge_method", "without a code_challenge"},
		{authURL("https://app.example/cb", challenge, "S512"), "S256", "must be S256 or plain"},
		{authURL("https://app.example/cb", challenge[:42], "S256"), "43", "43 characters"},
		{authURL("https://app.example/cb", challenge+"=", "S256"), "43", "43 characters"},
		{authURL("https://app.example/cb", strings.Repeat("a", 257), "plain"), "256", "1 to 256"},
		{authURL("https://app.example/cb", "not plain!", "plain"), "256", "1 to 256"},
	} {
		for lang, says := range map[string]string{"zh-TW": c.zh, "en": c.en} {
			resp, page := b.get(c.path + "&lang=" + lang)
			if c.path == "/auth" {
				resp, page = b.get(c.path + "?lang=" + lang)
			}
			if resp.StatusCode != http.StatusBadRequest {
				t.Errorf("%s (%s): %d, want 400", c.path[:min(len(c.path), 80)], lang, resp.StatusCode)
				continue
			}
			msg, untranslated := errorOf(t, page)
			if untranslated || !strings.Contains(msg, says) {
				t.Errorf("%s (%s): %d %q (general text: %v), want it to say %q", c.path[:min(len(c.path), 80)], lang, resp.StatusCode, msg, untranslated, says)
			}
			if lang == "zh-TW" && strings.Contains(msg, " must ") {
				t.Errorf("%s: the zh-TW page reads in English: %q", c.path[:min(len(c.path), 80)], msg)
			}
		}
	}
	// The form's own refusals too.
	v := b.approveForm(authURL("https://app.example/cb", challenge, "S256"))
	v.Set("decision", "maybe")
	for lang, says := range map[string]string{"zh-TW": "核准", "en": "approve or deny"} {
		b.get(authURL("https://app.example/cb", challenge, "S256") + "&lang=" + lang) // the language kept for the form
		resp, page := b.post("/auth", v)
		msg, untranslated := errorOf(t, page)
		if resp.StatusCode != http.StatusBadRequest || untranslated || !strings.Contains(msg, says) {
			t.Errorf("decision maybe (%s): %d %q (general text: %v), want %q", lang, resp.StatusCode, msg, untranslated, says)
		}
	}
}

// When the approvals cannot be kept (their Redis is gone), approving and
// denying say so in the page's language, and nothing is sent to the app.
func TestAuthUnavailableInThePagesLanguage(t *testing.T) {
	e := newEnv(t, false)
	b := e.browser()
	b.signIn(pkceOwner(e, "acct_pkce"))
	_, challenge := pkcePair(t)
	path := authURL("https://app.example/cb", challenge, "S256")
	rdb, prefix := testenv.Redis(t)
	_ = rdb.Close()
	e.deps.Auth.approvals = &redisGrants{rdb: rdb, prefix: prefix, name: "authapproval"}
	for _, c := range []struct{ decision, zh, en string }{
		{"approve", "目前無法保存核准", "cannot be kept right now"},
		{"deny", "目前無法記錄您的拒絕", "could not be recorded right now"},
	} {
		for lang, says := range map[string]string{"zh-TW": c.zh, "en": c.en} {
			v := b.approveForm(path + "&lang=" + lang)
			v.Set("decision", c.decision)
			resp, page := b.post("/auth", v)
			if resp.StatusCode != http.StatusServiceUnavailable {
				t.Errorf("%s (%s) without Redis: %d to %q, want 503", c.decision, lang, resp.StatusCode, resp.Header.Get("Location"))
				continue
			}
			if msg, untranslated := errorOf(t, page); untranslated || !strings.Contains(msg, says) {
				t.Errorf("%s (%s) without Redis: %q (general text: %v), want %q", c.decision, lang, msg, untranslated, says)
			}
		}
	}
}

// A key is issued by the exchange as the approving key: a key revoked
// between the approval and the exchange, or an account suspended in
// between, gets the app nothing.
func TestAuthExchangeAfterTheApproverWasRevokedIssuesNothing(t *testing.T) {
	e := newEnv(t, false)
	b := e.browser()
	b.signIn(pkceOwner(e, "acct_pkce"))
	owner := e.models.Keys.ByAccount("acct_pkce")[0].KeyID
	verifier, challenge := pkcePair(t)
	code := b.decide(authURL("https://app.example/cb", challenge, "S256"), "approve").Query().Get("code")
	if err := e.cmds.RevokeKey(e.ctx, owner); err != nil {
		t.Fatal(err)
	}
	e.sync()
	before := countEvents(e, domain.TypeKeyIssued)
	status, out := e.exchange(code, verifier, "S256")
	if msg := fmt.Sprint(out["message"]); status != http.StatusForbidden || out["key"] != nil || !strings.HasPrefix(msg, "Invalid code or code_verifier") {
		t.Fatalf("exchange after the approving key was revoked: %d %v, want 403", status, out)
	}
	if n := countEvents(e, domain.TypeKeyIssued) - before; n != 0 {
		t.Fatalf("%d keys issued for a revoked key's approval", n)
	}
}

// An app may ask, as OpenRouter's /auth and its SDK's authorization URL
// take it, for a key with a spending limit (limit): the page shows it and
// the key has it, within the approving key's own, never more. It was
// dropped: the app got a key without the limit it asked for.
func TestAuthLimitIsTheKeysSpendingLimit(t *testing.T) {
	e := newEnv(t, false)
	owner := pkceOwner(e, "acct_pkce")
	for _, c := range []struct {
		bounded             bool // approved by a management key limited to NT$3 a week
		limit, want, period string
	}{
		// The limit an app asks for never resets, as OpenRouter's: a total
		// for the key's life, within any period of the approving key's own.
		{false, "5.5", "5.5", "never"},
		{true, "2", "2", "never"},
		{true, "5", "3", "never"},
	} {
		by := owner
		if c.bounded {
			var err error
			if _, by, err = e.cmds.IssueKey(e.ctx, domain.KeyIssued{AccountID: "acct_pkce", Name: "bounded", Management: true,
				SpendLimit: decimal.NewFromInt(3), SpendPeriod: "weekly"}); err != nil {
				t.Fatal(err)
			}
			e.sync()
		}
		b := e.browser()
		b.signIn(by)
		verifier, challenge := pkcePair(t)
		q := url.Values{"callback_url": {"https://app.example/cb"}, "code_challenge": {challenge}, "code_challenge_method": {"S256"}, "limit": {c.limit}}
		path := "/auth?" + q.Encode()
		_, page := b.get(path)
		if got := strings.TrimSpace(textOf(t, page, "auth-limit")); !strings.HasPrefix(got, money(decimal.RequireFromString(c.want))+" ") || strings.Count(got, "NT$") != 1 {
			t.Errorf("limit %s: the page shows %q, want %s", c.limit, got, money(decimal.RequireFromString(c.want)))
		}
		code := b.decide(path, "approve").Query().Get("code")
		status, out := e.exchange(code, verifier, "S256")
		key, _ := out["key"].(string)
		if status != http.StatusOK {
			t.Fatalf("limit %s: exchange %d %v", c.limit, status, out)
		}
		e.sync()
		k, _ := e.models.Keys.Lookup(commands.HashKey(key))
		if !k.SpendLimit.Equal(decimal.RequireFromString(c.want)) || k.SpendPeriod != c.period {
			t.Errorf("limit %s asked (approver bounded: %v): the key has %v %s, want %s %s", c.limit, c.bounded, k.SpendLimit, k.SpendPeriod, c.want, c.period)
		}
	}
	b := e.browser()
	b.signIn(owner)
	_, challenge := pkcePair(t)
	for _, bad := range []string{"0", "-1", "abc", "1.234", "1e3", "NaN", " 5"} {
		q := url.Values{"callback_url": {"https://app.example/cb"}, "code_challenge": {challenge}, "code_challenge_method": {"S256"}, "limit": {bad}}
		if resp, page := b.get("/auth?" + q.Encode()); resp.StatusCode != http.StatusBadRequest || !strings.Contains(page, "limit") {
			t.Errorf("limit %q: %d, want a 400 page naming limit", bad, resp.StatusCode)
		}
	}
}
