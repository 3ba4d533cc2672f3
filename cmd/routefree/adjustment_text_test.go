package main

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

// The reason finance gives a credit adjustment is internal: the customer
// sees the adjustment's description, or a neutral label where it has none
// (adjustments recorded without one, before descriptions existed
// included), in the admin API, on the console's account page, in its CSV
// and through its search; staff see both.
func TestCustomersSeeAnAdjustmentsDescriptionNotItsReason(t *testing.T) {
	s := startSelfServe(t)
	const secret = "goodwill, customer angry"
	// An adjustment as every one was recorded before descriptions: a
	// reason only.
	runCLI(t, s.env, append([]string{"credits", "adjust", "--account", "acct_demo", "--amount", "50", "--reason", secret}, s.store...)...)
	finance := financeToken(t, s)
	// One with a description for the customer, through the admin API.
	if code := s.do(http.MethodPost, "/admin/api/accounts/acct_demo/adjustments", finance,
		map[string]any{"amount": "25", "reason": "SLA breach ticket 4411, angry call", "description": "Service credit for the 3 May outage"}, nil); code != http.StatusCreated {
		t.Errorf("POST adjustments: %d", code)
	}

	type topUp struct {
		Amount      string `json:"amount"`
		Method      string `json:"method"`
		Reference   string `json:"reference"`
		Reason      string `json:"reason"`
		Description string `json:"description"`
	}
	// read waits until bearer reads want credits given without a reference.
	read := func(bearer string, want int) []topUp {
		t.Helper()
		var r struct {
			Data []topUp `json:"data"`
		}
		deadline := time.Now().Add(5 * time.Second)
		for {
			if code := s.do(http.MethodGet, "/admin/api/accounts/acct_demo/topups", bearer, nil, &r); code != http.StatusOK {
				t.Fatalf("GET topups: %d", code)
			}
			n := 0
			for _, x := range r.Data {
				if x.Method == "adjustment" && x.Reference == "" {
					n++
				}
			}
			if n == want || time.Now().After(deadline) {
				return r.Data
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	// The customer reads the demo's credit, a top-up of method adjustment,
	// without its reference too.
	var descriptions []string
	for _, x := range read(s.owner, 3) {
		if x.Method != "adjustment" || x.Reference != "" {
			continue
		}
		if x.Reason != "" {
			t.Errorf("the customer reads an adjustment's reason: %+v", x)
		}
		descriptions = append(descriptions, x.Description)
	}
	if strings.Join(descriptions, "|") != "Service credit for the 3 May outage|Credit adjustment|Credit adjustment" {
		t.Errorf("the customer's descriptions (newest first): %q", descriptions)
	}
	var reasons []string
	for _, x := range read(finance, 2) { // the demo's credit shows its reference
		if x.Method == "adjustment" && x.Reference == "" {
			reasons = append(reasons, x.Reason+" / "+x.Description)
		}
	}
	if strings.Join(reasons, "|") != "SLA breach ticket 4411, angry call / Service credit for the 3 May outage|"+secret+" / Credit adjustment" {
		t.Errorf("finance's reasons and descriptions: %q", reasons)
	}

	// The console: the page, its CSV and its search.
	owner := s.consoleAs(s.owner)
	for _, path := range []string{"/console/accounts/acct_demo?lang=en", "/console/accounts/acct_demo?lang=en&format=csv&table=topups",
		"/console/accounts/acct_demo?lang=en&topups_q=goodwill", "/console/accounts/acct_demo?lang=en&topups_q=angry&format=csv&table=topups"} {
		page := s.page(owner, path)
		searched := ""
		if _, q, ok := strings.Cut(path, "_q="); ok {
			searched, _, _ = strings.Cut(q, "&")
		}
		for _, hidden := range []string{"goodwill", "angry", "4411"} {
			if hidden == searched && !strings.Contains(path, "format=csv") {
				continue // the search box shows what was searched for
			}
			if strings.Contains(page, hidden) {
				t.Errorf("%s shows the customer the reason (%q)", path, hidden)
			}
		}
		if strings.Contains(path, "_q=") {
			// An adjustment's row has no reference; in the CSV, its amount.
			if strings.Contains(page, `data-reference=""`) || strings.Contains(path, "csv") && strings.Contains(page, "50.00") {
				t.Errorf("%s: a search for the reason finds the adjustment", path)
			}
			continue
		}
		for _, shown := range []string{"Service credit for the 3 May outage", "Credit adjustment"} {
			if !strings.Contains(page, shown) {
				t.Errorf("%s does not show %q", path, shown)
			}
		}
	}
	zh := s.page(owner, "/console/accounts/acct_demo?lang=zh-TW")
	if strings.Contains(zh, "goodwill") || !strings.Contains(zh, "額度調整") {
		t.Errorf("the Chinese page does not show the neutral label 額度調整")
	}
	staff := s.consoleAs(finance)
	page := s.page(staff, "/console/accounts/acct_demo?lang=en")
	for _, shown := range []string{secret, "SLA breach ticket 4411", "Service credit for the 3 May outage"} {
		if !strings.Contains(page, shown) {
			t.Errorf("finance's page does not show %q", shown)
		}
	}
}

// Credit given with `credits topup --method adjustment` is no payment: its
// reference is staff's own (no bank or card gave it), so the customer sees
// the neutral label in its place, as for an adjustment without a
// description, in the admin API, on the console's account page, in its CSV
// and through its search; staff see the reference.
func TestCustomersSeeACreditGivenAsATopUpAdjustmentWithoutItsReference(t *testing.T) {
	s := startSelfServe(t)
	const ref = "GOODWILL-4411-angry-call"
	runCLI(t, s.env, append([]string{"credits", "topup", "--account", "acct_demo", "--amount", "75", "--method", "adjustment", "--reference", ref}, s.store...)...)
	finance := financeToken(t, s)

	type topUp struct {
		Amount      string `json:"amount"`
		Method      string `json:"method"`
		Reference   string `json:"reference"`
		Description string `json:"description"`
	}
	// The credits given (the demo's and this one), newest first.
	given := func(bearer string) []topUp {
		t.Helper()
		var r struct {
			Data []topUp `json:"data"`
		}
		if code := s.do(http.MethodGet, "/admin/api/accounts/acct_demo/topups", bearer, nil, &r); code != http.StatusOK {
			t.Fatalf("GET topups: %d", code)
		}
		var out []topUp
		for _, x := range r.Data {
			if x.Method == "adjustment" {
				out = append(out, x)
			}
		}
		return out
	}
	customer := given(s.owner)
	if len(customer) != 2 || customer[0].Amount != "75" {
		t.Fatalf("the customer's credits given: %+v", customer)
	}
	for _, x := range customer {
		if x.Reference != "" || x.Description != "Credit adjustment" {
			t.Errorf("the customer reads a credit given as %+v, want no reference and the neutral label", x)
		}
	}
	staff := given(finance)
	if len(staff) != 2 || staff[0].Reference != ref || staff[1].Reference != "demo-credit" {
		t.Errorf("finance's credits given: %+v", staff)
	}

	owner := s.consoleAs(s.owner)
	for _, path := range []string{"/console/accounts/acct_demo?lang=en", "/console/accounts/acct_demo?lang=en&format=csv&table=topups",
		"/console/accounts/acct_demo?lang=en&topups_q=GOODWILL", "/console/accounts/acct_demo?lang=en&topups_q=demo-credit&format=csv&table=topups"} {
		page := s.page(owner, path)
		if strings.Contains(path, "_q=") {
			// Nothing is found: no row, and in the CSV no amount.
			if strings.Contains(page, "<tr data-reference=") || strings.Contains(path, "csv") && strings.Contains(page, "75.00") {
				t.Errorf("%s: a search for a reference finds the credit given", path)
			}
			if strings.Contains(page, "angry") || strings.Contains(path, "csv") && strings.Contains(page, "demo-credit") {
				t.Errorf("%s shows the customer a reference", path)
			}
			continue
		}
		for _, hidden := range []string{"GOODWILL", "angry", "demo-credit"} {
			if strings.Contains(page, hidden) {
				t.Errorf("%s shows the customer the reference (%q)", path, hidden)
			}
		}
		if !strings.Contains(page, "Credit adjustment") {
			t.Errorf("%s does not show the neutral label", path)
		}
	}
	if zh := s.page(owner, "/console/accounts/acct_demo?lang=zh-TW"); strings.Contains(zh, "GOODWILL") || !strings.Contains(zh, "額度調整") {
		t.Errorf("the Chinese page shows the reference, or not the neutral label 額度調整")
	}
	page := s.page(s.consoleAs(finance), "/console/accounts/acct_demo?lang=en&format=csv&table=topups")
	for _, shown := range []string{ref, "demo-credit"} {
		if !strings.Contains(page, shown) {
			t.Errorf("finance's CSV does not show %q:\n%s", shown, page)
		}
	}
}

// financeToken issues a finance staff token from the CLI and waits until
// the running serve takes it (within a second, as any other instance).
func financeToken(t *testing.T, s *selfServe) string {
	t.Helper()
	var finance string
	for _, line := range strings.Split(runCLI(t, s.env, append([]string{"staff", "issue", "--role", "finance", "--name", "Fin"}, s.store...)...), "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "token:"); ok {
			finance = strings.TrimSpace(v)
		}
	}
	if finance == "" {
		t.Fatal("staff issue printed no token")
	}
	for deadline := time.Now().Add(5 * time.Second); s.do(http.MethodGet, "/admin/api/accounts/acct_demo", finance, nil, nil) == http.StatusUnauthorized; {
		if time.Now().After(deadline) {
			t.Fatal("the finance token is not taken")
		}
		time.Sleep(50 * time.Millisecond)
	}
	return finance
}
