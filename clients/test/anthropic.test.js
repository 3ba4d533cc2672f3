// The Anthropic SDK against /api/v1/messages, as Claude Code uses it with
// ANTHROPIC_BASE_URL set to RouteFree.
import { test } from "node:test";
import assert from "node:assert/strict";
import Anthropic from "@anthropic-ai/sdk";
import { apiKey, baseURL, model, pending, replyText } from "../env.js";

// The SDK appends /v1/messages to its base URL.
const client = new Anthropic({ apiKey, baseURL: baseURL.replace(/\/v1$/, ""), maxRetries: 0 });

test("anthropic sdk: messages", { todo: pending.messages }, async () => {
  const r = await client.messages.create({ model, max_tokens: 100, messages: [{ role: "user", content: "Say hello" }] });
  assert.equal(r.type, "message");
  assert.equal(r.content[0].text, replyText);
  assert.ok(r.usage.input_tokens > 0);
});

test("anthropic sdk: streamed messages", { todo: pending.messages }, async () => {
  const stream = client.messages.stream({ model, max_tokens: 100, messages: [{ role: "user", content: "Say hello" }] });
  const final = await stream.finalMessage();
  assert.equal(final.content[0].text, replyText);
});
