package server

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/routefree/routefree/domain"
)

// send posts body to path with the headers given, each value on a line of
// its own.
func (h *harness) send(method, path string, hdr map[string][]string, body string) (int, []byte) {
	h.t.Helper()
	req, err := http.NewRequest(method, h.http.URL+path, strings.NewReader(body))
	if err != nil {
		h.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	for k, vs := range hdr {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp.StatusCode, b
}

// oddBody is a body the endpoint named accepts.
func oddBody(endpoint string) string {
	switch endpoint {
	case "responses":
		return `{"model":"openai/gpt-4.1","max_output_tokens":16,"input":"hello"}`
	case "chat":
		return `{"model":"openai/gpt-4.1","max_tokens":10,"messages":[{"role":"user","content":"hello"}]}`
	}
	return validBody(endpoint, "hello")
}

// Two Authorization headers name two keys: the gateway took the first and
// billed it, whichever the client (or a proxy adding its own) meant. Such
// a request is refused on every endpoint that takes a key, whatever the
// order, and nothing reaches an upstream or is recorded.
func TestTwoAuthorizationHeadersAreRefused(t *testing.T) {
	h := bodyHarness(t)
	_, other, err := h.cmds.IssueKey(t.Context(), domain.KeyIssued{AccountID: h.account, Name: "other"})
	if err != nil {
		t.Fatal(err)
	}
	h.catchUp()
	before := upstreamCalls(h)
	posts := map[string]string{"chat": "/api/v1/chat/completions", "completions": "/api/v1/completions",
		"embeddings": "/api/v1/embeddings", "messages": "/api/v1/messages", "count_tokens": "/api/v1/messages/count_tokens",
		"responses": "/api/v1/responses"}
	for _, pair := range [][]string{{h.key, other}, {other, h.key}, {h.key, h.key}, {h.key, "sk-rf-not-a-key"}} {
		auth := map[string][]string{"Authorization": {"Bearer " + pair[0], "Bearer " + pair[1]}}
		for name, path := range posts {
			st, b := h.send("POST", path, auth, oddBody(name))
			if st != http.StatusUnauthorized || !bytes.Contains(b, []byte("one Authorization header")) {
				t.Errorf("%s: %d %s", name, st, b)
			}
		}
		for _, path := range []string{"/api/v1/key", "/api/v1/credits", "/api/v1/generation?id=gen-x", "/api/v1/models/user"} {
			st, b := h.send("GET", path, auth, "")
			if st != http.StatusUnauthorized || !bytes.Contains(b, []byte("one Authorization header")) {
				t.Errorf("GET %s: %d %s", path, st, b)
			}
			decodeError(t, b)
		}
	}
	// Anthropic's x-api-key, twice, is the same ambiguity.
	st, b := h.send("POST", "/api/v1/messages", map[string][]string{"X-Api-Key": {h.key, other}}, oddBody("messages"))
	if st != http.StatusUnauthorized || !bytes.Contains(b, []byte("authentication_error")) {
		t.Errorf("two x-api-key: %d %s", st, b)
	}
	if n := upstreamCalls(h) - before; n != 0 {
		t.Fatalf("%d requests with two keys reached an upstream", n)
	}
	if c, f := h.completed(), h.failed(); len(c) != 0 || len(f) != 0 {
		t.Fatalf("requests with two keys recorded: %d completed, %d failed", len(c), len(f))
	}
	// One header, as ever, is served.
	if st, b := h.send("POST", posts["chat"], map[string][]string{"Authorization": {"bearer  " + h.key + " "}}, oddBody("chat")); st != http.StatusOK {
		t.Fatalf("one header: %d %s", st, b)
	}
}

// A compressed body whose Content-Encoding came on a second header line,
// after "identity", was read as plain text and refused as invalid UTF-8
// (or as JSON it is not), which told the client nothing.
func TestContentEncodingOnASecondLineIs415(t *testing.T) {
	h := bodyHarness(t)
	var zb bytes.Buffer
	zw := gzip.NewWriter(&zb)
	_, _ = zw.Write([]byte(oddBody("chat")))
	_ = zw.Close()
	st, b := h.send("POST", "/api/v1/chat/completions", map[string][]string{
		"Authorization": {"Bearer " + h.key}, "Content-Encoding": {"identity", "gzip"}}, zb.String())
	if st != http.StatusUnsupportedMediaType || !bytes.Contains(b, []byte("Content-Encoding gzip")) {
		t.Fatalf("%d %s", st, b)
	}
	decodeError(t, b)
}
