// The Vercel AI SDK with the OpenRouter provider, which validates each
// response against OpenRouter's schema.
import { test } from "node:test";
import assert from "node:assert/strict";
import { APICallError, generateText, streamText, tool, stepCountIs, jsonSchema } from "ai";
import { createOpenRouter } from "@openrouter/ai-sdk-provider";
import { apiKey, baseURL, claudeModel, errorChunkMessage, errorChunkPrompt, failPrompt, flagPrompt, geminiModel, model, reasoningText, replyText, weatherSchema } from "../env.js";

const openrouter = createOpenRouter({ apiKey, baseURL, headers: { "X-Title": "RouteFree client tests" } });
const llm = () => openrouter.chat(model);

test("ai sdk: generateText with usage", async () => {
  const r = await generateText({ model: llm(), prompt: "Say hello", maxRetries: 0 });
  assert.equal(r.text, replyText);
  assert.equal(r.finishReason, "stop");
  assert.ok(r.usage.inputTokens > 0 && r.usage.outputTokens > 0);
});

test("ai sdk: streamText", async () => {
  const r = streamText({ model: llm(), prompt: "Say hello", maxRetries: 0 });
  let text = "";
  for await (const part of r.textStream) text += part;
  assert.equal(text, replyText);
  assert.equal(await r.finishReason, "stop");
});

// A provider failing while it answers: an error part with the gateway's
// message and an "error" finish, not an answer that looks complete.
test("ai sdk: a stream the upstream breaks ends in an error", async () => {
  const r = streamText({ model: llm(), prompt: failPrompt, maxRetries: 0, onError: () => {} });
  let text = "";
  const errors = [];
  for await (const part of r.fullStream) {
    if (part.type === "text-delta") text += part.text;
    if (part.type === "error") errors.push(part.error);
  }
  assert.equal(await r.finishReason, "error");
  assert.equal(errors.length, 1);
  assert.match(JSON.stringify(errors[0]), /overloaded.*billed for what was delivered/);
  assert.ok(text.length > 0 && replyText.startsWith(text) && text !== replyText, `delivered ${JSON.stringify(text)}`);
});

// An upstream (OpenRouter as one) ending a generation midway with its own
// error chunk: an error part with its message and an "error" finish.
test("ai sdk: a stream ending in an upstream's error chunk ends in an error", async () => {
  const r = streamText({ model: llm(), prompt: errorChunkPrompt, maxRetries: 0, onError: () => {} });
  let text = "";
  const errors = [];
  for await (const part of r.fullStream) {
    if (part.type === "text-delta") text += part.text;
    if (part.type === "error") errors.push(part.error);
  }
  assert.equal(await r.finishReason, "error");
  assert.equal(errors.length, 1);
  assert.match(JSON.stringify(errors[0]), new RegExp(errorChunkMessage));
  assert.ok(text.length > 0 && replyText.startsWith(text) && text !== replyText, `delivered ${JSON.stringify(text)}`);
});

// An input the upstream's moderation flags: an APICallError of status 403
// whose body has OpenRouter's moderation metadata.
test("ai sdk: a moderation flag is a 403 APICallError with its reasons", async () => {
  await assert.rejects(generateText({ model: llm(), prompt: flagPrompt, maxRetries: 0 }), (err) => {
    assert.ok(APICallError.isInstance(err), `${err.name}: ${err.message}`);
    assert.equal(err.statusCode, 403);
    assert.equal(err.isRetryable, false);
    assert.match(err.message, /flagged.*harassment/);
    const md = JSON.parse(err.responseBody).error.metadata;
    assert.deepEqual(md.reasons, ["harassment"]);
    assert.equal(md.flagged_input, flagPrompt);
    return true;
  });
});

test("ai sdk: streamText reports usage", async () => {
  const r = streamText({ model: llm(), prompt: "Say hello", maxRetries: 0 });
  for await (const _ of r.textStream); // drain
  const usage = await r.usage;
  assert.ok(usage.inputTokens > 0 && usage.outputTokens > 0, `usage ${JSON.stringify(usage)}`);
});

// The provider reads which provider served from the answer's "provider",
// as OpenRouter sends it, whole and streamed (the fake upstream's catalog
// provider is "fake").
test("ai sdk: the provider that served is in providerMetadata", async () => {
  const r = await generateText({ model: llm(), prompt: "Say hello", maxRetries: 0 });
  assert.equal(r.providerMetadata?.openrouter?.provider, "fake");
  const s = streamText({ model: llm(), prompt: "Say hello", maxRetries: 0 });
  for await (const _ of s.fullStream); // drain
  assert.equal((await s.providerMetadata)?.openrouter?.provider, "fake");
});

test("ai sdk: tool call and tool result", async () => {
  const seen = [];
  const r = await generateText({
    model: llm(), prompt: "What is the weather in Taipei?", maxRetries: 0, stopWhen: stepCountIs(2),
    tools: {
      get_weather: tool({
        description: "current weather of a city",
        inputSchema: jsonSchema(weatherSchema),
        execute: async ({ city }) => { seen.push(city); return { city, celsius: 24 }; },
      }),
    },
  });
  assert.deepEqual(seen, ["Taipei"]);
  assert.equal(r.steps.length, 2);
  assert.equal(r.steps[0].toolCalls[0].toolName, "get_weather");
  assert.equal(r.text, replyText); // the answer after the tool result
});

// A tool without arguments is an object schema with no properties, which
// Gemini refuses in a function declaration; the gateway declares it bare.
test("ai sdk: Gemini with a tool that takes no arguments", async () => {
  const r = await generateText({
    model: openrouter.chat(geminiModel), prompt: "What time is it?", maxRetries: 0,
    tools: { current_time: tool({ description: "the current time", inputSchema: jsonSchema({ type: "object", properties: {}, additionalProperties: false }) }) },
  });
  assert.equal(r.text, replyText);
  assert.equal(r.finishReason, "stop");
});

test("ai sdk: streamed tool call", async () => {
  const r = streamText({
    model: llm(), prompt: "What is the weather in Taipei?", maxRetries: 0,
    tools: { get_weather: tool({ description: "current weather of a city", inputSchema: jsonSchema(weatherSchema) }) },
  });
  for await (const _ of r.fullStream); // drain
  const calls = await r.toolCalls;
  assert.equal(calls.length, 1);
  assert.equal(calls[0].toolName, "get_weather");
  assert.deepEqual(calls[0].input, { city: "Taipei" });
  assert.equal(await r.finishReason, "tool-calls");
});

test("ai sdk: reasoning text, answered and streamed", async () => {
  const thinker = openrouter.chat(model, { reasoning: { effort: "low" } });
  const r = await generateText({ model: thinker, prompt: "Say hello", maxRetries: 0 });
  assert.equal(r.text, replyText);
  assert.equal(r.reasoningText, reasoningText);

  const s = streamText({ model: thinker, prompt: "Say hello", maxRetries: 0 });
  let reasoning = "", text = "";
  for await (const part of s.fullStream) {
    if (part.type === "reasoning-delta") reasoning += part.text;
    if (part.type === "text-delta") text += part.text;
  }
  assert.equal(reasoning, reasoningText);
  assert.equal(text, replyText);

  // reasoning.exclude: the model reasons, the text stays out.
  const quiet = openrouter.chat(model, { reasoning: { effort: "low", exclude: true } });
  const q = await generateText({ model: quiet, prompt: "Say hello", maxRetries: 0 });
  assert.equal(q.text, replyText);
  assert.ok(!q.reasoningText, `reasoning ${q.reasoningText}`);
});

// Claude with reasoning in a tool loop: the provider sends step 1's
// reasoning_details (the signed thinking block) back with the assistant
// turn, and only with them does step 2 think again (Anthropic wants the
// turn to start with that block; without it the gateway turns thinking off).
for (const mode of ["generateText", "streamText"]) {
  test(`ai sdk: Claude keeps thinking across a tool call (${mode})`, async () => {
    const seen = [];
    const opts = {
      model: openrouter.chat(claudeModel, { reasoning: { effort: "low" } }),
      prompt: "What is the weather in Taipei?", maxRetries: 0, stopWhen: stepCountIs(2),
      tools: {
        get_weather: tool({
          description: "current weather of a city",
          inputSchema: jsonSchema(weatherSchema),
          execute: async ({ city }) => { seen.push(city); return { city, celsius: 24 }; },
        }),
      },
    };
    let steps, text;
    if (mode === "generateText") {
      const r = await generateText(opts);
      steps = r.steps; text = r.text;
    } else {
      const r = streamText(opts);
      for await (const _ of r.fullStream); // drain
      steps = await r.steps; text = await r.text;
    }
    assert.deepEqual(seen, ["Taipei"]);
    assert.equal(steps.length, 2);
    assert.equal(steps[0].toolCalls[0].toolName, "get_weather");
    assert.equal(steps[0].reasoningText, reasoningText);
    assert.equal(steps[1].reasoningText, reasoningText, "the second step did not think");
    assert.equal(text, replyText);
  });
}
