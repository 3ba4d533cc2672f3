package core

import (
	"fmt"
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

// A moderation flag is read from OpenRouter's metadata and from Azure
// OpenAI's filtered categories, in an error answer as in a stream's error
// event (whose status is its code, or a 400 for a content filter's code,
// never a 5xx that fails over); a member of another shape is left out
// without losing the rest of the error, and a 403 without them stays a
// refusal of the gateway.
func TestModerationFlag(t *testing.T) {
	for _, c := range []struct {
		name, body, reasons, flagged, msg string
		status                            int
		isFlagged, refusesGateway         bool
	}{
		{"openrouter", `{"error":{"message":"m requires moderation on X. Your input was flagged for \"violence\".","code":403,"metadata":{"reasons":["violence"],"flagged_input":"the text","provider_name":"X","model_slug":"m"}}}`,
			"[violence]", "the text", "m requires moderation on X. Your input was flagged for \"violence\".", 403, true, false},
		{"azure", `{"error":{"message":"filtered","type":null,"param":"prompt","code":"content_filter","status":400,"innererror":{"code":"ResponsibleAIPolicyViolation","content_filter_result":{"violence":{"filtered":true,"severity":"medium"},"hate":{"filtered":true,"severity":"high"},"sexual":{"filtered":false,"severity":"safe"}}}}}`,
			"[hate violence]", "", "filtered", 400, true, false},
		{"reasons of another shape", `{"error":{"message":"flagged","code":403,"metadata":{"reasons":"violence","flagged_input":7}}}`,
			"[]", "", "flagged", 403, false, true},
		{"key limit", `{"error":{"message":"Key limit exceeded (total limit)","code":403}}`,
			"[]", "", "Key limit exceeded (total limit)", 403, false, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(c.status)
				_, _ = w.Write([]byte(c.body))
			}))
			defer srv.Close()
			resp, err := http.Get(srv.URL)
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range []*UpstreamError{ErrorFromResponse("p", resp), StreamError("p", 0, []byte(c.body))} {
				if fmt.Sprint(e.Reasons) != c.reasons || e.FlaggedInput != c.flagged || e.Message != c.msg || e.Status != c.status {
					t.Errorf("%+v: reasons %v, flagged %q, message %q", e, e.Reasons, e.FlaggedInput, e.Message)
				}
				if e.Flagged() != c.isFlagged || e.RefusesGateway() != c.refusesGateway {
					t.Errorf("%+v: flagged %v, refuses the gateway %v", e, e.Flagged(), e.RefusesGateway())
				}
			}
		})
	}
}
