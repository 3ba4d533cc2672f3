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
	var finance string
	for _, line := range strings.Split(runCLI(t, s.env, append([]string{"staff", "issue", "--role", "finance", "--name", "Fin"}, s.store...)...), "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "token:"); ok {
			finance = strings.TrimSpace(v)
		}
	}
	if finance == "" {
		t.Fatal("staff issue printed no token")
	}
	// The running gateway learns of the new token within a second.
	for deadline := time.Now().Add(5 * time.Second); s.do(http.MethodGet, "/admin/api/accounts/acct_demo", finance, nil, nil) == http.StatusUnauthorized; {
		if time.Now().After(deadline) {
			t.Fatal("the finance token is not taken")
		}
		time.Sleep(50 * time.Millisecond)
	}
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
	read := func(bearer string) []topUp {
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
			if n == 2 || time.Now().After(deadline) {
				return r.Data
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	var descriptions []string
	for _, x := range read(s.owner) {
		if x.Method != "adjustment" || x.Reference != "" { // the demo's credit is a top-up
			continue
		}
		if x.Reason != "" {
			t.Errorf("the customer reads an adjustment's reason: %+v", x)
		}
		descriptions = append(descriptions, x.Description)
	}
	if strings.Join(descriptions, "|") != "Service credit for the 3 May outage|Credit adjustment" {
		t.Errorf("the customer's descriptions (newest first): %q", descriptions)
	}
	var reasons []string
	for _, x := range read(finance) {
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
