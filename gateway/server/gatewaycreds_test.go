package server

import (
	"bufio"
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/gateway/providers/providertest"
)

// Providers' own refusals of the gateway's key or account, word for word:
// OpenAI's 401 with its masked fragment of the key (the older and the newer
// mask), an OpenAI-format host's (NVIDIA's keys, masked the same way),
// Anthropic's 401 and its 400 for an account out of credit, Gemini's 400 for
// a key it does not know and its 403 quoting the key of a suspended
// consumer, and a 402 from a host whose balance ran out (DeepSeek's).
var gatewayRefusals = []struct {
	name, kind string
	status     int
	body       string
	raw        string   // what metadata.raw keeps of the provider's text
	fragments  []string // of the key, which nobody may see
}{
	{"openai 401", "openai", 401,
		`{"error":{"message":"Incorrect API key provided: sk-proj-************************************************************************************************************************************************Q3xA. You can find your API key at https://platform.openai.com/account/api-keys.","type":"invalid_request_error","param":null,"code":"invalid_api_key"}}`,
		"Incorrect API key provided: [redacted key]. You can find your API key at https://platform.openai.com/account/api-keys.",
		[]string{"Q3xA", "sk-proj", "****"}},
	{"openai 401, short mask", "openai", 401,
		`{"error":{"message":"Incorrect API key provided: sk-...nOUA. You can find your API key at https://platform.openai.com/account/api-keys.","type":"invalid_request_error","code":"invalid_api_key","param":null}}`,
		"Incorrect API key provided: [redacted key]. You can find your API key at https://platform.openai.com/account/api-keys.",
		[]string{"nOUA", "sk-."}},
	{"openai-format host 401", "openai", 401,
		`{"error":{"message":"Incorrect API key provided: nvapi-dy**********************************************************xZvs. You can find your API key at https://platform.openai.com/account/api-keys.","type":"invalid_request_error","param":null,"code":"invalid_api_key"}}`,
		"Incorrect API key provided: [redacted key]. You can find your API key at https://platform.openai.com/account/api-keys.",
		[]string{"nvapi-dy", "xZvs", "****"}},
	{"anthropic 401", "anthropic", 401,
		`{"type":"error","error":{"type":"authentication_error","message":"invalid x-api-key"},"request_id":"req_011CVfR3nDj4kJ2ZqHxUrFm8"}`,
		"invalid x-api-key", nil},
	{"anthropic out of credit", "anthropic", 400,
		`{"type":"error","error":{"type":"invalid_request_error","message":"Your credit balance is too low to access the Anthropic API. Please go to Plans & Billing to upgrade or purchase credits."}}`,
		"Your credit balance is too low to access the Anthropic API. Please go to Plans & Billing to upgrade or purchase credits.", nil},
	{"gemini key not valid", "gemini", 400,
		`{"error":{"code":400,"message":"API key not valid. Please pass a valid API key.","status":"INVALID_ARGUMENT","details":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"API_KEY_INVALID","domain":"googleapis.com","metadata":{"service":"generativelanguage.googleapis.com"}},{"@type":"type.googleapis.com/google.rpc.LocalizedMessage","locale":"en-US","message":"API key not valid. Please pass a valid API key."}]}}`,
		"API key not valid. Please pass a valid API key.", nil},
	{"gemini consumer suspended", "gemini", 403,
		`{"error":{"code":403,"message":"Permission denied: Consumer 'api_key:AIzaSyD3x4mpl3Fr4gm3ntOfAK3yXyZ0123456' has been suspended.","status":"PERMISSION_DENIED","details":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"CONSUMER_SUSPENDED","domain":"googleapis.com","metadata":{"service":"generativelanguage.googleapis.com","consumer":"projects/123456789"}}]}}`,
		"Permission denied: Consumer 'api_key:[redacted key]' has been suspended.",
		[]string{"AIza", "Fr4gm3nt"}},
	{"host out of balance", "openai", 402,
		`{"error":{"message":"Insufficient Balance","type":"unknown_error","param":null,"code":"invalid_request_error"}}`,
		"Insufficient Balance", nil},
	// OpenRouter as an upstream refuses its key past the key's spending
	// limit with a 403, which is no moderation flag: no reasons, no
	// flagged input.
	{"openrouter key limit", "openai", 403,
		`{"error":{"message":"Key limit exceeded (total limit)","code":403}}`,
		"Key limit exceeded (total limit)", nil},
	// Gemini refuses the region the gateway calls from with a 400: nothing
	// in the client's request would change it.
	{"gemini location", "gemini", 400,
		`{"error":{"code":400,"message":"User location is not supported for the API use.","status":"FAILED_PRECONDITION"}}`,
		"User location is not supported for the API use.", nil},
}

// An upstream refusing the gateway's own key or account answered the
// client a 502 "upstream error: Incorrect API key provided: sk-proj-****…Q3xA":
// a customer read it as their own key refused, and every customer was
// shown the last characters of the operator's provider key, in the message
// and in metadata.raw. The answer says that the provider refused the
// gateway's credentials, not the client's key, and that nothing is billed;
// raw keeps the provider's words without any part of a key; the operator
// reads it in an ERROR log line naming the provider and its status. No
// failover: the design fails over on connect errors, timeouts, 429 and
// 5xx alone.
func TestUpstreamRefusingTheGatewaysCredentials(t *testing.T) {
	for _, tc := range gatewayRefusals {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, twoUpstreams(tc.kind, providertest.Script{Status: tc.status, ErrorBody: tc.body}, Config{}))
			for _, body := range []string{foBody, foStream} {
				resp, b := h.post(body)
				if resp.StatusCode != http.StatusBadGateway {
					t.Fatalf("%s: %d %s, want 502", body, resp.StatusCode, b)
				}
				e := decodeError(t, b).Error
				msg, md := e.Message, e.Metadata
				for _, want := range []string{"first", "the gateway's own", "not your API key", "not billed"} {
					if !strings.Contains(msg, want) {
						t.Errorf("%s: message %q does not say %q", body, msg, want)
					}
				}
				if strings.Contains(msg, tc.raw) {
					t.Errorf("%s: message %q gives the provider's refusal as the client's", body, msg)
				}
				if md["provider_name"] != "first" || md["upstream_status"] != float64(tc.status) || md["raw"] != tc.raw {
					t.Errorf("%s: metadata %v, want provider_name first, upstream_status %d and raw %q", body, md, tc.status, tc.raw)
				}
				for _, f := range tc.fragments {
					if bytes.Contains(b, []byte(f)) {
						t.Errorf("%s: the answer shows %q of the key: %s", body, f, b)
					}
				}
			}
			if n := len(h.fakes["second"].Received()); n != 0 {
				t.Errorf("failed over to the second upstream (%d requests)", n)
			}
			if c := h.completed(); len(c) != 0 {
				t.Errorf("billed: %+v", c)
			}
			for _, f := range h.waitFailed(2) {
				if f.Status != http.StatusBadGateway || f.Outcome != domain.OutcomeUpstreamFailed || f.Provider != "" && f.Provider != "first" {
					t.Errorf("recorded failure %+v", f)
				}
			}
			h.heldIsZero()

			logs := h.logs.String()
			errorLines := 0
			sc := bufio.NewScanner(strings.NewReader(logs))
			sc.Buffer(nil, 1<<20)
			for sc.Scan() {
				var line map[string]any
				if json.Unmarshal(sc.Bytes(), &line) != nil || line["level"] != "ERROR" {
					continue
				}
				if line["provider"] == "first" && line["status"] == float64(tc.status) {
					errorLines++
				}
			}
			if errorLines != 2 {
				t.Errorf("%d ERROR lines naming provider first and status %d, want 2: %s", errorLines, tc.status, logs)
			}
			for _, never := range append([]string{"upstream-secret", tc.raw}, tc.fragments...) {
				if strings.Contains(logs, never) {
					t.Errorf("the log holds %q: %s", never, logs)
				}
			}
		})
	}
}
