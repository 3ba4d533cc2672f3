package server

import (
	"bufio"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/gateway/providers/providertest"
)

// flaggedText is what the client wrote that a moderator flagged: it may go
// back to the client, whose words it is, and nowhere else.
const flaggedText = "you are a worthless excuse for a coworker and everyone here laughs at you"

// openRouterModeration is OpenRouter's documented answer when a model it
// serves requires moderation and the input was flagged: a 403 whose
// metadata gives the reasons and the flagged text (ModerationErrorMetadata
// of its errors reference), as any upstream speaking OpenRouter's shape
// answers it.
const openRouterModeration = `{"error":{"message":"openai/gpt-4o requires moderation on Azure. Your input was flagged for \"harassment\". No credits were charged.","code":403,"metadata":{"reasons":["harassment"],"flagged_input":"` + flaggedText + `","provider_name":"Azure","model_slug":"openai/gpt-4o"}}}`

// logLevels counts the log's lines by level and reports whether any line
// holds s.
func logLevels(t *testing.T, logs, s string) (map[string]int, bool) {
	t.Helper()
	levels := map[string]int{}
	sc := bufio.NewScanner(strings.NewReader(logs))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var line map[string]any
		if json.Unmarshal(sc.Bytes(), &line) == nil {
			levels[line["level"].(string)]++
		}
	}
	return levels, strings.Contains(logs, s)
}

// An upstream that moderates (OpenRouter as an upstream) answered a
// flagged input with its 403, and the gateway read the 403 as a refusal of
// its own credentials: the client got a 502 upstream_refused_gateway, no
// reasons and no flagged_input, and the operator an ERROR line blaming the
// key configured for the upstream. The client's input was flagged: it gets
// OpenRouter's own answer, a 403 whose metadata gives reasons,
// flagged_input, provider_name and model_slug, as the OpenRouter SDKs read
// it. Nothing is billed, no other upstream of the model is sent the
// flagged input, and the log says nothing of the operator's key nor holds
// the flagged text.
func TestUpstreamModerationFlagIsAnsweredAsTheClientsInput(t *testing.T) {
	h := newHarness(t, twoUpstreams("openai", providertest.Script{Status: http.StatusForbidden, ErrorBody: openRouterModeration}, Config{}))
	for _, body := range []string{foBody, foStream} {
		resp, b := h.post(body)
		if resp.StatusCode != http.StatusForbidden {
			t.Fatalf("%s: %d %s, want 403", body, resp.StatusCode, b)
		}
		e := decodeError(t, b).Error
		if e.Code != http.StatusForbidden {
			t.Errorf("%s: error.code %d, want 403", body, e.Code)
		}
		for _, w := range []string{"flagged", "harassment", "not billed"} {
			if !strings.Contains(e.Message, w) {
				t.Errorf("%s: message %q does not say %q", body, e.Message, w)
			}
		}
		if strings.Contains(e.Message, "gateway's own") || strings.Contains(e.Message, flaggedText) {
			t.Errorf("%s: message %q", body, e.Message)
		}
		md := e.Metadata
		reasons, _ := json.Marshal(md["reasons"])
		if string(reasons) != `["harassment"]` || md["flagged_input"] != flaggedText || md["provider_name"] != "first" ||
			md["model_slug"] != "test/fo" || md["upstream_status"] != float64(http.StatusForbidden) {
			t.Errorf("%s: metadata %v", body, md)
		}
		if raw, _ := md["raw"].(string); !strings.Contains(raw, "requires moderation on Azure") {
			t.Errorf("%s: raw %q, want the upstream's words", body, raw)
		}
	}
	if n := len(h.fakes["second"].Received()); n != 0 {
		t.Errorf("the flagged input went to the second upstream too (%d requests)", n)
	}
	if c := h.completed(); len(c) != 0 {
		t.Errorf("billed: %+v", c)
	}
	for _, f := range h.waitFailed(2) {
		if f.Status != http.StatusForbidden || f.Outcome != domain.OutcomeRejected {
			t.Errorf("recorded failure %+v, want a 403 rejected", f)
		}
	}
	h.heldIsZero()
	levels, leaked := logLevels(t, h.logs.String(), "worthless")
	if levels["ERROR"] != 0 || leaked {
		t.Errorf("the log has %d ERROR lines, flagged text in it: %v: %s", levels["ERROR"], leaked, h.logs.String())
	}
}

// OpenRouter sends an error that comes once it has answered 200 as an SSE
// event of the same shape: a stream whose first event is the moderation
// flag is answered as the 403 above, not as the gateway's key refused, and
// a flagged text longer than OpenRouter's 100 characters is shortened as
// OpenRouter shortens it, its middle left out.
func TestModerationFlagInAStreamIsTheClientsInput(t *testing.T) {
	long := strings.Repeat("a", 60) + strings.Repeat("b", 60)
	event := strings.Replace(openRouterModeration, flaggedText, long, 1)
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		_, _ = w.Write([]byte("data: " + event + "\n\n"))
	}))
	t.Cleanup(up.Close)
	h := newHarness(t, harnessOpts{
		models:  map[string][]upstreamSpec{"test/fo": {{fake: "first", kind: "openai", baseURL: up.URL}, {fake: "second", kind: "openai"}}},
		scripts: map[string]providertest.Script{"second": {Text: "from the second"}},
	})
	resp, b := h.post(foStream)
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("%d %s, want 403", resp.StatusCode, b)
	}
	md := decodeError(t, b).Error.Metadata
	if want := strings.Repeat("a", 49) + "..." + strings.Repeat("b", 48); md["flagged_input"] != want {
		t.Errorf("flagged_input %q, want %q", md["flagged_input"], want)
	}
	if n := len(h.fakes["second"].Received()); n != 0 {
		t.Errorf("the flagged input went to the second upstream too (%d requests)", n)
	}
	if levels, leaked := logLevels(t, h.logs.String(), long[50:70]); levels["ERROR"] != 0 || leaked {
		t.Errorf("the log has %d ERROR lines, flagged text in it: %v: %s", levels["ERROR"], leaked, h.logs.String())
	}
}

// As OpenRouter documents for its models list, a moderation flag moves on
// to the next model the client listed (its own choice of a model that may
// take the input), which answers and is billed.
func TestModerationFlagFallsBackToTheNextListedModel(t *testing.T) {
	h := newHarness(t, harnessOpts{
		models: map[string][]upstreamSpec{
			"test/moderated": {{fake: "moderated", kind: "openai"}},
			"test/next":      {{fake: "next", kind: "anthropic"}},
		},
		scripts: map[string]providertest.Script{
			"moderated": {Status: http.StatusForbidden, ErrorBody: openRouterModeration},
			"next":      {Text: "from next"},
		},
	})
	resp, b := h.post(`{"model":"test/moderated","models":["test/next"],"messages":[{"role":"user","content":"hi"}]}`)
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(b), "from next") {
		t.Fatalf("%d %s, want test/next's answer", resp.StatusCode, b)
	}
	if c := h.completed(); len(c) != 1 || c[0].Model != "test/next" {
		t.Fatalf("completed %+v", c)
	}
}

// Providers' own content filters refusing the input, word for word: OpenAI's
// 400 invalid_prompt (its reasoning models) and content_policy_violation,
// Azure OpenAI's 400 content_filter (whose body has a numeric status and
// the categories filtered in innererror), and Anthropic's 400 for output its
// filter blocked. Each is the client's 400 with the provider's words and
// code, the categories as metadata.reasons when the provider names them; no
// other upstream is sent the input, nothing is billed and nothing is logged
// at ERROR as though the operator's key were at fault.
func TestProviderContentFiltersAreTheClientsBadRequest(t *testing.T) {
	cases := []struct {
		name, kind, body, words, code, reasons string
	}{
		{"openai invalid_prompt", "openai",
			`{"error":{"message":"Invalid prompt: your prompt was flagged as potentially violating our usage policy. Please try again with a different prompt: https://platform.openai.com/docs/guides/reasoning#advice-on-prompting","type":"invalid_request_error","param":null,"code":"invalid_prompt"}}`,
			"your prompt was flagged as potentially violating our usage policy", "invalid_prompt", ""},
		{"openai content_policy_violation", "openai",
			`{"error":{"code":"content_policy_violation","message":"Your request was rejected as a result of our safety system. Your prompt may contain text that is not allowed by our safety system.","param":null,"type":"invalid_request_error"}}`,
			"rejected as a result of our safety system", "content_policy_violation", ""},
		{"azure content_filter", "openai",
			`{"error":{"message":"The response was filtered due to the prompt triggering Azure OpenAI's content management policy. Please modify your prompt and retry. To learn more about our content filtering policies please read our documentation: https://go.microsoft.com/fwlink/?linkid=2198766","type":null,"param":"prompt","code":"content_filter","status":400,"innererror":{"code":"ResponsibleAIPolicyViolation","content_filter_result":{"hate":{"filtered":false,"severity":"safe"},"self_harm":{"filtered":false,"severity":"safe"},"sexual":{"filtered":false,"severity":"safe"},"violence":{"filtered":true,"severity":"medium"},"jailbreak":{"filtered":true,"detected":true}}}}}`,
			"content management policy", "content_filter", `["jailbreak","violence"]`},
		{"anthropic output blocked", "anthropic",
			`{"type":"error","error":{"type":"invalid_request_error","message":"Output blocked by content filtering policy"}}`,
			"Output blocked by content filtering policy", "invalid_request_error", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, twoUpstreams(tc.kind, providertest.Script{Status: http.StatusBadRequest, ErrorBody: tc.body}, Config{}))
			for _, body := range []string{foBody, foStream} {
				resp, b := h.post(body)
				if resp.StatusCode != http.StatusBadRequest {
					t.Fatalf("%s: %d %s, want 400", body, resp.StatusCode, b)
				}
				e := decodeError(t, b).Error
				if !strings.Contains(e.Message, tc.words) {
					t.Errorf("%s: message %q lacks the provider's words %q", body, e.Message, tc.words)
				}
				if e.Metadata["upstream_code"] != tc.code || e.Metadata["provider_name"] != "first" {
					t.Errorf("%s: metadata %v, want upstream_code %q", body, e.Metadata, tc.code)
				}
				if reasons, _ := json.Marshal(e.Metadata["reasons"]); tc.reasons != "" && string(reasons) != tc.reasons {
					t.Errorf("%s: reasons %s, want %s", body, reasons, tc.reasons)
				} else if _, ok := e.Metadata["reasons"]; tc.reasons == "" && ok {
					t.Errorf("%s: reasons %s the provider did not give", body, reasons)
				}
			}
			if n := len(h.fakes["second"].Received()); n != 0 {
				t.Errorf("failed over to the second upstream (%d requests)", n)
			}
			if c := h.completed(); len(c) != 0 {
				t.Errorf("billed: %+v", c)
			}
			h.waitFailed(2)
			h.heldIsZero()
			if levels, _ := logLevels(t, h.logs.String(), ""); levels["ERROR"] != 0 {
				t.Errorf("%d ERROR lines: %s", levels["ERROR"], h.logs.String())
			}
		})
	}
}

// geminiBlocked is Gemini's answer to a prompt its safety filter blocked: a
// 200 without candidates, promptFeedback naming the reason, usage counting
// the prompt alone.
const geminiBlocked = `{"promptFeedback":{"blockReason":"SAFETY","safetyRatings":[{"category":"HARM_CATEGORY_SEXUALLY_EXPLICIT","probability":"NEGLIGIBLE"},{"category":"HARM_CATEGORY_HATE_SPEECH","probability":"HIGH"},{"category":"HARM_CATEGORY_HARASSMENT","probability":"MEDIUM"},{"category":"HARM_CATEGORY_DANGEROUS_CONTENT","probability":"NEGLIGIBLE"}]},"usageMetadata":{"promptTokenCount":9,"totalTokenCount":9,"promptTokensDetails":[{"modality":"TEXT","tokenCount":9}]},"modelVersion":"gemini-2.0-flash","responseId":"blocked-1"}`

// Gemini blocking a prompt answers 200 with promptFeedback.blockReason and
// no candidates. The client gets what OpenAI's clients read as filtered
// content, an empty answer with finish_reason content_filter, whole or
// streamed; it is an answer, not failed over, and with no token generated
// it costs nothing.
func TestGeminiBlockedPromptIsAFilteredAnswerNotBilled(t *testing.T) {
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.Contains(r.URL.Path, ":streamGenerateContent") {
			w.Header().Set("Content-Type", "text/event-stream")
			_, _ = w.Write([]byte("data: " + geminiBlocked + "\r\n\r\n"))
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(geminiBlocked))
	}))
	t.Cleanup(up.Close)
	h := newHarness(t, harnessOpts{
		models:  map[string][]upstreamSpec{"test/fo": {{fake: "blocker", kind: "gemini", baseURL: up.URL}, {fake: "second", kind: "gemini"}}},
		scripts: map[string]providertest.Script{"second": {Text: "from the second"}},
	})
	resp, b := h.post(foBody)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%d %s", resp.StatusCode, b)
	}
	m := decodeMap(t, b)
	want(t, m, "choices.0.finish_reason", "content_filter")
	want(t, m, "choices.0.message.content", "")
	want(t, m, "usage.completion_tokens", "0")

	resp, b = h.post(foStream)
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(b), `"finish_reason":"content_filter"`) || !strings.Contains(string(b), "data: [DONE]") {
		t.Fatalf("stream: %d %s", resp.StatusCode, b)
	}
	if n := len(h.fakes["second"].Received()); n != 0 {
		t.Errorf("failed over to the second upstream (%d requests)", n)
	}
	evs := h.completed()
	if len(evs) != 2 {
		t.Fatalf("%d completed events, want 2", len(evs))
	}
	for _, ev := range evs {
		if !ev.Cost.IsZero() || ev.Usage.Output != 0 || ev.FinishReason != "content_filter" {
			t.Errorf("event %+v, want content_filter at no cost", ev)
		}
	}
	h.heldIsZero()
}
