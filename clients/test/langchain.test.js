// LangChain's ChatOpenAI with RouteFree's base URL.
import { test } from "node:test";
import assert from "node:assert/strict";
import { ChatOpenAI } from "@langchain/openai";
import { HumanMessage, ToolMessage } from "@langchain/core/messages";
import { z } from "zod";
import { apiKey, baseURL, errorChunkMessage, errorChunkPrompt, model, replyText, weatherSchema } from "../env.js";

const chat = () => new ChatOpenAI({ model, apiKey, configuration: { baseURL }, maxRetries: 0, temperature: 0 });
const weatherTool = { type: "function", function: { name: "get_weather", description: "current weather of a city", parameters: weatherSchema } };

test("langchain: invoke", async () => {
  const msg = await chat().invoke("Say hello");
  assert.equal(msg.content, replyText);
  assert.ok(msg.usage_metadata.input_tokens > 0 && msg.usage_metadata.output_tokens > 0);
  assert.match(msg.id, /^gen-/);
});

test("langchain: stream", async () => {
  let text = "", n = 0;
  for await (const chunk of await chat().stream("Say hello")) {
    text += chunk.content;
    n++;
  }
  assert.equal(text, replyText);
  assert.ok(n > 1, `${n} chunks`);
});

// An upstream (OpenRouter as one) ending a generation midway with its own
// error chunk: the stream throws its error (through the OpenAI SDK
// underneath) after the part delivered.
test("langchain: a stream ending in an upstream's error chunk throws", async () => {
  let text = "";
  await assert.rejects(async () => {
    for await (const chunk of await chat().stream(errorChunkPrompt)) text += chunk.content;
  }, new RegExp(errorChunkMessage));
  assert.ok(text.length > 0 && replyText.startsWith(text) && text !== replyText, `delivered ${JSON.stringify(text)}`);
});

test("langchain: bindTools", async () => {
  const ai = await chat().bindTools([weatherTool]).invoke("What is the weather in Taipei?");
  assert.equal(ai.tool_calls.length, 1);
  assert.equal(ai.tool_calls[0].name, "get_weather");
  assert.deepEqual(ai.tool_calls[0].args, { city: "Taipei" });
  assert.match(ai.tool_calls[0].id, /^call_/);
});

test("langchain: bindTools, then the tool result back", async () => {
  const llm = chat().bindTools([weatherTool]);
  const question = new HumanMessage("What is the weather in Taipei?");
  const ai = await llm.invoke([question]);
  // LangChain sends the tool result with the tool's name on it.
  const result = new ToolMessage({ content: '{"celsius":24}', tool_call_id: ai.tool_calls[0].id, name: "get_weather" });
  const answer = await llm.invoke([question, ai, result]);
  assert.equal(answer.content, replyText);
});

test("langchain: withStructuredOutput (zod)", async () => {
  const schema = z.object({ city: z.string(), celsius: z.number(), sunny: z.boolean() });
  const out = await chat().withStructuredOutput(schema, { name: "weather_report" }).invoke("Weather in Taipei as JSON");
  assert.deepEqual(out, { city: "Taipei", celsius: 22.5, sunny: true });
});

test("langchain: withStructuredOutput by function calling", async () => {
  const schema = z.object({ city: z.string(), days: z.number().int() });
  const out = await chat().withStructuredOutput(schema, { name: "forecast", method: "functionCalling" }).invoke("Forecast for Taipei");
  assert.deepEqual(out, { city: "Taipei", days: 1 });
});
