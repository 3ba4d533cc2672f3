package server

import (
	"context"
	"strings"
	"testing"

	"github.com/openai/openai-go"
	"github.com/openai/openai-go/option"
	"github.com/openai/openai-go/shared"

	"github.com/routefree/routefree/gateway/providers/providertest"
)

// These tests drive the gateway with the official OpenAI Go SDK, as a
// customer would, and check what each kind of upstream received on the wire.

var kinds = []string{"openai", "anthropic", "gemini"}

type check struct{ path, value string }

func TestSDKTextSystemMaxTokensStopSeed(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	client := h.sdk()
	wants := map[string][]check{
		"openai": {{"model", "up-openai"}, {"messages.0.role", "system"}, {"messages.0.content", "You are terse."},
			{"messages.1.content", "Say hi"}, {"max_completion_tokens", "50"}, {"stop", `["END"]`}, {"seed", "7"}},
		"anthropic": {{"model", "up-anthropic"}, {"system.0.text", "You are terse."}, {"messages.0.role", "user"},
			{"messages.0.content.0.text", "Say hi"}, {"max_tokens", "50"}, {"stop_sequences", `["END"]`}},
		"gemini": {{"systemInstruction.parts.0.text", "You are terse."}, {"contents.0.role", "user"},
			{"contents.0.parts.0.text", "Say hi"}, {"generationConfig.maxOutputTokens", "50"},
			{"generationConfig.stopSequences", `["END"]`}, {"generationConfig.seed", "7"}},
	}
	for _, kind := range kinds {
		t.Run(kind, func(t *testing.T) {
			h.fakes[kind].SetScript(providertest.Script{Text: "hi there", Usage: providertest.Usage{Prompt: 12, Completion: 3}})
			resp, err := client.Chat.Completions.New(context.Background(), openai.ChatCompletionNewParams{
				Model:     "test/" + kind,
				Messages:  []openai.ChatCompletionMessageParamUnion{openai.SystemMessage("You are terse."), openai.UserMessage("Say hi")},
				MaxTokens: openai.Int(50),
				Stop:      openai.ChatCompletionNewParamsStopUnion{OfStringArray: []string{"END"}},
				Seed:      openai.Int(7),
			}, option.WithJSONSet("provider", map[string]any{"order": []string{kind}}), option.WithJSONSet("transforms", []string{}))
			if err != nil {
				t.Fatal(err)
			}
			if resp.Choices[0].Message.Content != "hi there" || resp.Model != "test/"+kind || !strings.HasPrefix(resp.ID, "gen-") {
				t.Fatalf("response %+v", resp)
			}
			if resp.Usage.PromptTokens != 12 || resp.Usage.CompletionTokens != 3 {
				t.Fatalf("usage %+v", resp.Usage)
			}
			got := h.fakes[kind].Last()
			h.noClientSecret(got)
			m := wire(t, got)
			for _, c := range wants[kind] {
				want(t, m, c.path, c.value)
			}
			absent(t, m, "provider")
			absent(t, m, "transforms")
			if kind == "gemini" && !strings.Contains(got.Path, "up-gemini:generateContent") {
				t.Fatalf("gemini path %s", got.Path)
			}
		})
	}
	h.heldIsZero()
	if n := len(h.completed()); n != 3 {
		t.Fatalf("%d completed events, want 3", n)
	}
}

func TestSDKStreamingWithAccumulator(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	client := h.sdk()
	text := "Streaming through RouteFree works in every wire format."
	for _, kind := range kinds {
		t.Run(kind, func(t *testing.T) {
			h.fakes[kind].SetScript(providertest.Script{Text: text, Chunks: 6, Usage: providertest.Usage{Prompt: 20, Completion: 11}})
			stream := client.Chat.Completions.NewStreaming(context.Background(), openai.ChatCompletionNewParams{
				Model:         "test/" + kind,
				Messages:      []openai.ChatCompletionMessageParamUnion{openai.UserMessage("stream please")},
				StreamOptions: openai.ChatCompletionStreamOptionsParam{IncludeUsage: openai.Bool(true)},
			})
			acc := openai.ChatCompletionAccumulator{}
			chunks := 0
			for stream.Next() {
				acc.AddChunk(stream.Current())
				chunks++
			}
			if err := stream.Err(); err != nil {
				t.Fatal(err)
			}
			if chunks < 6 {
				t.Fatalf("only %d chunks", chunks)
			}
			if acc.Choices[0].Message.Content != text || acc.Choices[0].FinishReason != "stop" {
				t.Fatalf("accumulated %q finish %q", acc.Choices[0].Message.Content, acc.Choices[0].FinishReason)
			}
			if acc.Usage.PromptTokens != 20 || acc.Usage.CompletionTokens != 11 {
				t.Fatalf("usage %+v", acc.Usage)
			}
			got := h.fakes[kind].Last()
			h.noClientSecret(got)
			m := wire(t, got)
			switch kind {
			case "gemini":
				if !strings.Contains(got.Path, ":streamGenerateContent") {
					t.Fatalf("gemini stream path %s", got.Path)
				}
			default:
				want(t, m, "stream", "true")
			}
		})
	}
	h.heldIsZero()
}

// weatherTool is a function tool with a JSON Schema for its arguments.
var weatherTool = openai.ChatCompletionToolParam{Function: shared.FunctionDefinitionParam{
	Name: "get_weather", Description: openai.String("Weather for a city"),
	Parameters: shared.FunctionParameters{"type": "object", "properties": map[string]any{"city": map[string]any{"type": "string"}}, "required": []string{"city"}},
}}

// toolHistory is a conversation with two parallel calls already answered.
func toolHistory() []openai.ChatCompletionMessageParamUnion {
	asst := openai.ChatCompletionAssistantMessageParam{ToolCalls: []openai.ChatCompletionMessageToolCallParam{
		{ID: "call_1", Function: openai.ChatCompletionMessageToolCallFunctionParam{Name: "get_weather", Arguments: `{"city":"Taipei"}`}},
		{ID: "call_2", Function: openai.ChatCompletionMessageToolCallFunctionParam{Name: "get_weather", Arguments: `{"city":"Tainan"}`}},
	}}
	return []openai.ChatCompletionMessageParamUnion{
		openai.UserMessage("Weather in Taipei and Tainan?"),
		{OfAssistant: &asst},
		openai.ToolMessage(`{"temp":28}`, "call_1"),
		openai.ToolMessage(`{"temp":31}`, "call_2"),
		openai.UserMessage("And Hualien and Taitung?"),
	}
}

func TestSDKToolsParallelCallsAndResults(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	client := h.sdk()
	calls := []providertest.ToolCall{
		{ID: "call_x", Name: "get_weather", Arguments: `{"city":"Hualien"}`},
		{ID: "call_y", Name: "get_weather", Arguments: `{"city":"Taitung"}`},
	}
	wants := map[string][]check{
		"openai": {{"tools.0.function.name", "get_weather"}, {"tools.0.function.parameters.required", `["city"]`},
			{"messages.1.tool_calls.1.id", "call_2"}, {"messages.1.tool_calls.1.function.arguments", `{"city":"Tainan"}`},
			{"messages.2.role", "tool"}, {"messages.2.tool_call_id", "call_1"}, {"messages.3.content", `{"temp":31}`}},
		"anthropic": {{"tools.0.name", "get_weather"}, {"tools.0.input_schema.required", `["city"]`},
			{"messages.1.role", "assistant"}, {"messages.1.content.0.type", "tool_use"}, {"messages.1.content.1.id", "call_2"},
			{"messages.1.content.1.input.city", "Tainan"}, {"messages.2.role", "user"},
			{"messages.2.content.0.type", "tool_result"}, {"messages.2.content.0.tool_use_id", "call_1"},
			{"messages.2.content.1.tool_use_id", "call_2"}},
		"gemini": {{"tools.0.functionDeclarations.0.name", "get_weather"}, {"contents.1.role", "model"},
			{"contents.1.parts.1.functionCall.name", "get_weather"}, {"contents.1.parts.1.functionCall.args.city", "Tainan"},
			{"contents.2.parts.0.functionResponse.name", "get_weather"}, {"contents.2.parts.1.functionResponse.name", "get_weather"}},
	}
	params := openai.ChatCompletionNewParams{Messages: toolHistory(), Tools: []openai.ChatCompletionToolParam{weatherTool},
		ParallelToolCalls: openai.Bool(true)}
	for _, kind := range kinds {
		t.Run(kind, func(t *testing.T) {
			h.fakes[kind].SetScript(providertest.Script{ToolCalls: calls})
			params.Model = "test/" + kind
			resp, err := client.Chat.Completions.New(context.Background(), params)
			if err != nil {
				t.Fatal(err)
			}
			tc := resp.Choices[0].Message.ToolCalls
			if len(tc) != 2 || tc[0].Function.Name != "get_weather" || tc[0].Function.Arguments != `{"city":"Hualien"}` ||
				tc[1].Function.Arguments != `{"city":"Taitung"}` || tc[0].ID == "" || tc[0].ID == tc[1].ID ||
				resp.Choices[0].FinishReason != "tool_calls" {
				t.Fatalf("tool calls %+v finish %q", tc, resp.Choices[0].FinishReason)
			}
			m := wire(t, h.fakes[kind].Last())
			for _, c := range wants[kind] {
				want(t, m, c.path, c.value)
			}

			// The same answer streamed: argument deltas accumulate into whole calls.
			stream := client.Chat.Completions.NewStreaming(context.Background(), params)
			acc := openai.ChatCompletionAccumulator{}
			var finished []string
			for stream.Next() {
				acc.AddChunk(stream.Current())
				if call, ok := acc.JustFinishedToolCall(); ok {
					finished = append(finished, call.Arguments)
				}
			}
			if err := stream.Err(); err != nil {
				t.Fatal(err)
			}
			stc := acc.Choices[0].Message.ToolCalls
			if len(stc) != 2 || stc[0].Function.Arguments != `{"city":"Hualien"}` || stc[1].Function.Arguments != `{"city":"Taitung"}` || stc[1].Function.Name != "get_weather" {
				t.Fatalf("streamed tool calls %+v", stc)
			}
			if len(finished) < 1 || finished[0] != `{"city":"Hualien"}` {
				t.Fatalf("JustFinishedToolCall saw %q", finished)
			}
		})
	}
	h.heldIsZero()
}

func TestSDKJSONSchemaOutput(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	client := h.sdk()
	schema := map[string]any{"type": "object", "properties": map[string]any{"city": map[string]any{"type": "string"}}, "required": []string{"city"}, "additionalProperties": false}
	answer := `{"city":"Taipei"}`
	for _, kind := range kinds {
		t.Run(kind, func(t *testing.T) {
			s := providertest.Script{Text: answer}
			if kind == "anthropic" {
				// Claude answers structured output through the forced tool.
				s = providertest.Script{ToolCalls: []providertest.ToolCall{{Name: "city_answer", Arguments: answer}}}
			}
			h.fakes[kind].SetScript(s)
			resp, err := client.Chat.Completions.New(context.Background(), openai.ChatCompletionNewParams{
				Model:    "test/" + kind,
				Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("Capital of Taiwan as JSON")},
				ResponseFormat: openai.ChatCompletionNewParamsResponseFormatUnion{OfJSONSchema: &shared.ResponseFormatJSONSchemaParam{
					JSONSchema: shared.ResponseFormatJSONSchemaJSONSchemaParam{Name: "city_answer", Schema: schema, Strict: openai.Bool(true)}}},
			})
			if err != nil {
				t.Fatal(err)
			}
			if resp.Choices[0].Message.Content != answer || len(resp.Choices[0].Message.ToolCalls) != 0 || resp.Choices[0].FinishReason != "stop" {
				t.Fatalf("message %+v finish %q", resp.Choices[0].Message, resp.Choices[0].FinishReason)
			}
			m := wire(t, h.fakes[kind].Last())
			switch kind {
			case "openai":
				want(t, m, "response_format.type", "json_schema")
				want(t, m, "response_format.json_schema.name", "city_answer")
				want(t, m, "response_format.json_schema.schema.required", `["city"]`)
			case "anthropic":
				want(t, m, "tools.0.name", "city_answer")
				want(t, m, "tools.0.input_schema.required", `["city"]`)
				want(t, m, "tool_choice.type", "tool")
				want(t, m, "tool_choice.name", "city_answer")
			case "gemini":
				want(t, m, "generationConfig.responseMimeType", "application/json")
				want(t, m, "generationConfig.responseSchema.required", `["city"]`)
			}
		})
	}
}

func TestSDKAssistantPrefill(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	client := h.sdk()
	wants := map[string][]check{
		"openai":    {{"messages.1.role", "assistant"}, {"messages.1.content", "The capital is "}},
		"anthropic": {{"messages.1.role", "assistant"}, {"messages.1.content.0.text", "The capital is"}}, // trailing space trimmed: Anthropic rejects it
		"gemini":    {{"contents.1.role", "model"}, {"contents.1.parts.0.text", "The capital is "}},
	}
	for _, kind := range kinds {
		t.Run(kind, func(t *testing.T) {
			h.fakes[kind].SetScript(providertest.Script{Text: "Taipei."})
			resp, err := client.Chat.Completions.New(context.Background(), openai.ChatCompletionNewParams{
				Model:    "test/" + kind,
				Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("Capital of Taiwan?"), openai.AssistantMessage("The capital is ")},
			})
			if err != nil {
				t.Fatal(err)
			}
			if resp.Choices[0].Message.Content != "Taipei." {
				t.Fatalf("content %q", resp.Choices[0].Message.Content)
			}
			m := wire(t, h.fakes[kind].Last())
			for _, c := range wants[kind] {
				want(t, m, c.path, c.value)
			}
		})
	}
}

func TestSDKImagesByURLAndDataURL(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	client := h.sdk()
	const png = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
	wants := map[string][]check{
		"openai": {{"messages.0.content.0.text", "Compare these"}, {"messages.0.content.1.image_url.url", "https://example.com/cat.png"},
			{"messages.0.content.2.image_url.url", "data:image/png;base64," + png}},
		"anthropic": {{"messages.0.content.0.text", "Compare these"}, {"messages.0.content.1.type", "image"},
			{"messages.0.content.1.source.type", "url"}, {"messages.0.content.1.source.url", "https://example.com/cat.png"},
			{"messages.0.content.2.source.type", "base64"}, {"messages.0.content.2.source.media_type", "image/png"},
			{"messages.0.content.2.source.data", png}},
		"gemini": {{"contents.0.parts.0.text", "Compare these"}, {"contents.0.parts.1.fileData.fileUri", "https://example.com/cat.png"},
			{"contents.0.parts.2.inlineData.mimeType", "image/png"}, {"contents.0.parts.2.inlineData.data", png}},
	}
	for _, kind := range kinds {
		t.Run(kind, func(t *testing.T) {
			h.fakes[kind].SetScript(providertest.Script{Text: "Two images."})
			resp, err := client.Chat.Completions.New(context.Background(), openai.ChatCompletionNewParams{
				Model: "test/" + kind,
				Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage([]openai.ChatCompletionContentPartUnionParam{
					openai.TextContentPart("Compare these"),
					openai.ImageContentPart(openai.ChatCompletionContentPartImageImageURLParam{URL: "https://example.com/cat.png"}),
					openai.ImageContentPart(openai.ChatCompletionContentPartImageImageURLParam{URL: "data:image/png;base64," + png}),
				})},
			})
			if err != nil {
				t.Fatal(err)
			}
			if resp.Choices[0].Message.Content != "Two images." {
				t.Fatalf("content %q", resp.Choices[0].Message.Content)
			}
			m := wire(t, h.fakes[kind].Last())
			for _, c := range wants[kind] {
				want(t, m, c.path, c.value)
			}
		})
	}
}

// An error from the gateway reaches the SDK as a typed *openai.Error. An
// unknown model is OpenRouter's 400 "… is not a valid model ID", which
// clients built for OpenRouter look for.
func TestSDKSeesGatewayErrors(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	client := h.sdk()
	_, err := client.Chat.Completions.New(context.Background(), openai.ChatCompletionNewParams{
		Model: "nobody/nothing", Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("x")}})
	var ae *openai.Error
	if !asOpenAIError(err, &ae) || ae.StatusCode != 400 || !strings.HasPrefix(ae.Message, "nobody/nothing is not a valid model ID") {
		t.Fatalf("error %v", err)
	}
}
