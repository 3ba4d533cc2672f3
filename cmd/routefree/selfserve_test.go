package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"golang.org/x/net/html"

	"github.com/routefree/routefree/gateway/providers/providertest"
	"github.com/routefree/routefree/invoicing/twrules"
)

// selfServe is a running `routefree serve` on a SQLite store, with a
// loopback upstream for routefree/echo priced at NT$0.1 a token (so that a
// request costs whole cents), the demo account's NT$1,000 of credit and a
// management key of that account.
type selfServe struct {
	t     *testing.T
	p     *proc
	env   []string
	store []string
	owner string // the management key's secret
	demo  string // the demo account's inference key
}

func startSelfServe(t *testing.T) *selfServe {
	t.Helper()
	up := fakeUpstream(t, providertest.Script{Text: "ok"})
	env := baseEnv(up)
	store := []string{"--data-dir", t.TempDir()}
	demo := prepareDemo(t, env, store, 1000, "")
	prices := filepath.Join(t.TempDir(), "prices.json")
	if err := os.WriteFile(prices, []byte(`{"routefree/echo":{"input":"100000","output":"100000"}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	runCLI(t, env, append([]string{"prices", "publish", prices}, store...)...)
	var owner string
	for _, line := range strings.Split(runCLI(t, env, append([]string{"keys", "issue", "--account", "acct_demo", "--name", "owner", "--management"}, store...)...), "\n") {
		if v, ok := strings.CutPrefix(line, "key:"); ok {
			owner = strings.TrimSpace(v)
		}
	}
	if owner == "" {
		t.Fatal("keys issue printed no key")
	}
	return &selfServe{t: t, p: startServe(t, env, store...), env: env, store: store, owner: owner, demo: demo}
}

// do sends a JSON request (body nil: none) with a bearer key and decodes
// the JSON answer into out (when not nil); it returns the status.
func (s *selfServe) do(method, path, bearer string, body any, out any) int {
	s.t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			s.t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, s.p.base+path, rd)
	req.Header.Set("Authorization", "Bearer "+bearer)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := client.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			s.t.Fatalf("%s %s: %s: %v\n%s", method, path, resp.Status, err, b)
		}
	}
	return resp.StatusCode
}

// keyFigures is what GET /api/v1/key says of a key's limit and spending.
type keyFigures struct {
	Limit          *decimal.Decimal `json:"limit"`
	LimitRemaining *decimal.Decimal `json:"limit_remaining"`
	LimitReset     *string          `json:"limit_reset"`
	UsageDaily     decimal.Decimal  `json:"usage_daily"`
	UsageWeekly    decimal.Decimal  `json:"usage_weekly"`
	UsageMonthly   decimal.Decimal  `json:"usage_monthly"`
}

func (s *selfServe) key(secret string) keyFigures {
	s.t.Helper()
	var r struct {
		Data keyFigures `json:"data"`
	}
	if code := s.do(http.MethodGet, "/api/v1/key", secret, nil, &r); code != http.StatusOK {
		s.t.Fatalf("GET /api/v1/key: %d", code)
	}
	return r.Data
}

// A key whose limit moves to a longer period keeps counting what it spent
// in that period: a key that spent NT$x today under a daily limit and is
// then given a monthly limit has the monthly limit less this month's
// spending left, as GET /api/v1/key's usage_monthly says, not the whole
// limit again.
func TestKeyLimitMovedToAnotherPeriodCountsThatPeriodsSpending(t *testing.T) {
	s := startSelfServe(t)
	var created struct {
		Data struct {
			Hash string `json:"hash"`
		} `json:"data"`
		Key string `json:"key"`
	}
	if code := s.do(http.MethodPost, "/api/v1/keys", s.owner, map[string]any{"name": "batch", "limit": 10, "limit_reset": "daily"}, &created); code != http.StatusCreated {
		t.Fatalf("POST /api/v1/keys: %d", code)
	}
	for i := range 2 {
		if o := chat(t.Context(), s.p.base, created.Key, false, 16); o.status != http.StatusOK || !o.cost.IsPositive() {
			t.Fatalf("request %d: %d, cost %s", i, o.status, o.cost)
		}
	}
	if code := s.do(http.MethodPatch, "/api/v1/keys/"+created.Data.Hash, s.owner, map[string]any{"limit_reset": "monthly"}, nil); code != http.StatusOK {
		t.Fatalf("PATCH limit_reset monthly: %d", code)
	}
	k := s.key(created.Key)
	if k.LimitReset == nil || *k.LimitReset != "monthly" || k.Limit == nil || !k.Limit.Equal(decimal.NewFromInt(10)) {
		t.Fatalf("key after the change: %+v", k)
	}
	if want := k.Limit.Sub(k.UsageMonthly); !k.UsageMonthly.IsPositive() || k.LimitRemaining == nil || !k.LimitRemaining.Equal(want) {
		t.Fatalf("monthly limit %s with %s spent this month: limit_remaining %v, want %s", k.Limit, k.UsageMonthly, k.LimitRemaining, want)
	}
	// The gateway admits by the same figure: requests stop once this
	// month's spending reaches the monthly limit.
	for range 10 {
		if o := chat(t.Context(), s.p.base, created.Key, false, 16); o.status != http.StatusOK {
			break
		}
	}
	if k := s.key(created.Key); k.UsageMonthly.GreaterThan(*k.Limit) {
		t.Fatalf("spent %s this month on a monthly limit of %s", k.UsageMonthly, k.Limit)
	}
}

// orError is an error in OpenRouter's shape.
type orError struct {
	Error struct {
		Code     int            `json:"code"`
		Message  string         `json:"message"`
		Metadata map[string]any `json:"metadata"`
	} `json:"error"`
}

// POST /api/v1/keys refuses what OpenRouter's create body asks for and
// RouteFree would not keep, rather than issuing a key that behaves
// otherwise: an expiry in another zone would have been read as some other
// instant, and a misspelt field would have been dropped. Each refusal
// issues no key.
func TestCreatingAKeyRefusesWhatItWouldNotKeep(t *testing.T) {
	s := startSelfServe(t)
	count := func() int {
		var r struct {
			Data []any `json:"data"`
		}
		if code := s.do(http.MethodGet, "/api/v1/keys?include_disabled=true", s.owner, nil, &r); code != http.StatusOK {
			t.Fatalf("GET /api/v1/keys: %d", code)
		}
		return len(r.Data)
	}
	before := count()
	for _, c := range []struct {
		body map[string]any
		says string
	}{
		// An expiry is kept, in UTC as OpenRouter takes it: another zone is
		// refused rather than read as some other instant.
		{map[string]any{"name": "contractor", "limit": 5, "limit_reset": "daily", "expires_at": "2027-12-31T23:59:59+08:00"}, "expires_at"},
		// A misspelt field would have left the key's limit never resetting;
		// PATCH refuses it too.
		{map[string]any{"name": "camel", "limit": 5, "limitReset": "daily"}, "limitReset"},
	} {
		var e orError
		if code := s.do(http.MethodPost, "/api/v1/keys", s.owner, c.body, &e); code != http.StatusBadRequest ||
			e.Error.Code != http.StatusBadRequest || !strings.Contains(e.Error.Message, c.says) || e.Error.Metadata == nil {
			t.Errorf("POST %v: %d %+v, want 400 naming %s", c.body, code, e, c.says)
		}
	}
	if n := count(); n != before {
		t.Fatalf("refused bodies issued %d keys", n-before)
	}
	// OpenRouter's whole create body is taken: the workspace is the account,
	// the creator and BYOK usage are not kept.
	var full struct {
		Data struct {
			LimitReset *string `json:"limit_reset"`
		} `json:"data"`
	}
	if code := s.do(http.MethodPost, "/api/v1/keys", s.owner, map[string]any{"name": "full", "limit": 5, "limit_reset": "weekly",
		"include_byok_in_limit": true, "expires_at": nil, "workspace_id": "acct_demo", "creator_user_id": nil}, &full); code != http.StatusCreated ||
		full.Data.LimitReset == nil || *full.Data.LimitReset != "weekly" {
		t.Fatalf("POST with OpenRouter's whole body: %d %+v", code, full.Data)
	}
	// Left out, the limit never resets (limit_reset null, as OpenRouter's)
	// and there is no expiry; an explicit null expiry is no expiry.
	var created struct {
		Data struct {
			LimitReset *string `json:"limit_reset"`
			ExpiresAt  *string `json:"expires_at"`
		} `json:"data"`
	}
	if code := s.do(http.MethodPost, "/api/v1/keys", s.owner, map[string]any{"name": "plain", "limit": 5, "expires_at": nil}, &created); code != http.StatusCreated ||
		created.Data.LimitReset != nil || created.Data.ExpiresAt != nil {
		t.Fatalf("POST without limit_reset: %d %+v", code, created.Data)
	}
}

// consoleAs signs in to the console with an API key, as a customer does,
// and returns a client carrying the session.
func (s *selfServe) consoleAs(secret string) *http.Client {
	s.t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	page := s.page(c, "/console/signin")
	m := regexp.MustCompile(`id="signin-csrf" value="([^"]+)"`).FindStringSubmatch(page)
	if m == nil {
		s.t.Fatalf("no sign-in CSRF token in\n%s", page)
	}
	resp, err := c.PostForm(s.p.base+"/console/signin", url.Values{"csrf": {m[1]}, "token": {secret}})
	if err != nil {
		s.t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		s.t.Fatalf("sign-in: %s", resp.Status)
	}
	return c
}

func (s *selfServe) page(c *http.Client, path string) string {
	s.t.Helper()
	resp, err := c.Get(s.p.base + path)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		s.t.Fatalf("GET %s: %s", path, resp.Status)
	}
	return string(b)
}

// tableRow is the text of the row of table id whose data-invoice is
// number, its cells separated by " | " (empty when there is none).
func tableRow(t *testing.T, page, id, number string) string {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(page))
	if err != nil {
		t.Fatal(err)
	}
	var table, row *html.Node
	for n := range doc.Descendants() {
		if n.Type == html.ElementNode && n.Data == "table" && attr(n, "id") == id {
			table = n
			break
		}
	}
	if table == nil {
		t.Fatalf("no table %s", id)
	}
	for n := range table.Descendants() {
		if n.Type == html.ElementNode && n.Data == "tr" && attr(n, "data-invoice") == number {
			row = n
			break
		}
	}
	if row == nil {
		return ""
	}
	var cells []string
	for td := range row.ChildNodes() {
		if td.Type != html.ElementNode {
			continue
		}
		var b strings.Builder
		for x := range td.Descendants() {
			if x.Type == html.TextNode {
				b.WriteString(x.Data)
			}
		}
		cells = append(cells, strings.TrimSpace(b.String()))
	}
	return strings.Join(cells, " | ")
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

// A postpaid customer who pays more than the usage due gets an invoice of
// the excess at payment. Their account page lists it with the payment it
// bills (the reference of the top-up the page lists too), and the usage
// invoice of a month with the month it bills; the API says the same.
// Another customer sees neither the invoice nor its PDF.
func TestPostpaidCustomerSeesTheInvoiceOfAPaymentWithThePaymentItBills(t *testing.T) {
	s := startSelfServe(t)
	runCLI(t, s.env, append([]string{"invoices", "range", "--period", twrules.PeriodOf(time.Now()).String(),
		"--prefix", "AB", "--from", "12345000", "--to", "12345099"}, s.store...)...)
	var acct string
	for _, line := range strings.Split(runCLI(t, s.env, append([]string{"accounts", "open", "--organisation", "範例股份有限公司",
		"--tax-id", "04595257", "--plan", "business", "--credit-limit", "50000"}, s.store...)...), "\n") {
		if strings.HasPrefix(line, "acct_") {
			acct = strings.TrimSpace(line)
		}
	}
	secret := func(args ...string) string {
		for _, line := range strings.Split(runCLI(t, s.env, append(append([]string{"keys", "issue", "--account", acct}, args...), s.store...)...), "\n") {
			if v, ok := strings.CutPrefix(line, "key:"); ok {
				return strings.TrimSpace(v)
			}
		}
		t.Fatal("keys issue printed no key")
		return ""
	}
	if acct == "" {
		t.Fatal("accounts open printed no account")
	}
	owner, inference := secret("--name", "owner", "--management"), secret("--name", "app")
	// serve learns of keys the CLI issued within a second or so.
	for deadline := time.Now().Add(15 * time.Second); s.do(http.MethodGet, "/api/v1/key", inference, nil, nil) != http.StatusOK; {
		if time.Now().After(deadline) {
			t.Fatal("serve never learnt of the CLI's keys")
		}
		time.Sleep(100 * time.Millisecond)
	}
	// The usage due before the payment.
	for i := range 3 {
		if o := chat(t.Context(), s.p.base, inference, false, 16); o.status != http.StatusOK {
			t.Fatalf("request %d: %d", i, o.status)
		}
	}
	runCLI(t, s.env, append([]string{"credits", "topup", "--account", acct, "--amount", "1000", "--method", "bank-transfer",
		"--reference", "TX-20261206-001"}, s.store...)...)

	type invoice struct {
		Number   string `json:"number"`
		TopUpRef string `json:"topup_ref"`
		Total    int64  `json:"total"`
	}
	var list struct {
		Invoices []invoice `json:"invoices"`
	}
	deadline := time.Now().Add(15 * time.Second)
	for len(list.Invoices) == 0 && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
		if code := s.do(http.MethodGet, "/api/v1/invoices", inference, nil, &list); code != http.StatusOK {
			t.Fatalf("GET /api/v1/invoices: %d", code)
		}
	}
	if len(list.Invoices) != 1 || list.Invoices[0].TopUpRef != "TX-20261206-001" || list.Invoices[0].Total <= 0 || list.Invoices[0].Total >= 1000 {
		t.Fatalf("invoices after a payment beyond the usage due: %+v", list.Invoices)
	}
	number := list.Invoices[0].Number

	// The console's pages read the invoices' read model, which learns of
	// the invoice a moment after invoicing issues it.
	session := s.consoleAs(owner)
	var row string
	for deadline := time.Now().Add(15 * time.Second); row == "" && time.Now().Before(deadline); {
		if row = tableRow(t, s.page(session, "/console/accounts/"+acct+"?lang=en"), "account-invoices", number); row == "" {
			time.Sleep(100 * time.Millisecond)
		}
	}
	if !strings.Contains(row, "TX-20261206-001") || !strings.Contains(row, "NT$"+strconv.FormatInt(list.Invoices[0].Total, 10)) {
		t.Fatalf("the account page's invoice row %q does not name the payment TX-20261206-001 it bills", row)
	}

	// Another account's customer: not in its list, page or PDFs.
	other := s.consoleAs(s.owner)
	if row := tableRow(t, s.page(other, "/console/accounts/acct_demo?lang=en"), "account-invoices", number); row != "" {
		t.Fatalf("another account's page lists the invoice: %q", row)
	}
	var theirs struct {
		Invoices []invoice `json:"invoices"`
	}
	if code := s.do(http.MethodGet, "/api/v1/invoices", s.owner, nil, &theirs); code != http.StatusOK || len(theirs.Invoices) != 0 {
		t.Fatalf("another account's invoices: %d %+v", code, theirs.Invoices)
	}
	var e orError
	if code := s.do(http.MethodGet, "/api/v1/invoices/"+number+"/pdf", s.owner, nil, &e); code != http.StatusNotFound || e.Error.Code != http.StatusNotFound {
		t.Fatalf("another account's PDF: %d %+v", code, e)
	}
	if resp, err := other.Get(s.p.base + "/console/accounts/" + acct); err != nil || resp.StatusCode == http.StatusOK {
		t.Fatalf("another account's console page: %v %v", resp.Status, err)
	} else {
		resp.Body.Close()
	}
}

// An inference key on the key and activity APIs is told what it lacks: a
// management key, in OpenRouter's error shape.
func TestInferenceKeyOnTheKeyAPIsIsToldItNeedsAManagementKey(t *testing.T) {
	s := startSelfServe(t)
	for _, c := range []struct{ method, path string }{
		{http.MethodGet, "/api/v1/keys"}, {http.MethodPost, "/api/v1/keys"}, {http.MethodGet, "/api/v1/activity"},
	} {
		var body any
		if c.method == http.MethodPost {
			body = map[string]any{"name": "x"}
		}
		var e orError
		if code := s.do(c.method, c.path, s.demo, body, &e); code != http.StatusForbidden || e.Error.Code != http.StatusForbidden ||
			!strings.Contains(e.Error.Message, "management key") || e.Error.Metadata == nil {
			t.Errorf("%s %s with an inference key: %d %+v", c.method, c.path, code, e)
		}
	}
}

// A disabled or deleted key is told so on every customer endpoint, as the
// model endpoints and /api/v1/key tell it (401, as OpenRouter answers a key
// it does not take), not asked to sign in with a staff token on the key,
// activity and invoice APIs.
func TestDisabledAndDeletedKeysAreToldSoOnEveryCustomerEndpoint(t *testing.T) {
	s := startSelfServe(t)
	made := func() (hash, secret string) {
		var r struct {
			Data struct {
				Hash string `json:"hash"`
			} `json:"data"`
			Key string `json:"key"`
		}
		if code := s.do(http.MethodPost, "/api/v1/keys", s.owner, map[string]any{"name": "deputy", "management": true}, &r); code != http.StatusCreated {
			t.Fatalf("POST /api/v1/keys: %d", code)
		}
		return r.Data.Hash, r.Key
	}
	disabledHash, disabled := made()
	if code := s.do(http.MethodPatch, "/api/v1/keys/"+disabledHash, s.owner, map[string]any{"disabled": true}, nil); code != http.StatusOK {
		t.Fatalf("disable: %d", code)
	}
	deletedHash, deleted := made()
	if code := s.do(http.MethodDelete, "/api/v1/keys/"+deletedHash, s.owner, nil, nil); code != http.StatusOK {
		t.Fatalf("delete: %d", code)
	}
	for _, c := range []struct{ secret, says string }{{disabled, "disabled"}, {deleted, "revoked"}} {
		for _, path := range []string{"/api/v1/key", "/api/v1/credits", "/api/v1/keys", "/api/v1/activity", "/api/v1/invoices", "/api/v1/allowances"} {
			var e orError
			if code := s.do(http.MethodGet, path, c.secret, nil, &e); code != http.StatusUnauthorized || e.Error.Code != http.StatusUnauthorized ||
				!strings.Contains(e.Error.Message, c.says) {
				t.Errorf("%s key on %s: %d %+v, want 401 saying %s", c.says, path, code, e, c.says)
			}
		}
	}
	// An unknown key is told it is not a valid key, as /api/v1/key tells it.
	for _, path := range []string{"/api/v1/key", "/api/v1/keys", "/api/v1/invoices"} {
		var e orError
		if code := s.do(http.MethodGet, path, "sk-rf-unknown", nil, &e); code != http.StatusUnauthorized || e.Error.Code != http.StatusUnauthorized ||
			!strings.Contains(e.Error.Message, "invalid API key") {
			t.Errorf("unknown key on %s: %d %+v", path, code, e)
		}
	}
}
