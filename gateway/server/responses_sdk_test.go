package server

import (
	"context"
	"strings"
	"testing"

	"github.com/openai/openai-go"
	"github.com/openai/openai-go/packages/param"
	"github.com/openai/openai-go/responses"

	"github.com/routefree/routefree/gateway/providers/providertest"
)

// The official OpenAI Go SDK's Responses client against /api/v1/responses:
// plain, streamed, a tool call and its output sent back, a refused
// previous_response_id and a stream the upstream breaks.
func TestResponsesOpenAISDK(t *testing.T) {
	h := respHarness(t, providertest.Script{Text: "Hello there", Chunks: 2, Usage: providertest.Usage{Prompt: 11, Completion: 2}}, harnessOpts{})
	cl := h.sdk()
	ctx := context.Background()
	params := responses.ResponseNewParams{Model: "openai/gpt-4.1", Instructions: openai.String("Be brief."),
		Input: responses.ResponseNewParamsInputUnion{OfString: openai.String("hi")}}

	r, err := cl.Responses.New(ctx, params)
	if err != nil {
		t.Fatal(err)
	}
	if r.OutputText() != "Hello there" || r.Status != responses.ResponseStatusCompleted || r.Usage.InputTokens != 11 ||
		r.Usage.OutputTokens != 2 || r.Usage.TotalTokens != 13 || !strings.HasPrefix(r.ID, "resp_") {
		t.Fatalf("response %+v", r)
	}

	stream := cl.Responses.NewStreaming(ctx, params)
	text := ""
	var done responses.Response
	for stream.Next() {
		ev := stream.Current()
		switch ev.Type {
		case "response.output_text.delta":
			text += ev.Delta.OfString
		case "response.completed":
			done = ev.AsResponseCompleted().Response
		}
	}
	if err := stream.Err(); err != nil {
		t.Fatal(err)
	}
	if text != "Hello there" || done.OutputText() != "Hello there" || done.Usage.OutputTokens != 2 || done.Usage.InputTokens != 11 {
		t.Fatalf("streamed %q, final %+v", text, done)
	}

	h.fakes["openai"].SetScript(providertest.Script{ToolCalls: []providertest.ToolCall{{ID: "call_t1", Name: "get_weather", Arguments: `{"city":"Tainan"}`}}})
	params.Tools = []responses.ToolUnionParam{{OfFunction: &responses.FunctionToolParam{Name: "get_weather",
		Description: openai.String("Weather now"), Strict: openai.Bool(false),
		Parameters: map[string]any{"type": "object", "properties": map[string]any{"city": map[string]any{"type": "string"}}}}}}
	first, err := cl.Responses.New(ctx, params)
	if err != nil {
		t.Fatal(err)
	}
	if len(first.Output) != 1 || first.Output[0].Type != "function_call" {
		t.Fatalf("output %+v", first.Output)
	}
	call := first.Output[0].AsFunctionCall()
	if call.CallID != "call_t1" || call.Name != "get_weather" || call.Arguments != `{"city":"Tainan"}` {
		t.Fatalf("call %+v", call)
	}
	h.fakes["openai"].SetScript(providertest.Script{Text: "Sunny in Tainan."})
	callParam := call.ToParam()
	params.Input = responses.ResponseNewParamsInputUnion{OfInputItemList: responses.ResponseInputParam{
		responses.ResponseInputItemParamOfMessage("Weather in Tainan?", responses.EasyInputMessageRoleUser),
		{OfFunctionCall: &callParam},
		responses.ResponseInputItemParamOfFunctionCallOutput(call.CallID, "31°C"),
	}}
	second, err := cl.Responses.New(ctx, params)
	if err != nil || second.OutputText() != "Sunny in Tainan." {
		t.Fatalf("after the tool output: %v %+v", err, second)
	}
	if n := len(h.completed()); n != 4 {
		t.Fatalf("%d request events, want 4", n)
	}
	h.heldIsZero()

	params.PreviousResponseID = openai.String(second.ID)
	_, err = cl.Responses.New(ctx, params)
	var apiErr *openai.Error
	if !asOpenAIError(err, &apiErr) || apiErr.StatusCode != 400 || !strings.Contains(apiErr.Message, "previous_response_id") {
		t.Fatalf("previous_response_id: %v", err)
	}

	h.fakes["openai"].SetScript(providertest.Script{Text: "one two three four", Chunks: 4, CutAfter: 2, ErrorEvent: true})
	params.PreviousResponseID = param.Opt[string]{}
	params.Tools = nil
	stream = cl.Responses.NewStreaming(ctx, params)
	var failed bool
	for stream.Next() {
		failed = failed || stream.Current().Type == "response.failed"
	}
	if err := stream.Err(); err == nil || !failed || !strings.Contains(err.Error(), "billed for what was delivered") {
		t.Fatalf("a broken stream: failed event %v, err %v", failed, err)
	}
}
