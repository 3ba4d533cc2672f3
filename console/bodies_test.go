package console

import (
	"net/http"
	"strings"
	"testing"

	"github.com/routefree/routefree/domain"
)

// postRaw sends body as it is written: a JSON encoder would never repeat a
// key or append anything after the value.
func (e *env) postRaw(method, path, bearer, body string) (int, string) {
	e.t.Helper()
	code, b := e.send(method, path, bearer, strings.NewReader(body))
	return code, string(b)
}

// A body the API reads one way and a proxy, a log or a reviewer another is
// refused: a key given twice (in any letter case, as the decoder matches
// fields), or anything after the JSON value. Nothing is recorded.
func TestAPIBodiesSayOneThing(t *testing.T) {
	e := newEnv(t, false)
	e.openAccount("acct_a", "甲公司", domain.PlanStarter)
	_, mgmt, err := e.cmds.IssueKey(e.ctx, domain.KeyIssued{AccountID: "acct_a", Name: "owner", Management: true})
	if err != nil {
		t.Fatal(err)
	}
	e.sync()
	cases := []struct{ name, who, method, path, body string }{
		{"top-up amount twice", e.finance, "POST", "/admin/api/accounts/acct_a/topups",
			`{"amount":"1000","method":"bank-transfer","reference":"TX-1","amount":"999999"}`},
		{"top-up amount twice in another case", e.finance, "POST", "/admin/api/accounts/acct_a/topups",
			`{"amount":"1000","method":"bank-transfer","reference":"TX-2","AMOUNT":"999999"}`},
		{"top-up amount twice, escaped", e.finance, "POST", "/admin/api/accounts/acct_a/topups",
			`{"amount":"1000","method":"bank-transfer","reference":"TX-3","\u0061mount":"999999"}`},
		{"top-up with a trailing value", e.finance, "POST", "/admin/api/accounts/acct_a/topups",
			`{"amount":"1000","method":"bank-transfer","reference":"TX-4"} {"amount":"5"}`},
		{"top-up with trailing text", e.finance, "POST", "/admin/api/accounts/acct_a/topups",
			`{"amount":"1000","method":"bank-transfer","reference":"TX-5"} trailing`},
		{"adjustment amount twice", e.finance, "POST", "/admin/api/accounts/acct_a/adjustments",
			`{"amount":"10","reason":"r","amount":"-10"}`},
		{"a price given twice", e.admin, "POST", "/admin/api/prices",
			`{"prices":{"routefree/echo":{"input":"1","output":"2","input":"100"}}}`},
		{"a model priced twice", e.admin, "POST", "/admin/api/prices",
			`{"prices":{"routefree/echo":{"input":"1","output":"2"},"routefree/echo":{"input":"100","output":"200"}}}`},
		{"key name twice", mgmt, "POST", "/admin/api/accounts/acct_a/keys", `{"name":"a","name":"b"}`},
		{"OpenRouter key limit twice", mgmt, "POST", "/api/v1/keys", `{"name":"a","limit":1,"limit":null}`},
	}
	before := len(e.allEvents())
	for _, c := range cases {
		code, body := e.postRaw(c.method, c.path, c.who, c.body)
		if code != http.StatusBadRequest || !strings.Contains(body, "given twice") && !strings.Contains(body, "follows the JSON value") {
			t.Errorf("%s: %d %s, want 400 naming the repeated key or what follows", c.name, code, body)
		}
	}
	if n := len(e.allEvents()) - before; n != 0 {
		t.Errorf("refused bodies recorded %d events", n)
	}
	// Distinct keys, whitespace after the value and nested objects that
	// reuse a name are one body.
	if code, body := e.postRaw("POST", "/admin/api/accounts/acct_a/topups", e.finance,
		"{\"amount\":\"1000\",\"method\":\"bank-transfer\",\"reference\":\"TX-6\"}\n\t "); code != http.StatusCreated {
		t.Fatalf("a plain top-up: %d %s", code, body)
	}
	if code, body := e.postRaw("POST", "/admin/api/prices", e.admin,
		`{"prices":{"routefree/echo":{"input":"1","output":"2"},"routefree/echo-embedding":{"input":"1","output":"0"}}}`); code != http.StatusCreated {
		t.Fatalf("two models' prices: %d %s", code, body)
	}
}
