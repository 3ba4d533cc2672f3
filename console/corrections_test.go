package console

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/routefree/routefree/commands"
	"github.com/routefree/routefree/domain"
)

// wantAPI checks a status and that the body says why.
func wantAPI(t *testing.T, code int, body []byte, status int, says string) {
	t.Helper()
	if code != status || !strings.Contains(string(body), says) {
		t.Fatalf("got %d %s, want %d saying %q", code, body, status, says)
	}
}

func (e *env) whoami(secret string) string {
	e.t.Helper()
	_, b := e.call("GET", "/admin/api/whoami", secret, nil)
	var w struct {
		TokenID string `json:"token_id"`
	}
	json.Unmarshal(b, &w)
	return w.TokenID
}

// auditEvents reads the whole log through the auditor's API.
func (e *env) auditEvents() []commands.AuditedEvent {
	e.t.Helper()
	code, b := e.call("GET", "/admin/api/audit/events?limit=1000", e.auditor, nil)
	var out struct {
		Data []commands.AuditedEvent `json:"data"`
	}
	if code != http.StatusOK || json.Unmarshal(b, &out) != nil {
		e.t.Fatalf("audit events: %d %s", code, b)
	}
	return out.Data
}

func TestAPICorrectionsNameTheStaffWhoMadeThem(t *testing.T) {
	e := newEnv(t, false)
	e.openAccount("acct_r", "復原公司", domain.PlanStarter)
	_, secret := e.issueKey("acct_r")
	hash := commands.HashKey(secret)
	admin, finance := e.whoami(e.admin), e.whoami(e.finance)

	code, body := e.call("POST", "/admin/api/accounts/acct_r/resume", e.admin, map[string]any{"reason": "x"})
	wantAPI(t, code, body, http.StatusConflict, "is not suspended")
	// A suspension needs a reason, as a resumption does.
	for _, in := range []map[string]any{{}, {"reason": " "}} {
		code, body = e.call("POST", "/admin/api/accounts/acct_r/suspend", e.admin, in)
		wantAPI(t, code, body, http.StatusBadRequest, "suspending an account needs a reason")
	}
	if k, _ := e.models.Keys.Lookup(hash); k.Suspended {
		t.Fatal("suspended without a reason")
	}
	if code, body := e.call("POST", "/admin/api/accounts/acct_r/suspend", e.admin, map[string]any{"reason": "chargeback"}); code != 200 {
		t.Fatalf("suspend: %d %s", code, body)
	}
	if k, _ := e.models.Keys.Lookup(hash); !k.Suspended {
		t.Fatal("the key of a suspended account works")
	}
	code, body = e.call("POST", "/admin/api/accounts/acct_r/resume", e.finance, map[string]any{"reason": "paid"})
	wantAPI(t, code, body, http.StatusForbidden, "role")
	code, body = e.call("POST", "/admin/api/accounts/acct_r/resume", e.admin, map[string]any{"reason": " "})
	wantAPI(t, code, body, http.StatusBadRequest, "needs a reason")
	code, body = e.call("POST", "/admin/api/accounts/acct_r/resume", e.admin, map[string]any{"reason": "chargeback withdrawn"})
	wantAPI(t, code, body, http.StatusOK, `"suspended":false`)
	if k, _ := e.models.Keys.Lookup(hash); k.Suspended {
		t.Fatal("the key of a resumed account is still refused")
	}

	// Adjustments: finance's, both ways, with a reason.
	code, body = e.call("POST", "/admin/api/accounts/acct_r/adjustments", e.admin, map[string]any{"amount": "10", "reason": "x"})
	wantAPI(t, code, body, http.StatusForbidden, "role")
	code, body = e.call("POST", "/admin/api/accounts/acct_r/adjustments", e.finance, map[string]any{"amount": "10"})
	wantAPI(t, code, body, http.StatusBadRequest, "a reason")
	code, body = e.call("POST", "/admin/api/accounts/acct_r/adjustments", e.finance, map[string]any{"amount": "250", "reason": "goodwill"})
	wantAPI(t, code, body, http.StatusCreated, `"balance":"250"`)
	code, body = e.call("POST", "/admin/api/accounts/acct_r/adjustments", e.finance, map[string]any{"amount": "-0.5", "reason": "rounding"})
	wantAPI(t, code, body, http.StatusCreated, `"balance":"249.5"`)

	// Top-ups: whole dollars, bounded.
	topUp := func(amount string) (int, []byte) {
		return e.call("POST", "/admin/api/accounts/acct_r/topups", e.finance,
			map[string]any{"amount": amount, "method": domain.MethodBankTransfer, "reference": "TX-" + amount})
	}
	code, body = topUp("1000000000000000000")
	wantAPI(t, code, body, http.StatusBadRequest, "at most NT$1000000")
	code, body = topUp("0.001")
	wantAPI(t, code, body, http.StatusBadRequest, "whole number of New Taiwan dollars")

	// The last admin token stays.
	code, body = e.call("POST", "/admin/api/staff/tokens/"+admin+"/revoke", e.admin, nil)
	wantAPI(t, code, body, http.StatusConflict, "last admin token")

	// The audit log names who did each.
	want := map[string]domain.Actor{
		domain.TypeAccountSuspended: {Kind: domain.ActorStaff, ID: admin, Role: "admin"},
		domain.TypeAccountResumed:   {Kind: domain.ActorStaff, ID: admin, Role: "admin"},
		domain.TypeCreditsAdjusted:  {Kind: domain.ActorStaff, ID: finance, Role: "finance"},
	}
	seen := 0
	for _, ev := range e.auditEvents() {
		if ev.Actor == nil {
			t.Fatalf("%s at %s has no actor in the audit log", ev.Type, ev.Position)
		}
		if w, ok := want[ev.Type]; ok {
			seen++
			if *ev.Actor != w {
				t.Errorf("%s: actor %+v, want %+v", ev.Type, *ev.Actor, w)
			}
		}
	}
	if seen != 4 { // suspended, resumed, two adjustments
		t.Fatalf("%d corrections in the log, want 4", seen)
	}
	// The auditor's page shows them too.
	page := e.browser()
	page.signIn(e.auditor)
	_, html := page.get("/console/audit?type=" + domain.TypeAccountResumed)
	if !strings.Contains(html, "staff:"+admin+" (admin)") {
		t.Fatalf("the audit page does not name the actor:\n%s", html)
	}
	// Each reason is shown with its event, the suspension's as the resumption's.
	for typ, reason := range map[string]string{domain.TypeAccountSuspended: "chargeback", domain.TypeAccountResumed: "chargeback withdrawn"} {
		_, html := page.get("/console/audit?type=" + typ)
		if !strings.Contains(html, `&#34;reason&#34;:&#34;`+reason+`&#34;`) {
			t.Fatalf("the audit page does not show the reason %q of %s", reason, typ)
		}
	}
}

// A one-model publication amends the list; a replacement says what it
// drops; neither takes effect in the past; /models offers only priced models.
func TestAPIPricePublicationAmendsOrReplaces(t *testing.T) {
	e := newEnv(t, false)
	_, before, _ := e.models.Prices.At(testNow)
	if len(before) < 3 {
		t.Fatalf("the catalog's list has %d models", len(before))
	}
	var one, two string
	for m := range before {
		if one == "" {
			one = m
		} else if two == "" && m != one {
			two = m
		}
	}
	price := map[string]any{"input": "1", "output": "2", "cached_input": "0.5"}
	code, body := e.call("POST", "/admin/api/prices", e.admin, map[string]any{"prices": map[string]any{one: price}})
	wantAPI(t, code, body, http.StatusCreated, `"models":`+jsonInt(len(before)))
	e.sync()
	_, after, _ := e.models.Prices.At(testNow.Add(time.Second))
	if len(after) != len(before) || !after[one].Input.Equal(mustDec("1")) || !after[two].Input.Equal(before[two].Input) {
		t.Fatalf("amend: %d models (was %d), %s at %s", len(after), len(before), one, after[one].Input)
	}
	code, body = e.call("POST", "/admin/api/prices", e.admin, map[string]any{"prices": map[string]any{one: price},
		"effective_at": testNow.Add(-time.Hour)})
	wantAPI(t, code, body, http.StatusBadRequest, "is in the past")

	code, body = e.call("POST", "/admin/api/prices", e.admin, map[string]any{"prices": map[string]any{one: price}, "replace": true})
	wantAPI(t, code, body, http.StatusCreated, two)
	e.sync()
	// /models lists the one priced model, never the others at 0.
	b := e.browser()
	_, html := b.get("/models")
	if !strings.Contains(html, one) || strings.Contains(html, two) {
		t.Fatalf("/models after a replacement pricing only %s:\n%s", one, html)
	}
}

func jsonInt(n int) string { b, _ := json.Marshal(n); return string(b) }

// The console's forms: finance adjusts a balance, an admin resumes a
// suspended account; a refusal changes nothing.
func TestConsoleCorrectionForms(t *testing.T) {
	e := newEnv(t, false)
	e.openAccount("acct_f", "表單公司", domain.PlanStarter)
	fin := e.browser()
	csrf := fin.signIn(e.finance)
	if _, page := fin.get("/console/accounts/acct_f"); !strings.Contains(page, `id="adjust-form"`) {
		t.Fatal("finance sees no adjustment form")
	}
	resp, _ := fin.post("/console/accounts/acct_f/adjustments", url.Values{"csrf": {csrf}, "amount": {"75"}, "reason": {""}})
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("adjustment without a reason: %d", resp.StatusCode)
	}
	balance := func() decimal.Decimal {
		v, _ := e.models.Balances.View("acct_f", "", e.clock.Now())
		return v.Balance
	}
	if code, _ := askFirst(t, fin, csrf, "/console/accounts/acct_f/adjustments", url.Values{"amount": {"75"}, "reason": {"goodwill"}},
		func() bool { return balance().IsZero() }); code != http.StatusSeeOther {
		t.Fatalf("adjustment: %d", code)
	}
	if v, _ := e.models.Balances.View("acct_f", "", e.clock.Now()); !v.Balance.Equal(mustDec("75")) {
		t.Fatalf("balance after the adjustment %s, want 75", v.Balance)
	}
	if _, page := fin.get("/console/accounts/acct_f"); !strings.Contains(page, "goodwill") {
		t.Fatal("the adjustment's reason is not listed")
	}

	adm := e.browser()
	csrf = adm.signIn(e.admin)
	// The suspend form asks for its reason as the resume form does, and a
	// suspension without one is refused before the confirmation step.
	_, page := adm.get("/console/accounts/acct_f?lang=en")
	requiredReason := false
	for _, in := range elements(t, page, "input", "required") {
		requiredReason = requiredReason || in["id"] == "suspend-reason" && in["name"] == "reason"
	}
	if !requiredReason {
		t.Fatal("the suspend form's reason is not required")
	}
	for _, confirm := range []string{"", "yes"} {
		resp, page := adm.post("/console/accounts/acct_f/suspend", url.Values{"csrf": {csrf}, "reason": {" "}, "confirm": {confirm}})
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(page, "Suspending an account needs a reason.") || strings.Contains(page, `id="confirm-step"`) {
			t.Fatalf("suspend without a reason (confirm %q): %d\n%s", confirm, resp.StatusCode, visibleText(t, page))
		}
	}
	if v, _ := e.models.Balances.View("acct_f", "", e.clock.Now()); v.Suspended {
		t.Fatal("suspended without a reason")
	}
	// The confirmation step shows the reason it will record.
	if _, ask := adm.post("/console/accounts/acct_f/suspend", url.Values{"csrf": {csrf}, "reason": {"unpaid invoices"}}); !strings.Contains(visibleText(t, ask), "unpaid invoices") {
		t.Fatalf("the confirmation step does not show the reason: %q", visibleText(t, ask))
	}
	if resp, _ := adm.post("/console/accounts/acct_f/suspend", url.Values{"csrf": {csrf}, "reason": {"test"}, "confirm": {"yes"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("suspend: %d", resp.StatusCode)
	}
	_, page = adm.get("/console/accounts/acct_f")
	if !strings.Contains(page, `id="resume-form"`) || strings.Contains(page, `id="suspend-form"`) {
		t.Fatal("a suspended account's page offers no resume form")
	}
	if resp, _ := adm.post("/console/accounts/acct_f/resume", url.Values{"csrf": {csrf}, "reason": {"settled"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("resume: %d", resp.StatusCode)
	}
	if v, _ := e.models.Balances.View("acct_f", "", e.clock.Now()); v.Suspended {
		t.Fatal("still suspended after the resume form")
	}
}

// A finance system that retries POST /admin/api/accounts/{id}/adjustments
// after losing the answer credited the account twice. With an
// Idempotency-Key, the same request sent again records nothing more;
// another key, or none, records another adjustment, and a key longer than
// 200 characters is refused.
func TestAdjustmentRetriedWithItsIdempotencyKeyCreditsOnce(t *testing.T) {
	e := newEnv(t, false)
	e.openAccount("acct_idem", "冪等公司", domain.PlanStarter)
	adjust := func(key string) (int, []byte) {
		t.Helper()
		req, _ := http.NewRequest("POST", e.srv.URL+"/admin/api/accounts/acct_idem/adjustments",
			strings.NewReader(`{"amount":"100","reason":"goodwill"}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+e.finance)
		if key != "" {
			req.Header.Set("Idempotency-Key", key)
		}
		resp, err := e.srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, b
	}
	code, body := adjust("adj-2026-12-0001")
	wantAPI(t, code, body, http.StatusCreated, `"balance":"100"`)
	code, body = adjust("adj-2026-12-0001") // the retry
	wantAPI(t, code, body, http.StatusCreated, `"balance":"100"`)
	code, body = adjust("adj-2026-12-0002")
	wantAPI(t, code, body, http.StatusCreated, `"balance":"200"`)
	code, body = adjust("")
	wantAPI(t, code, body, http.StatusCreated, `"balance":"300"`)
	code, body = adjust(strings.Repeat("k", 201))
	wantAPI(t, code, body, http.StatusBadRequest, "Idempotency-Key")
	if b := e.models.Balances.Balances()["acct_idem"]; !b.Equal(decimal.NewFromInt(300)) {
		t.Fatalf("balance %s, want 300", b)
	}
}

// An Idempotency-Key sent again with another adjustment (another amount,
// reason or description: a script numbering its keys by ticket, a key
// reused by mistake) answered 201 with the first adjustment's balance and
// recorded nothing, so the adjustment meant was lost while the caller was
// told it was made. It is a 409 naming the adjustment the key recorded.
func TestAnIdempotencyKeyReusedForAnotherAdjustmentIsAConflict(t *testing.T) {
	e := newEnv(t, false)
	e.openAccount("acct_idem", "冪等公司", domain.PlanStarter)
	adjust := func(body string) (int, []byte) {
		t.Helper()
		req, _ := http.NewRequest("POST", e.srv.URL+"/admin/api/accounts/acct_idem/adjustments", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+e.finance)
		req.Header.Set("Idempotency-Key", "TICKET-7")
		resp, err := e.srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, b
	}
	code, body := adjust(`{"amount":"100","reason":"goodwill"}`)
	wantAPI(t, code, body, http.StatusCreated, `"balance":"100"`)
	code, body = adjust(`{"amount":"100.00","reason":" goodwill "}`) // the same adjustment, written otherwise
	wantAPI(t, code, body, http.StatusCreated, `"balance":"100"`)
	for _, other := range []string{`{"amount":"250","reason":"goodwill"}`, `{"amount":"100","reason":"refund"}`,
		`{"amount":"100","reason":"goodwill","description":"補償"}`} {
		code, body = adjust(other)
		wantAPI(t, code, body, http.StatusConflict, "TICKET-7")
		if !strings.Contains(string(body), "NT$100") {
			t.Errorf("%s: %s; want the adjustment the key recorded named", other, body)
		}
	}
	e.sync()
	if b := e.models.Balances.Balances()["acct_idem"]; !b.Equal(decimal.NewFromInt(100)) {
		t.Fatalf("balance %s, want 100", b)
	}
}

// Adjustments sent at once under one Idempotency-Key, each with another
// amount, all found the key free: the store kept the first and the others
// were answered 201 though nothing of theirs was recorded. Exactly one is
// recorded and answered 201; each other is a 409.
func TestAdjustmentsSentAtOnceUnderOneKeyRecordOne(t *testing.T) {
	e := newEnv(t, false)
	e.openAccount("acct_race", "同時公司", domain.PlanStarter)
	const n = 8
	codes := make([]int, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, _ := http.NewRequest("POST", e.srv.URL+"/admin/api/accounts/acct_race/adjustments",
				strings.NewReader(fmt.Sprintf(`{"amount":"%d","reason":"race"}`, i+1)))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer "+e.finance)
			req.Header.Set("Idempotency-Key", "RACE-1")
			resp, err := e.srv.Client().Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close()
			codes[i] = resp.StatusCode
		}()
	}
	wg.Wait()
	created := -1
	for i, code := range codes {
		switch {
		case code == http.StatusCreated && created < 0:
			created = i
		case code != http.StatusConflict:
			t.Errorf("adjustment of NT$%d: %d; want one 201 and 409 for the others (%v)", i+1, code, codes)
		}
	}
	e.sync()
	if b := e.models.Balances.Balances()["acct_race"]; created < 0 || !b.Equal(decimal.NewFromInt(int64(created+1))) {
		t.Fatalf("balance %s, answered %v: want the one adjustment answered 201", b, codes)
	}
}
