package core

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// An upstream's Retry-After is read in both of its forms, delta-seconds and
// an HTTP date, and from OpenAI's retry-after-ms.
func TestErrorFromResponseRetryAfter(t *testing.T) {
	at := time.Now().Add(42 * time.Second).UTC().Format(http.TimeFormat)
	for name, c := range map[string]struct {
		header, value string
		min, max      time.Duration
	}{
		"seconds":      {"Retry-After", "7", 7 * time.Second, 7 * time.Second},
		"date":         {"Retry-After", at, 40 * time.Second, 42 * time.Second},
		"milliseconds": {"Retry-After-Ms", "1500", 1500 * time.Millisecond, 1500 * time.Millisecond},
		"past date":    {"Retry-After", "Mon, 02 Jan 2006 15:04:05 GMT", 0, 0},
		"garbage":      {"Retry-After", "soon", 0, 0},
		"negative":     {"Retry-After", "-3", 0, 0},
		"huge":         {"Retry-After", "99999999999999999", 24 * time.Hour, 24 * time.Hour},
	} {
		t.Run(name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set(c.header, c.value)
				w.WriteHeader(http.StatusTooManyRequests)
				_, _ = w.Write([]byte(`{"error":{"message":"slow down","type":"rate_limit_error"}}`))
			}))
			defer srv.Close()
			resp, err := http.Get(srv.URL)
			if err != nil {
				t.Fatal(err)
			}
			e := ErrorFromResponse("p", resp)
			if e.RetryAfter < c.min || e.RetryAfter > c.max || e.Status != 429 || e.Message != "slow down" {
				t.Fatalf("%+v: retry after %s, want %s to %s", e, e.RetryAfter, c.min, c.max)
			}
		})
	}
}

// A 2xx body is an error only when its top-level "error" is set; its
// status is the error's own, as an error event's is.
func TestAnswerError(t *testing.T) {
	for body, status := range map[string]int{
		`{"error":{"message":"overloaded","code":503}}`:                      503,
		`{"type":"error","error":{"type":"rate_limit_error","message":"x"}}`: 429,
		`{"error":{"code":500,"message":"x","status":"INTERNAL"}}`:           502,
		`{"choices":[],"error":null}`:                                        0,
		`{"choices":[{"message":{"content":"{\"error\":1}"}}]}`:              0,
		`not json`: 0,
	} {
		ae := AnswerError("p", []byte(body))
		if got := 0; ae != nil && ae.Status != status || ae == nil && status != 0 {
			if ae != nil {
				got = ae.Status
			}
			t.Errorf("%s: status %d, want %d", body, got, status)
		}
	}
}
