// The OpenAI SDK, pointed at RouteFree by base URL and key alone.
import { test } from "node:test";
import assert from "node:assert/strict";
import OpenAI from "openai";
import { apiKey, baseURL, claudeModel, errorChunkMessage, errorChunkPrompt, failPrompt, flagPrompt, model, replyText } from "../env.js";

const client = new OpenAI({ apiKey, baseURL, maxRetries: 0 });

test("openai: chat completion", async () => {
  const r = await client.chat.completions.create({ model, messages: [{ role: "user", content: "Say hello" }] });
  assert.equal(r.object, "chat.completion");
  assert.equal(r.model, model);
  assert.match(r.id, /^gen-/);
  assert.equal(r.choices[0].message.content, replyText);
  assert.equal(r.choices[0].finish_reason, "stop");
  assert.ok(r.usage.prompt_tokens > 0 && r.usage.completion_tokens > 0);
  assert.equal(r.usage.total_tokens, r.usage.prompt_tokens + r.usage.completion_tokens);
});

test("openai: streamed chat completion with usage", async () => {
  const stream = await client.chat.completions.create({
    model, stream: true, stream_options: { include_usage: true },
    messages: [{ role: "user", content: "Say hello" }],
  });
  let text = "", finish = null, usage = null, chunks = 0;
  for await (const chunk of stream) {
    chunks++;
    assert.equal(chunk.object, "chat.completion.chunk");
    for (const c of chunk.choices) {
      text += c.delta?.content ?? "";
      finish = c.finish_reason ?? finish;
    }
    if (chunk.usage) usage = chunk.usage;
  }
  assert.ok(chunks > 2, `only ${chunks} chunks`);
  assert.equal(text, replyText);
  assert.equal(finish, "stop");
  assert.ok(usage && usage.prompt_tokens > 0 && usage.completion_tokens > 0, "no usage chunk");
});

// OpenRouter's choices carry the provider's own finish reason for every
// provider, OpenAI's included, where it is OpenAI's finish_reason: in a
// whole answer, and in the chunk that ends a stream.
test("openai: native_finish_reason beside finish_reason, whole and streamed", async () => {
  const messages = [{ role: "user", content: "Say hello" }];
  const r = await client.chat.completions.create({ model, messages });
  assert.equal(r.choices[0].finish_reason, "stop");
  assert.equal(r.choices[0].native_finish_reason, "stop");
  const stream = await client.chat.completions.create({ model, stream: true, messages });
  const ends = [];
  for await (const chunk of stream) {
    for (const c of chunk.choices) {
      if (c.finish_reason !== null) ends.push([c.finish_reason, c.native_finish_reason]);
    }
  }
  assert.deepEqual(ends, [["stop", "stop"]]);
});

// A provider failing while it answers: the SDK throws the error chunk's
// error after the part delivered, rather than ending as if complete.
test("openai: a stream the upstream breaks throws its error", async () => {
  const stream = await client.chat.completions.create({ model, stream: true, messages: [{ role: "user", content: failPrompt }] });
  let text = "";
  await assert.rejects(async () => {
    for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? "";
  }, (err) => err.error?.code === 502 && err.error?.metadata?.error_type === "provider_overloaded" && /billed for what was delivered/.test(err.message));
  assert.ok(text.length > 0 && replyText.startsWith(text) && text !== replyText, `delivered ${JSON.stringify(text)}`);
});

// An upstream (OpenRouter as one) ending a generation midway with its own
// error chunk: the SDK throws that chunk's error, as it throws any chunk
// carrying one, after the part delivered.
test("openai: a stream ending in an upstream's error chunk throws its error", async () => {
  const stream = await client.chat.completions.create({ model, stream: true, messages: [{ role: "user", content: errorChunkPrompt }] });
  let text = "";
  await assert.rejects(async () => {
    for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? "";
  }, (err) => {
    assert.ok(err instanceof OpenAI.APIError, `${err.name}: ${err.message}`);
    assert.equal(err.error?.code, 502);
    assert.match(err.message, new RegExp(errorChunkMessage));
    return true;
  });
  assert.ok(text.length > 0 && replyText.startsWith(text) && text !== replyText, `delivered ${JSON.stringify(text)}`);
});

// An input the upstream's moderation flags: the SDK raises its
// PermissionDeniedError (403), whose error body has OpenRouter's
// moderation metadata, whole and streamed.
for (const stream of [false, true]) {
  test(`openai: a moderation flag is a PermissionDeniedError with its reasons (stream: ${stream})`, async () => {
    await assert.rejects(
      client.chat.completions.create({ model, stream, messages: [{ role: "user", content: flagPrompt }] }),
      (err) => {
        assert.ok(err instanceof OpenAI.PermissionDeniedError, `${err.name}: ${err.message}`);
        assert.equal(err.status, 403);
        assert.equal(err.error.code, 403);
        assert.match(err.error.message, /flagged.*harassment/);
        assert.deepEqual(err.error.metadata.reasons, ["harassment"]);
        assert.equal(err.error.metadata.flagged_input, flagPrompt);
        return true;
      },
    );
  });
}

test("openai: tool call", async () => {
  const r = await client.chat.completions.create({
    model, messages: [{ role: "user", content: "Weather in Taipei?" }],
    tools: [{ type: "function", function: { name: "get_weather", parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] } } }],
  });
  const call = r.choices[0].message.tool_calls?.[0];
  assert.equal(r.choices[0].finish_reason, "tool_calls");
  assert.equal(call.function.name, "get_weather");
  assert.equal(JSON.parse(call.function.arguments).city, "Taipei");
});

// OpenAI's allowed_tools: the whole tools list stays in the request and
// the model calls only the listed tools. Claude, which has no such option,
// is sent only those (the fake calls the first tool it is sent). A listed
// tool the request does not declare is a BadRequestError naming it.
test("openai: allowed_tools lets Claude call only the listed tools", async () => {
  const tools = [
    { type: "function", function: { name: "book_flight", parameters: { type: "object", properties: { to: { type: "string" } }, required: ["to"] } } },
    { type: "function", function: { name: "get_weather", parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] } } },
  ];
  const allow = (mode, name) => ({ type: "allowed_tools", allowed_tools: { mode, tools: [{ type: "function", function: { name } }] } });
  const messages = [{ role: "user", content: "Weather in Taipei?" }];
  const r = await client.chat.completions.create({ model: claudeModel, messages, tools, tool_choice: allow("required", "get_weather") });
  assert.equal(r.choices[0].finish_reason, "tool_calls");
  assert.equal(r.choices[0].message.tool_calls[0].function.name, "get_weather");
  await assert.rejects(
    client.chat.completions.create({ model: claudeModel, messages, tools, tool_choice: allow("auto", "delete_all") }),
    (err) => {
      assert.ok(err instanceof OpenAI.BadRequestError, `${err.name}: ${err.message}`);
      assert.equal(err.error.metadata.param, "tool_choice.allowed_tools.tools[0].function.name");
      return true;
    });
});

// Claude streams a call of a tool without arguments with no JSON at all;
// the SDK must still assemble arguments it can parse. Its result then goes
// back without tools, as OpenAI's own example sends it, which Anthropic
// takes only with the conversation's tools declared.
test("openai: Claude's streamed call of a tool without arguments, its result sent back without tools", async () => {
  const tools = [{ type: "function", function: { name: "list_cities", description: "the cities served", parameters: { type: "object", properties: {} } } }];
  const question = { role: "user", content: "Which cities?" };
  const stream = client.chat.completions.stream({ model: claudeModel, messages: [question], tools });
  const first = await stream.finalChatCompletion();
  const call = first.choices[0].message.tool_calls?.[0];
  assert.equal(first.choices[0].finish_reason, "tool_calls");
  assert.equal(call.function.name, "list_cities");
  assert.deepEqual(JSON.parse(call.function.arguments), {});
  const r = await client.chat.completions.create({
    model: claudeModel,
    messages: [question, { role: "assistant", content: null, tool_calls: [call] },
      { role: "tool", tool_call_id: call.id, content: JSON.stringify({ cities: ["Taipei"] }) }],
  });
  assert.equal(r.choices[0].finish_reason, "stop");
  assert.equal(r.choices[0].message.content, replyText);
});

// OpenRouter answers an unknown model 400 "… is not a valid model ID".
test("openai: unknown model is a 400 in the OpenRouter error shape", async () => {
  await assert.rejects(
    client.chat.completions.create({ model: "nobody/nothing", messages: [{ role: "user", content: "hi" }] }),
    (err) => err.status === 400 && err.error?.code === 400 && err.error?.message?.startsWith("nobody/nothing is not a valid model ID")
      && err.error?.metadata?.model === "nobody/nothing",
  );
});

// models.retrieve sends the ID's slash escaped (/models/routefree%2Fecho);
// the answer is the model, as /models/{author}/{slug} gives it: at the top,
// as the OpenAI SDK reads it, and under data, as OpenRouter's does.
test("openai: models.retrieve of an author/slug ID", async () => {
  const r = await client.models.retrieve(model);
  assert.equal(r.id, model);
  assert.equal(r.object, "model");
  assert.equal(typeof r.owned_by, "string");
  assert.equal(r.data?.id, model);
  await assert.rejects(
    client.models.retrieve("nobody/nothing"),
    (err) => err.status === 404 && err.error?.code === 404 && err.error?.metadata?.model === "nobody/nothing",
  );
});

// The app a request came from, as OpenRouter's attribution headers name it,
// is recorded and shown by /generation.
async function appTitleOf(headers) {
  const r = await client.chat.completions.create({ model, messages: [{ role: "user", content: "hi" }] }, { headers });
  for (let i = 0; i < 50; i++) {
    const res = await fetch(`${baseURL}/generation?id=${r.id}`, { headers: { authorization: `Bearer ${apiKey}` } });
    if (res.status === 200) return (await res.json()).data.app_title;
    await new Promise((ok) => setTimeout(ok, 100));
  }
  throw new Error(`generation ${r.id} never found`);
}

test("openai: X-Title names the app", async () => {
  assert.equal(await appTitleOf({ "X-Title": "RouteFree Lab" }), "RouteFree Lab");
});

test("openai: X-OpenRouter-Title names the app", async () => {
  assert.equal(await appTitleOf({ "X-OpenRouter-Title": "RouteFree Lab" }), "RouteFree Lab");
});

// json_object to Claude is a forced tool whose input is the answer; an
// empty object streams no JSON at all from Anthropic, yet the streamed
// content must still parse, as the whole answer's does.
test("openai: Claude's streamed json_object answer of an empty object is JSON", async () => {
  const params = { model: claudeModel, response_format: { type: "json_object" }, messages: [{ role: "user", content: "Answer in JSON" }] };
  const whole = await client.chat.completions.create(params);
  const stream = await client.chat.completions.create({ ...params, stream: true });
  let text = "";
  for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? "";
  assert.deepEqual(JSON.parse(text), JSON.parse(whole.choices[0].message.content));
});
