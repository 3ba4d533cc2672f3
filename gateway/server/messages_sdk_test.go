package server

import (
	"context"
	"errors"
	"testing"

	"github.com/anthropics/anthropic-sdk-go"
	"github.com/anthropics/anthropic-sdk-go/option"

	"github.com/routefree/routefree/gateway/providers/providertest"
)

// The official Anthropic Go SDK against /api/v1/messages, with the base URL
// a Claude Code user sets (ANTHROPIC_BASE_URL=https://…/api): plain,
// streamed and tool calls, through a native and a translated upstream.

func (h *harness) anthropicSDK() anthropic.Client {
	return anthropic.NewClient(option.WithBaseURL(h.http.URL+"/api/"), option.WithAPIKey(h.key), option.WithMaxRetries(0))
}

func TestMessagesAnthropicSDK(t *testing.T) {
	weather := []anthropic.ToolUnionParam{{OfTool: &anthropic.ToolParam{Name: "get_weather",
		Description: anthropic.String("Weather now"),
		InputSchema: anthropic.ToolInputSchemaParam{Properties: map[string]any{"city": map[string]any{"type": "string"}}}}}}
	for _, model := range []string{"claude-sonnet-4-6", "openai/gpt-4.1"} {
		t.Run(model, func(t *testing.T) {
			h := msgHarness(t, harnessOpts{scripts: map[string]providertest.Script{
				"anthropic": {Text: "Hello there", Chunks: 2, Usage: providertest.Usage{Prompt: 11, Completion: 2}},
				"openai":    {Text: "Hello there", Chunks: 2, Usage: providertest.Usage{Prompt: 11, Completion: 2}},
			}})
			fake := h.fakes["openai"]
			if model == "claude-sonnet-4-6" {
				fake = h.fakes["anthropic"]
			}
			cl := h.anthropicSDK()
			ctx := context.Background()
			params := anthropic.MessageNewParams{Model: anthropic.Model(model), MaxTokens: 100,
				Messages: []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock("hi"))}}

			msg, err := cl.Messages.New(ctx, params)
			if err != nil {
				t.Fatal(err)
			}
			if len(msg.Content) != 1 || msg.Content[0].Text != "Hello there" || msg.StopReason != anthropic.StopReasonEndTurn ||
				msg.Usage.InputTokens != 11 || msg.Usage.OutputTokens != 2 {
				t.Fatalf("message %+v", msg)
			}

			stream := cl.Messages.NewStreaming(ctx, params)
			var acc anthropic.Message
			for stream.Next() {
				if err := acc.Accumulate(stream.Current()); err != nil {
					t.Fatal(err)
				}
			}
			if err := stream.Err(); err != nil {
				t.Fatal(err)
			}
			if len(acc.Content) != 1 || acc.Content[0].Text != "Hello there" || acc.StopReason != anthropic.StopReasonEndTurn || acc.Usage.OutputTokens != 2 {
				t.Fatalf("streamed message %+v", acc)
			}

			fake.SetScript(providertest.Script{ToolCalls: []providertest.ToolCall{{ID: "toolu_1", Name: "get_weather", Arguments: `{"city":"Tainan"}`}}})
			params.Tools = weather
			first, err := cl.Messages.New(ctx, params)
			if err != nil {
				t.Fatal(err)
			}
			if first.StopReason != anthropic.StopReasonToolUse || len(first.Content) != 1 || first.Content[0].Type != "tool_use" ||
				first.Content[0].Name != "get_weather" || string(first.Content[0].Input) != `{"city":"Tainan"}` {
				t.Fatalf("tool call %+v", first)
			}
			fake.SetScript(providertest.Script{Text: "Sunny in Tainan."})
			params.Messages = append(params.Messages, first.ToParam(),
				anthropic.NewUserMessage(anthropic.NewToolResultBlock(first.Content[0].ID, "31°C", false)))
			stream = cl.Messages.NewStreaming(ctx, params)
			acc = anthropic.Message{}
			for stream.Next() {
				if err := acc.Accumulate(stream.Current()); err != nil {
					t.Fatal(err)
				}
			}
			if err := stream.Err(); err != nil || len(acc.Content) != 1 || acc.Content[0].Text != "Sunny in Tainan." {
				t.Fatalf("after the tool result: %v %+v", err, acc)
			}
			if n := len(h.completed()); n != 4 {
				t.Fatalf("%d request events, want 4", n)
			}
			h.heldIsZero()

			_, err = cl.Messages.New(ctx, anthropic.MessageNewParams{Model: "claude-none-1", MaxTokens: 10,
				Messages: []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock("hi"))}})
			var apiErr *anthropic.Error
			if !errors.As(err, &apiErr) || apiErr.StatusCode != 404 {
				t.Fatalf("unknown model: %v", err)
			}
		})
	}
}
