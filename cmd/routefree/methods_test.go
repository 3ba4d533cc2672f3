package main

import (
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
)

// A request with a method a path does not take is a 405 naming the
// methods it takes (Allow), in the API's error shape: under the admin API
// and /api/v1/keys, whose routes share middleware, it was a 404 "Not
// Found", which reads as a missing key or account.
func TestAMethodAPathDoesNotTakeIsA405(t *testing.T) {
	s := startSelfServe(t)
	var keys struct {
		Data []struct {
			Hash string `json:"hash"`
		} `json:"data"`
	}
	if code := s.do(http.MethodGet, "/api/v1/keys", s.owner, nil, &keys); code != http.StatusOK || len(keys.Data) == 0 {
		t.Fatalf("keys: %d %+v", code, keys)
	}
	for _, c := range []struct {
		method, path string
		status       int
		allow        string
	}{
		{http.MethodPut, "/api/v1/keys/" + keys.Data[0].Hash, 405, "DELETE, GET, PATCH"},
		{http.MethodPut, "/api/v1/keys", 405, "GET, POST"},
		{http.MethodDelete, "/admin/api/accounts/acct_demo", 405, "GET"},
		{http.MethodPut, "/admin/api/accounts", 405, "GET, POST"},
		{http.MethodGet, "/admin/api/invoices/close", 405, "POST"},
		{http.MethodDelete, "/admin/api/invoices", 405, "GET"},
		{http.MethodPost, "/api/v1/credits", 405, "GET"},
		{http.MethodGet, "/admin/api/nothing-here", 404, ""},
		{http.MethodGet, "/api/v1/keys/a/b", 404, ""},
	} {
		req, _ := http.NewRequest(c.method, s.p.base+c.path, strings.NewReader(`{}`))
		req.Header.Set("Authorization", "Bearer "+s.owner)
		req.Header.Set("Content-Type", "application/json")
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		var e struct {
			Error struct {
				Code    int    `json:"code"`
				Message string `json:"message"`
			} `json:"error"`
		}
		// The gateway's own routes also name OPTIONS, which answers CORS
		// preflights.
		var allow []string
		for _, m := range strings.Split(resp.Header.Get("Allow"), ",") {
			if m = strings.TrimSpace(m); m != "" && m != http.MethodOptions {
				allow = append(allow, m)
			}
		}
		slices.Sort(allow)
		if resp.StatusCode != c.status || json.Unmarshal(b, &e) != nil || e.Error.Code != c.status || e.Error.Message == "" ||
			strings.Join(allow, ", ") != c.allow {
			t.Errorf("%s %s: %d, Allow %q, %s; want %d, Allow %q, in the error shape",
				c.method, c.path, resp.StatusCode, resp.Header.Get("Allow"), b, c.status, c.allow)
		}
	}
}
