package httpapi

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
)

// A quote POSTed again with the same Idempotency-Key (a client retrying
// after a timeout) is answered with the quote the first issued; without
// the key, with another, or from another staff token, it is another
// quote.
func TestQuoteIdempotencyKey(t *testing.T) {
	srv, _ := server(t)
	body := `{"agency":"臺北市政府資訊局","items":[{"name":"AI API 服務（月費）","quantity":"12","unit":"月","unit_price":"500"}]}`
	post := func(token, key string) string {
		t.Helper()
		req, _ := http.NewRequest("POST", srv.URL+"/admin/api/quotes", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		if key != "" {
			req.Header.Set("Idempotency-Key", key)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		var q struct {
			QuoteID string `json:"quote_id"`
		}
		if res.StatusCode != http.StatusCreated || json.Unmarshal(b, &q) != nil || q.QuoteID == "" {
			t.Fatalf("quote with key %q: %d %s", key, res.StatusCode, b)
		}
		return q.QuoteID
	}
	first := post("fin", "retry-me")
	if again := post("fin", "retry-me"); again != first {
		t.Fatalf("the same key gave quote %s, then %s", first, again)
	}
	if other := post("fin", "another"); other == first {
		t.Fatal("another key gave the same quote")
	}
	if none := post("fin", ""); none == first {
		t.Fatal("no key gave the keyed quote")
	}
	// Keys are each caller's own.
	if theirs := post("fin2", "retry-me"); theirs == first {
		t.Fatal("another staff token's key gave the first token's quote")
	}
}
