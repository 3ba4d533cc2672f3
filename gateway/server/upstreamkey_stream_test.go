package server

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// A host may quote the key it was sent in an error it writes with a 200
// too: an error event in a stream, before content or after it, or a 200
// whose body is an error. Those messages go on to the customer (the 502's
// message, a stream's error chunk's upstream_message) and the logs: the
// key is taken out of them as out of a refusal's.
func TestUpstreamKeyQuotedInAnErrorEventIsNotShown(t *testing.T) {
	quote := func(r *http.Request) string {
		return "Incorrect API key provided: " + strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ") + "."
	}
	midStream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "text/event-stream")
		_, _ = io.WriteString(w, `data: {"id":"u1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"role":"assistant","content":"Hello"}}]}`+"\n\n")
		_, _ = io.WriteString(w, `data: {"error":{"message":"`+quote(r)+`","type":"auth_error","code":"invalid_key"}}`+"\n\n")
	}))
	t.Cleanup(midStream.Close)
	first := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		if strings.Contains(r.Header.Get("Accept"), "text/event-stream") || r.URL.Query().Has("stream") {
			w.Header().Set("Content-Type", "text/event-stream")
			_, _ = io.WriteString(w, `data: {"error":{"message":"`+quote(r)+`","type":"auth_error"}}`+"\n\n")
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"error":{"message":"`+quote(r)+`","type":"auth_error"}}`)
	}))
	t.Cleanup(first.Close)

	h := newHarness(t, harnessOpts{models: map[string][]upstreamSpec{
		"test/mid":   {{fake: "mid", kind: "openai", baseURL: midStream.URL}},
		"test/first": {{fake: "first", kind: "openai", baseURL: first.URL}},
	}})
	for _, c := range []struct {
		body  string
		shown bool // the upstream's message reaches the client
	}{
		{`{"model":"test/mid","stream":true,"messages":[{"role":"user","content":"hi"}]}`, true},
		{`{"model":"test/first","stream":true,"messages":[{"role":"user","content":"hi"}]}`, false},
		{`{"model":"test/first","messages":[{"role":"user","content":"hi"}]}`, false},
	} {
		_, b := h.send("POST", "/api/v1/chat/completions", map[string][]string{"Authorization": {"Bearer " + h.key}}, c.body)
		if c.shown && !strings.Contains(string(b), "Incorrect API key provided") {
			t.Fatalf("%s: the upstream's message is not passed on: %s", c.body, b)
		}
		if strings.Contains(string(b), "upstream-secret") {
			t.Fatalf("%s: the upstream key is shown: %s", c.body, b)
		}
	}
	if strings.Contains(h.logs.String(), "upstream-secret") {
		t.Fatalf("the upstream key is logged: %s", h.logs.String())
	}
}
