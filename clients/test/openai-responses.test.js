// The OpenAI SDK's Responses API (client.responses), pointed at RouteFree
// by base URL and key alone.
import { test } from "node:test";
import assert from "node:assert/strict";
import OpenAI from "openai";
import { apiKey, baseURL, failPrompt, model, reasoningText, replyText, weatherSchema } from "../env.js";

const client = new OpenAI({ apiKey, baseURL, maxRetries: 0 });

function checkUsage(usage) {
  assert.ok(usage && usage.input_tokens > 0 && usage.output_tokens > 0, `usage ${JSON.stringify(usage)}`);
  assert.equal(usage.total_tokens, usage.input_tokens + usage.output_tokens);
  assert.equal(typeof usage.input_tokens_details?.cached_tokens, "number");
  assert.equal(typeof usage.output_tokens_details?.reasoning_tokens, "number");
  assert.ok(usage.cost > 0, "usage.cost is the NTD charge");
}

test("openai responses: create", async () => {
  const r = await client.responses.create({ model, instructions: "Be brief.", input: "Say hello" });
  assert.equal(r.object, "response");
  assert.match(r.id, /^resp_/);
  assert.equal(r.status, "completed");
  assert.equal(r.model, model);
  assert.equal(r.output_text, replyText);
  checkUsage(r.usage);
});

test("openai responses: create with stream, read with for await", async () => {
  const stream = await client.responses.create({ model, stream: true, input: [{ role: "user", content: "Say hello" }] });
  let text = "", completed = null, last = -1;
  for await (const event of stream) {
    assert.equal(event.sequence_number, last + 1);
    last = event.sequence_number;
    if (event.type === "response.output_text.delta") text += event.delta;
    if (event.type === "response.completed") completed = event.response;
  }
  assert.equal(text, replyText);
  assert.ok(completed, "no response.completed");
  assert.equal(completed.status, "completed");
  assert.equal(completed.output[0].content[0].text, replyText);
  checkUsage(completed.usage);
});

test("openai responses: stream helper's final response", async () => {
  const final = await client.responses.stream({ model, input: "Say hello" }).finalResponse();
  assert.equal(final.output_text, replyText);
  checkUsage(final.usage);
});

test("openai responses: reasoning effort brings the reasoning item", async () => {
  const r = await client.responses.create({ model, input: "Think, then say hello", reasoning: { effort: "low" } });
  const reasoning = r.output.find((o) => o.type === "reasoning");
  assert.equal(reasoning?.content?.[0]?.text, reasoningText);
  assert.equal(r.output_text, replyText);
});

test("openai responses: function call and its output sent back", async () => {
  const tools = [{ type: "function", name: "get_weather", description: "Weather now", parameters: weatherSchema, strict: true }];
  const input = [{ role: "user", content: "Weather in Taipei?" }];
  const first = await client.responses.create({ model, input, tools });
  const call = first.output.find((o) => o.type === "function_call");
  assert.equal(call?.name, "get_weather");
  assert.equal(typeof JSON.parse(call.arguments).city, "string");
  const r = await client.responses.create({
    model, tools,
    input: [...input, ...first.output, { type: "function_call_output", call_id: call.call_id, output: JSON.stringify({ temperature: 28 }) }],
  });
  assert.equal(r.output_text, replyText);
});

// A provider failing while it answers: the SDK throws the error event's
// error after the part delivered, as it does for a chat stream.
test("openai responses: a stream the upstream breaks throws its error", async () => {
  const stream = await client.responses.create({ model, stream: true, input: failPrompt });
  let text = "", failed = false;
  await assert.rejects(async () => {
    for await (const event of stream) {
      if (event.type === "response.output_text.delta") text += event.delta;
      if (event.type === "response.failed") failed = true;
    }
  }, (err) => err.error?.code === 502 && /billed for what was delivered/.test(err.message));
  assert.ok(failed, "no response.failed before the error");
  assert.ok(text.length > 0 && replyText.startsWith(text) && text !== replyText, `delivered ${JSON.stringify(text)}`);
});

test("openai responses: previous_response_id is refused, naming it", async () => {
  await assert.rejects(
    client.responses.create({ model, input: "again", previous_response_id: "resp_123" }),
    (err) => err.status === 400 && err.error?.metadata?.param === "previous_response_id" && /previous_response_id/.test(err.message),
  );
});
