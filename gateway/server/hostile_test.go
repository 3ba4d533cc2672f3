package server

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/routefree/routefree/domain"
)

// nestedBody is {"x":[[[…]]]} nested depth arrays deep: 2 bytes a level.
func nestedBody(depth int) string {
	var b strings.Builder
	b.Grow(2*depth + 8)
	b.WriteString(`{"x":`)
	b.WriteString(strings.Repeat("[", depth))
	b.WriteString(strings.Repeat("]", depth))
	b.WriteString(`}`)
	return b.String()
}

// A 6 MB body nested 3,000,000 deep once killed the process with a stack
// overflow, before the key was even looked at. Without a key it is refused
// unread; with a key its nesting is refused by a flat scan. Both quickly, and
// the gateway serves the next request.
func TestDeeplyNestedBodyIsRefusedCheaply(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	body := nestedBody(3_000_000)
	if len(body) < 6_000_000 {
		t.Fatalf("body is %d bytes", len(body))
	}
	for _, c := range []struct {
		name, key string
		status    int
	}{
		{"no key", "", http.StatusUnauthorized},
		{"bad key", "sk-rf-nope", http.StatusUnauthorized},
		{"valid key", h.key, http.StatusBadRequest},
	} {
		t.Run(c.name, func(t *testing.T) {
			start := time.Now()
			resp, b := h.postKey(c.key, body)
			took := time.Since(start)
			t.Logf("%s: %d in %s", c.name, resp.StatusCode, took)
			if resp.StatusCode != c.status {
				t.Fatalf("status %d, want %d: %.200s", resp.StatusCode, c.status, b)
			}
			if e := decodeError(t, b); e.Error.Code != c.status || e.Error.Message == "" {
				t.Fatalf("error body %s", b)
			}
			// The issue asks for 50 ms; a shared, busy test machine gets a
			// generous bound so that only a parse of the nesting would fail it.
			if took > 2*time.Second {
				t.Fatalf("took %s", took)
			}
		})
	}
	resp, b := h.post(`{"model":"test/openai","messages":[{"role":"user","content":"still there?"}]}`)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("after the hostile bodies: %d %s", resp.StatusCode, b)
	}
	h.heldIsZero()
}

// Nesting within the limit is accepted (tools' schemas need some depth);
// one level beyond it is a 400 naming the limit.
func TestNestingLimitIsDocumentedDepth(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	schema := func(levels int) string {
		// A tool whose schema nests objects: the request's own framing
		// ({ tools [ { function { parameters) takes 5 levels.
		return `{"model":"test/openai","messages":[{"role":"user","content":"x"}],"tools":[{"type":"function","function":{"name":"f","parameters":` +
			strings.Repeat(`{"a":`, levels) + `1` + strings.Repeat(`}`, levels) + `}}]}`
	}
	resp, b := h.post(schema(64 - 4))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("depth 64: %d %s", resp.StatusCode, b)
	}
	resp, b = h.post(schema(64 - 3))
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("depth 65: %d %s", resp.StatusCode, b)
	}
	if e := decodeError(t, b); !strings.Contains(e.Error.Message, "64") {
		t.Fatalf("message does not name the limit: %s", b)
	}
}

// Invalid UTF-8 was forwarded upstream; it is a 400 and no upstream is called.
func TestInvalidUTF8IsRefused(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	for name, body := range map[string]string{
		"raw byte in content":   "{\"model\":\"test/openai\",\"messages\":[{\"role\":\"user\",\"content\":\"caf\xe9\"}]}",
		"truncated sequence":    "{\"model\":\"test/openai\",\"messages\":[{\"role\":\"user\",\"content\":\"\xe4\xb8\"}]}",
		"overlong encoding":     "{\"model\":\"test/openai\",\"messages\":[{\"role\":\"user\",\"content\":\"\xc0\xaf\"}]}",
		"lone surrogate escape": `{"model":"test/openai","messages":[{"role":"user","content":"a\ud800b"}]}`,
		"reversed surrogates":   `{"model":"test/openai","messages":[{"role":"user","content":"\udc00\ud800"}]}`,
		"raw byte in a key":     "{\"model\":\"test/openai\",\"x\xff\":1,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}",
	} {
		t.Run(name, func(t *testing.T) {
			resp, b := h.post(body)
			if resp.StatusCode != http.StatusBadRequest {
				t.Fatalf("status %d: %s", resp.StatusCode, b)
			}
			if e := decodeError(t, b); !strings.Contains(e.Error.Message, "UTF-8") {
				t.Fatalf("message %q", e.Error.Message)
			}
		})
	}
	if n := len(h.fakes["openai"].Received()); n != 0 {
		t.Fatalf("upstream called %d times", n)
	}
	// A valid pair and multi-byte text pass.
	resp, b := h.post(`{"model":"test/openai","messages":[{"role":"user","content":"\ud83d\ude00 臺灣 café"}]}`)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("valid text: %d %s", resp.StatusCode, b)
	}
}

// max_tokens beyond the model's output cap got 200, and 9e15 got a 429 that
// SDKs retry. Each is a 400 naming the field; no upstream is called.
func TestMaxTokensBeyondTheModelIs400(t *testing.T) {
	h := newHarness(t, harnessOpts{}) // models: context 100,000, max output 4,096
	for name, field := range map[string]string{
		"above max output":            `"max_tokens":4097`,
		"above the context":           `"max_tokens":200000`,
		"completion above max output": `"max_completion_tokens":5000`,
		"exponent":                    `"max_tokens":9e15`,
		"huge integer":                `"max_tokens":9000000000000000`,
		"beyond int64":                `"max_tokens":99999999999999999999999`,
		"negative":                    `"max_tokens":-1`,
		"zero":                        `"max_tokens":0`,
		"fraction":                    `"max_tokens":1.5`,
		"string":                      `"max_tokens":"100"`,
		"negative completion tokens":  `"max_completion_tokens":-5`,
		"huge completion exponent":    `"max_completion_tokens":1e300`,
		"reasoning budget beyond max": `"max_tokens":100,"reasoning":{"max_tokens":9e15}`,
	} {
		t.Run(name, func(t *testing.T) {
			resp, b := h.post(`{"model":"test/openai",` + field + `,"messages":[{"role":"user","content":"hi"}]}`)
			if resp.StatusCode != http.StatusBadRequest {
				t.Fatalf("status %d: %s", resp.StatusCode, b)
			}
			e := decodeError(t, b)
			if e.Error.Code != 400 || !strings.Contains(e.Error.Message, "tokens") {
				t.Fatalf("error %s", b)
			}
		})
	}
	if n := len(h.fakes["openai"].Received()); n != 0 {
		t.Fatalf("upstream called %d times", n)
	}
	resp, b := h.post(`{"model":"test/openai","max_tokens":4096,"messages":[{"role":"user","content":"hi"}]}`)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("max_tokens at the cap: %d %s", resp.StatusCode, b)
	}
	h.heldIsZero()
}

// TestBodyOverTheLimitIs413: a body larger than MaxBodyBytes is refused
// in the OpenAI shape, whether its length is declared up front or only
// found while it is read (chunked), before any upstream is called or
// anything is billed; a body of exactly the limit is served.
func TestBodyOverTheLimitIs413(t *testing.T) {
	const limit = 4096
	h := newHarness(t, harnessOpts{cfg: Config{MaxBodyBytes: limit}})
	body := func(n int) string {
		b := `{"model":"test/openai","messages":[{"role":"user","content":"`
		tail := `"}]}`
		return b + strings.Repeat("x", n-len(b)-len(tail)) + tail
	}
	send := func(b string, chunked bool) (*http.Response, []byte) {
		var r io.Reader = strings.NewReader(b)
		if chunked {
			r = io.MultiReader(r) // no length known: sent chunked
		}
		req, _ := http.NewRequest("POST", h.http.URL+"/api/v1/chat/completions", r)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+h.key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		out, _ := io.ReadAll(resp.Body)
		return resp, out
	}
	for _, chunked := range []bool{false, true} {
		resp, b := send(body(limit+1), chunked)
		if resp.StatusCode != http.StatusRequestEntityTooLarge {
			t.Fatalf("chunked=%v: status %d, want 413: %.200s", chunked, resp.StatusCode, b)
		}
		e := decodeError(t, b)
		if e.Error.Code != http.StatusRequestEntityTooLarge || !strings.Contains(e.Error.Message, "larger than 4096 bytes") {
			t.Fatalf("chunked=%v: error body %s", chunked, b)
		}
	}
	if n := len(h.fakes["openai"].Received()); n != 0 {
		t.Fatalf("the upstream was called %d times for refused bodies", n)
	}
	if resp, b := send(body(limit), true); resp.StatusCode != http.StatusOK {
		t.Fatalf("a body of exactly the limit: status %d: %.200s", resp.StatusCode, b)
	}
	h.catchUp()
	if got := len(h.completed()); got != 1 {
		t.Fatalf("%d requests billed, want only the one served", got)
	}
}

// The app's title and referer are kept to 100 and 200 bytes; a cut in the
// middle of a character left half of it, which the event's JSON and
// GET /generation showed as U+FFFD. The cut falls between characters.
func TestAppAttributionIsCutBetweenCharacters(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	title := strings.Repeat("臺", 40)                           // 120 bytes
	referer := "https://example.tw/" + strings.Repeat("路", 70) // 229 bytes
	evs := h.attributedRequest("X-OpenRouter-Title", title, referer)
	if got, want := evs[0].AppTitle, strings.Repeat("臺", 33); got != want {
		t.Errorf("title stored as %q, want %q", got, want)
	}
	if got, want := evs[0].AppReferer, referer[:19+3*60]; got != want {
		t.Errorf("referer stored as %q, want %q", got, want)
	}
	code, g := h.getGeneration(h.key, evs[0].RequestID)
	if code != http.StatusOK {
		t.Fatalf("generation: %d %v", code, g)
	}
	if s, _ := jpath(g, "data.app_title"); strings.ContainsRune(s.(string), utf8.RuneError) {
		t.Errorf("generation shows the title as %q", s)
	}
}

// An integer beyond 64 bits was refused with the decoder's "invalid
// character '9' after top-level value", a syntax error the body does not
// have. The message names the field and the range; no upstream is called.
func TestIntegerOutOfRangeNamesTheRange(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	for _, field := range []string{"seed", "n", "max_tokens", "max_completion_tokens"} {
		for _, v := range []string{"99999999999999999999", "-99999999999999999999", "9223372036854775808"} {
			resp, b := h.post(`{"model":"test/openai","` + field + `":` + v + `,"messages":[{"role":"user","content":"hi"}]}`)
			if resp.StatusCode != http.StatusBadRequest {
				t.Fatalf("%s %s: status %d: %s", field, v, resp.StatusCode, b)
			}
			e := decodeError(t, b)
			if msg := e.Error.Message; !strings.HasPrefix(msg, field+": ") || !strings.Contains(msg, "9223372036854775807") || strings.Contains(msg, "invalid character") {
				t.Errorf("%s %s: message %q", field, v, msg)
			}
		}
	}
	if n := len(h.fakes["openai"].Received()); n != 0 {
		t.Fatalf("upstream called %d times", n)
	}
}

// A field of the wrong type is a 400 naming the field as chat's own checks
// do (tools[0], not tools.0) and what was sent by its kind: never the body
// that follows it (the rest of a tools array), and never an "out of range"
// for a small number sent where a string or an object belongs.
func TestWrongTypeNamesTheFieldAndNotTheBody(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	private := `{"type":"function","function":{"name":"lookup","description":"a private description"}}`
	for _, c := range []struct{ field, param, want string }{
		{`"tool_choice":5`, "tool_choice", `tool_choice: tool_choice must be "none", "auto", "required", {"type":"function","function":{"name":...}} or {"type":"allowed_tools","allowed_tools":{...}}`},
		{`"stop":7`, "stop", "stop: must be a string or an array of strings"},
		{`"tools":[5,` + private + `]`, "tools[0]", "tools[0]: must be of type object, got 5"},
		{`"tools":[{"type":"function","function":{"name":false}},` + private + `]`, "tools[0].function.name", "tools[0].function.name: must be of type string, got false"},
		{`"temperature":"warm"`, "temperature", "temperature: must be of type number, got a string"},
	} {
		resp, b := h.post(`{"model":"test/openai",` + c.field + `,"messages":[{"role":"user","content":"hi"}]}`)
		if resp.StatusCode != http.StatusBadRequest {
			t.Fatalf("%s: status %d: %s", c.field, resp.StatusCode, b)
		}
		e := decodeError(t, b)
		if e.Error.Message != c.want || e.Error.Metadata["param"] != c.param {
			t.Errorf("%s:\n got %q (param %v)\nwant %q (param %q)", c.field, e.Error.Message, e.Error.Metadata["param"], c.want, c.param)
		}
	}
	if n := len(h.fakes["openai"].Received()); n != 0 {
		t.Fatalf("upstream called %d times", n)
	}
}

// The Responses, text completions and embeddings endpoints decode their
// bodies themselves: a field of the wrong type there names the field in
// metadata.param too, as chat's 400s and their own other 400s do, and the
// message names the value as chat's does ("a string", a number as sent).
func TestWrongTypeNamesItsParamOnEveryEndpoint(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	for _, c := range []struct {
		post              func(string) (*http.Response, []byte)
		body, param, want string
	}{
		{h.postResponses, `{"model":"test/openai","input":"hi","temperature":"warm"}`, "temperature", "temperature: must be a number, got a string"},
		{h.postResponses, `{"model":"test/openai","input":"hi","max_output_tokens":1.5}`, "max_output_tokens", "max_output_tokens: must be an integer, got 1.5"},
		{h.postCompletions, `{"model":"test/openai","prompt":"hi","best_of":"2"}`, "best_of", "best_of: must be an integer, got a string"},
		{h.postEmbeddings, `{"model":"test/openai","input":"hi","dimensions":"4"}`, "dimensions", "dimensions: must be an integer, got a string"},
	} {
		resp, b := c.post(c.body)
		if resp.StatusCode != http.StatusBadRequest {
			t.Fatalf("%s: status %d: %s", c.body, resp.StatusCode, b)
		}
		e := decodeError(t, b)
		if e.Error.Metadata["param"] != c.param || e.Error.Message != c.want {
			t.Errorf("%s: %s, want metadata.param %q and message %q", c.body, b, c.param, c.want)
		}
	}
}

// An app's title is shown to other customers on /rankings, and with its
// referer in the console, its CSV files and the CLI: a bidirectional
// override or isolate there made it read as another text, as a key's name
// may not. Such characters, tabs (the only control character a header may
// carry) and bytes that are not UTF-8 are left out of what is recorded.
func TestAppAttributionDropsWhatDisguisesIt(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	evs := h.attributedRequest("X-Title", "Safe\u202eexe.txt\u2066 App\t\xff", "https://\u202dexample.tw/\u2069")
	if got, want := evs[0].AppTitle, "Safeexe.txt App"; got != want {
		t.Errorf("title stored as %q, want %q", got, want)
	}
	if got, want := evs[0].AppReferer, "https://example.tw/"; got != want {
		t.Errorf("referer stored as %q, want %q", got, want)
	}
}

// attributedRequest sends one chat request naming its app in titleHeader
// and referer, and returns the request's usage event (one, or it fails).
func (h *harness) attributedRequest(titleHeader, title, referer string) []*domain.RequestCompleted {
	h.t.Helper()
	req, _ := http.NewRequest("POST", h.http.URL+"/api/v1/chat/completions",
		strings.NewReader(`{"model":"test/openai","messages":[{"role":"user","content":"hi"}]}`))
	req.Header.Set("Authorization", "Bearer "+h.key)
	req.Header.Set(titleHeader, title)
	req.Header.Set("HTTP-Referer", referer)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		h.t.Fatalf("status %d", resp.StatusCode)
	}
	evs := h.completed()
	if len(evs) != 1 {
		h.t.Fatalf("%d events", len(evs))
	}
	return evs
}

// An app's title names it on /rankings, where titles that read the same
// count as one app. Characters that show nothing (zero-width spaces and
// joiners, a byte-order mark, a soft hyphen, the Hangul filler) and spaces
// other than one plain space between words made titles that look alike
// but were recorded, ranked and charted as different apps: one app split
// in two, or a second "Cursor" beside the real one. The title is recorded
// as it reads.
func TestAppTitlesThatReadAlikeAreRecordedAlike(t *testing.T) {
	for _, c := range []struct{ sent, want string }{
		{"Cursor\u200b", "Cursor"},
		{"Cur\u200dsor", "Cursor"},
		{"\ufeffCursor\u2060", "Cursor"},
		{"Cur\u00adsor", "Cursor"},
		{"Cursor\u00a0", "Cursor"},
		{"Cursor\u3000\u3164", "Cursor"},
		{"My\u00a0 App", "My App"},
		{"My\u2003App", "My App"},
		{"Cursor\ufe0f", "Cursor"},
		{"\u200b\u3164", ""},
		{"臺灣 助手", "臺灣 助手"}, // kept as sent
	} {
		h := newHarness(t, harnessOpts{})
		evs := h.attributedRequest("X-OpenRouter-Title", c.sent, "https://example.tw/")
		if got := evs[0].AppTitle; got != c.want {
			t.Errorf("title %+q recorded as %+q, want %+q", c.sent, got, c.want)
		}
	}
}
