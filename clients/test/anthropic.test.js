// The Anthropic SDK against /api/v1/messages, as Claude Code uses it with
// ANTHROPIC_BASE_URL set to RouteFree.
import { test } from "node:test";
import assert from "node:assert/strict";
import Anthropic from "@anthropic-ai/sdk";
import { apiKey, baseURL, claudeModel, failPrompt, model, replyText, weatherSchema } from "../env.js";

// The SDK appends /v1/messages to its base URL.
const client = new Anthropic({ apiKey, baseURL: baseURL.replace(/\/v1$/, ""), maxRetries: 0 });

test("anthropic sdk: messages", async () => {
  const r = await client.messages.create({ model, max_tokens: 100, messages: [{ role: "user", content: "Say hello" }] });
  assert.equal(r.type, "message");
  assert.equal(r.content[0].text, replyText);
  assert.ok(r.usage.input_tokens > 0);
});

test("anthropic sdk: streamed messages", async () => {
  const stream = client.messages.stream({ model, max_tokens: 100, messages: [{ role: "user", content: "Say hello" }] });
  const final = await stream.finalMessage();
  assert.equal(final.content[0].text, replyText);
});

// A provider overloaded while it answers: the stream's error event is
// Anthropic's overloaded_error, which is how clients (Claude Code among
// them) tell an overload from other failures once a stream has begun.
test("anthropic sdk: an overload mid-stream is an overloaded_error", async () => {
  const stream = client.messages.stream({ model, max_tokens: 100, messages: [{ role: "user", content: failPrompt }] });
  let text = "";
  stream.on("text", (t) => { text += t; });
  await assert.rejects(stream.finalMessage(), (err) => {
    assert.equal(err.error?.error?.type, "overloaded_error", JSON.stringify(err.error));
    assert.match(err.message, /overloaded_error/);
    return true;
  });
  assert.ok(text.length > 0 && replyText.startsWith(text) && text !== replyText, `delivered ${JSON.stringify(text)}`);
});

test("anthropic sdk: tool use, then the tool result back", async () => {
  const tools = [{
    name: "get_weather", description: "Current weather in a city",
    input_schema: { type: "object", properties: { city: { type: "string" } }, required: ["city"] },
  }];
  const messages = [{ role: "user", content: "What is the weather in Taipei?" }];
  const first = await client.messages.create({ model, max_tokens: 200, tools, messages });
  assert.equal(first.stop_reason, "tool_use");
  const use = first.content.find((b) => b.type === "tool_use");
  assert.ok(use, "a tool_use block");
  assert.equal(use.name, "get_weather");
  assert.equal(typeof use.input.city, "string");
  const second = await client.messages.create({
    model, max_tokens: 200, tools,
    messages: [...messages, { role: "assistant", content: first.content },
      { role: "user", content: [{ type: "tool_result", tool_use_id: use.id, content: "晴, 24°C" }] }],
  });
  assert.equal(second.type, "message");
  assert.ok(second.usage.output_tokens > 0);
});

// Claude Code's call: messages.stream with tools, to a Claude model, whose
// tool_use block the SDK assembles from input_json_delta pieces.
test("anthropic sdk: streamed tool use from Claude", async () => {
  const stream = client.messages.stream({
    model: claudeModel, max_tokens: 200,
    tools: [{ name: "get_weather", description: "Current weather in a city", input_schema: weatherSchema }],
    messages: [{ role: "user", content: "What is the weather in Taipei?" }],
  });
  const final = await stream.finalMessage();
  assert.equal(final.stop_reason, "tool_use");
  const use = final.content.find((b) => b.type === "tool_use");
  assert.ok(use, `no tool_use block in ${JSON.stringify(final.content)}`);
  assert.equal(use.name, "get_weather");
  assert.deepEqual(use.input, { city: "Taipei" });
  assert.ok(final.usage.output_tokens > 0);
});
