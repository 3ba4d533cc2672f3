// The official OpenRouter SDK: every response is parsed by the SDK's own
// zod schemas, so a field of the wrong type or a missing required one fails
// the call.
import { test } from "node:test";
import assert from "node:assert/strict";
import { OpenRouter } from "@openrouter/sdk";
import { ForbiddenResponseError, OpenRouterDefaultError } from "@openrouter/sdk/models/errors";
import {
  apiKey, baseURL, capKeys, cappedManagementKey, claudeModel, errorChunkMessage, errorChunkPrompt, failPrompt, flagPrompt,
  managementKey, model, replyText, weatherSchema,
} from "../env.js";

const or = new OpenRouter({ apiKey, serverURL: baseURL, retryConfig: { strategy: "none" } });
const [author, slug] = model.split("/");

test("openrouter sdk: chat", async () => {
  const r = await or.chat.send({ appTitle: "RouteFree client tests", chatRequest: { model, messages: [{ role: "user", content: "Say hello" }] } });
  assert.equal(r.choices[0].message.content, replyText);
  assert.ok(r.usage.promptTokens > 0);
  assert.equal(typeof r.usage.cost, "number");
});

test("openrouter sdk: stream", async () => {
  const stream = await or.chat.send({ chatRequest: { model, stream: true, messages: [{ role: "user", content: "Say hello" }] } });
  let text = "", finish = null;
  for await (const chunk of stream) {
    for (const c of chunk.choices) {
      text += c.delta?.content ?? "";
      finish = c.finishReason ?? finish;
    }
  }
  assert.equal(text, replyText);
  assert.equal(finish, "stop");
});

// A provider failing while it answers: the stream ends with OpenRouter's
// error chunk, which the SDK parses by its own schema (metadata.error_type
// is required there) and hands over, after the part already delivered.
test("openrouter sdk: a stream the upstream breaks ends with an error chunk", async () => {
  const stream = await or.chat.send({ chatRequest: { model, stream: true, messages: [{ role: "user", content: failPrompt }] } });
  let text = "", last = null;
  for await (const chunk of stream) {
    last = chunk;
    for (const c of chunk.choices) text += c.delta?.content ?? "";
  }
  assert.ok(text.length > 0 && text !== replyText && replyText.startsWith(text), `delivered ${JSON.stringify(text)}`);
  assert.equal(last.choices[0].finishReason, "error");
  assert.equal(last.error.code, 502);
  assert.match(last.error.message, /overloaded.*billed for what was delivered/);
  assert.equal(last.error.metadata.errorType, "provider_overloaded");
  assert.equal(last.error.metadata.providerCode, "503");
});

// An upstream (OpenRouter as one) ending a generation midway with its own
// error chunk: the SDK hands that chunk over, parsed by its schema, as the
// stream's last, after the part delivered.
test("openrouter sdk: an upstream's own error chunk ends the stream with it", async () => {
  const stream = await or.chat.send({ chatRequest: { model, stream: true, messages: [{ role: "user", content: errorChunkPrompt }] } });
  let text = "", errorChunk = null, chunks = 0;
  for await (const chunk of stream) {
    chunks++;
    for (const c of chunk.choices) {
      text += c.delta?.content ?? "";
      if (c.finishReason === "error") errorChunk = chunk;
    }
  }
  assert.ok(text.length > 0 && text !== replyText && replyText.startsWith(text), `delivered ${JSON.stringify(text)}`);
  assert.ok(errorChunk, `no chunk finished with "error" among ${chunks}`);
  assert.equal(errorChunk.error.code, 502);
  assert.match(errorChunk.error.message, new RegExp(errorChunkMessage));
  assert.equal(typeof errorChunk.error.metadata.errorType, "string");
});

// An input the upstream's moderation flags: the SDK raises its
// ForbiddenResponseError, whose error carries OpenRouter's moderation
// metadata, whole and streamed.
for (const stream of [false, true]) {
  test(`openrouter sdk: a moderation flag is a ForbiddenResponseError with its reasons (stream: ${stream})`, async () => {
    await assert.rejects(
      or.chat.send({ chatRequest: { model, stream, messages: [{ role: "user", content: flagPrompt }] } }),
      (err) => {
        assert.ok(err instanceof ForbiddenResponseError, `${err.name}: ${err.message}`);
        assert.equal(err.statusCode, 403);
        assert.equal(err.error.code, 403);
        assert.match(err.message, /flagged.*harassment/);
        assert.deepEqual(err.error.metadata.reasons, ["harassment"]);
        assert.equal(err.error.metadata.flagged_input, flagPrompt);
        assert.equal(err.error.metadata.model_slug, model);
        return true;
      },
    );
  });
}

// A streamed tool call, to an OpenAI-format and an Anthropic-format
// upstream: the SDK parses every chunk by its schema; the call's arguments
// join to its JSON, and every chunk carries the one "created" of the
// request, the gateway's own chunks (the last, with usage) included.
for (const m of [model, claudeModel]) {
  test(`openrouter sdk: streamed tool call (${m})`, async () => {
    const tools = [{ type: "function", function: { name: "get_weather", description: "current weather of a city", parameters: weatherSchema } }];
    const stream = await or.chat.send({ chatRequest: { model: m, stream: true, tools, messages: [{ role: "user", content: "What is the weather in Taipei?" }] } });
    let name = "", args = "", finish = null;
    const created = new Set();
    for await (const chunk of stream) {
      created.add(chunk.created);
      for (const c of chunk.choices) {
        for (const call of c.delta?.toolCalls ?? []) {
          name ||= call.function?.name ?? "";
          args += call.function?.arguments ?? "";
        }
        finish = c.finishReason ?? finish;
      }
    }
    assert.equal(name, "get_weather");
    assert.deepEqual(JSON.parse(args), { city: "Taipei" });
    assert.equal(finish, "tool_calls");
    assert.equal(created.size, 1, `chunks with created ${[...created].join(", ")}`);
  });
}

test("openrouter sdk: stream ends with usage", async () => {
  const stream = await or.chat.send({ chatRequest: { model, stream: true, messages: [{ role: "user", content: "Say hello" }] } });
  let usage = null;
  for await (const chunk of stream) usage = chunk.usage ?? usage;
  assert.ok(usage && usage.promptTokens > 0, "no usage chunk");
  assert.equal(typeof usage.cost, "number");
});

test("openrouter sdk: models list parsed by the SDK's schemas", async () => {
  const page = await or.models.list();
  const { data, totalCount } = page.result;
  assert.ok(data.length > 0);
  assert.equal(totalCount, data.length);
  const m = data.find((x) => x.id === model);
  assert.ok(m, `${model} not listed`);
  assert.equal(m.canonicalSlug, model);
  assert.equal(typeof m.created, "number");
  assert.equal(typeof m.pricing.prompt, "string");
  assert.equal(typeof m.pricing.completion, "string");
  assert.ok(Number(m.pricing.prompt) > 0);
  assert.deepEqual(m.architecture.inputModalities, ["text"]);
  assert.equal(m.architecture.modality, "text->text");
  assert.equal(m.topProvider.isModerated, false);
  assert.equal(m.perRequestLimits, null);
  assert.ok(m.supportedParameters.includes("tools"));
});

test("openrouter sdk: embedding models listed apart", async () => {
  const page = await or.embeddings.listModels();
  const { data, totalCount } = page.result;
  assert.equal(totalCount, data.length);
  assert.ok(data.some((m) => m.id === "routefree/echo-embedding"), "the fake upstream's embedding model is not listed");
  for (const m of data) assert.deepEqual(m.architecture.outputModalities, ["embeddings"]);
});

// The listing's filters, as OpenRouter documents them: text models unless
// outputModalities asks for others ("all" for every model), and the models
// taking every parameter supportedParameters names; the count agrees; and
// its sorts by release date and context length.
test("openrouter sdk: models list filtered by output modality and supported parameters", async () => {
  const ids = async (req) => (await or.models.list(req)).result.data.map((m) => m.id);
  const text = await ids();
  assert.ok(text.includes(model) && !text.includes("routefree/echo-embedding"), `listed ${text}`);
  const embeddings = await ids({ outputModalities: "embeddings" });
  assert.deepEqual(embeddings, (await or.embeddings.listModels()).result.data.map((m) => m.id));
  const all = await ids({ outputModalities: "all" });
  assert.equal(all.length, text.length + embeddings.length);
  assert.equal((await or.models.count({ outputModalities: "all" })).data.count, all.length);
  // routefree/echo takes n, the Claude models do not; they reason, and
  // Llama 3.3, which takes tools, does not.
  const n = await ids({ supportedParameters: "n" });
  assert.ok(n.includes(model) && !n.includes(claudeModel), `n: ${n}`);
  const reasoning = await ids({ supportedParameters: "tools,reasoning" });
  const llama = "meta-llama/llama-3.3-70b-instruct";
  assert.ok(text.includes(llama), `listed ${text}`);
  assert.ok(reasoning.includes(claudeModel) && !reasoning.includes(llama), `tools,reasoning: ${reasoning}`);
  // Sorted server-side, as the SDK's sort asks.
  const newest = (await or.models.list({ sort: "newest" })).result.data.map((m) => m.created);
  assert.deepEqual(newest, [...newest].sort((a, b) => b - a));
  const contexts = (await or.models.list({ sort: "context-high-to-low" })).result.data.map((m) => m.contextLength);
  assert.deepEqual(contexts, [...contexts].sort((a, b) => b - a));
  assert.notDeepEqual(newest, (await or.models.list()).result.data.map((m) => m.created), "newest changed no order");
});

test("openrouter sdk: models.get calls /model/{author}/{slug}", async () => {
  const r = await or.models.get({ author, slug });
  assert.equal(r.data.id, model);
  assert.equal(typeof r.data.pricing.completion, "string");
  // A routing variant, which chat takes, resolves to its base model's page.
  const nitro = await or.models.get({ author, slug: `${slug}:nitro` });
  assert.equal(nitro.data.id, model);
  const eps = await or.endpoints.list({ author, slug: `${slug}:floor` });
  assert.equal(eps.data.id, model);
  assert.ok(eps.data.endpoints.length >= 1);
});

test("openrouter sdk: models count and providers", async () => {
  const count = await or.models.count();
  const page = await or.models.list();
  assert.equal(count.data.count, page.result.data.length);
  const providers = await or.providers.list();
  const fake = providers.data.find((p) => p.slug === "fake");
  assert.ok(fake, "the fake upstream's provider is not listed");
  assert.equal(fake.privacyPolicyUrl, null);
});

test("openrouter sdk: endpoints of a model", async () => {
  const r = await or.endpoints.list({ author, slug });
  assert.equal(r.data.id, model);
  assert.ok(r.data.endpoints.length >= 1);
  const ep = r.data.endpoints[0];
  assert.equal(ep.status, 0);
  assert.equal(typeof ep.pricing.prompt, "string");
  assert.equal(ep.contextLength, 32768);
});

test("openrouter sdk: generation, credits and key", async () => {
  // The chat request goes by plain fetch so this test does not depend on
  // the SDK parsing a chat response.
  const res = await fetch(`${baseURL}/chat/completions`, {
    method: "POST",
    headers: { authorization: `Bearer ${apiKey}`, "content-type": "application/json", "HTTP-Referer": "https://example.tw/app" },
    body: JSON.stringify({ model, messages: [{ role: "user", content: "Say hello" }] }),
  });
  assert.equal(res.status, 200);
  const { id } = await res.json();

  let gen;
  for (let i = 0; i < 50; i++) { // the request index is updated right after the response
    try {
      gen = await or.generations.getGeneration({ id });
      break;
    } catch (err) {
      if (err.statusCode !== 404) throw err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  assert.ok(gen, `generation ${id} never found`);
  assert.equal(gen.data.id, id);
  assert.equal(gen.data.model, model);
  assert.equal(typeof gen.data.totalCost, "number");
  assert.ok(gen.data.totalCost > 0);
  assert.equal(gen.data.isByok, false);
  assert.ok(gen.data.tokensPrompt > 0);
  assert.equal(gen.data.origin, "https://example.tw/app");

  const credits = await or.credits.getCredits();
  assert.equal(typeof credits.data.totalCredits, "number");
  assert.ok(credits.data.totalUsage >= gen.data.totalCost);
  assert.ok(credits.data.totalCredits > credits.data.totalUsage);

  const key = await or.apiKeys.getCurrentKeyMetadata();
  assert.equal(typeof key.data.label, "string");
  assert.ok(key.data.usage >= gen.data.totalCost);
  assert.equal(key.data.isFreeTier, false);
  assert.equal(typeof key.data.rateLimit.requests, "number");
});

// A Claude answer carries Anthropic's own finish reason beside the
// normalised one, and /generation keeps both, as OpenRouter's does: the
// SDK reads them as finishReason and nativeFinishReason.
test("openrouter sdk: Claude's own finish reason, answered and in its generation", async () => {
  const res = await fetch(`${baseURL}/chat/completions`, {
    method: "POST",
    headers: { authorization: `Bearer ${apiKey}`, "content-type": "application/json" },
    body: JSON.stringify({ model: claudeModel, max_tokens: 100, messages: [{ role: "user", content: "Say hello" }] }),
  });
  assert.equal(res.status, 200);
  const answer = await res.json();
  assert.equal(answer.choices[0].finish_reason, "stop");
  assert.equal(answer.choices[0].native_finish_reason, "end_turn");
  assert.equal(answer.choices[0].logprobs, null);

  let gen;
  for (let i = 0; i < 50; i++) { // the request index is updated right after the response
    try {
      gen = await or.generations.getGeneration({ id: answer.id });
      break;
    } catch (err) {
      if (err.statusCode !== 404) throw err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  assert.ok(gen, `generation ${answer.id} never found`);
  assert.equal(gen.data.finishReason, "stop");
  assert.equal(gen.data.nativeFinishReason, "end_turn");
});

test("openrouter sdk: provider preferences are honoured", async () => {
  const messages = [{ role: "user", content: "Say hello" }];
  // Every preference the fake upstream meets: it keeps and trains on nothing.
  const r = await or.chat.send({
    chatRequest: {
      model, messages,
      provider: {
        order: ["fake"], only: ["fake"], allowFallbacks: false, sort: "latency", requireParameters: true,
        dataCollection: "deny", zdr: true, maxPrice: { prompt: "100000", completion: "100000" },
      },
    },
  });
  assert.equal(r.choices[0].message.content, replyText);
  // No upstream left: a 404 naming the requirement, which the SDK does not retry.
  await assert.rejects(
    or.chat.send({ chatRequest: { model, messages, provider: { ignore: ["fake"] } } }),
    (err) => {
      assert.equal(err.statusCode, 404);
      assert.match(err.message, /provider\.ignore/);
      return true;
    },
  );
});

test("openrouter sdk: activity, parsed by the SDK's schema", { skip: !managementKey && "no ROUTEFREE_MANAGEMENT_KEY" }, async () => {
  const admin = new OpenRouter({ apiKey: managementKey, serverURL: baseURL, retryConfig: { strategy: "none" } });
  // The requests of this run are today's, and the activity covers completed
  // UTC days: the SDK parses an answer with no rows.
  const all = await admin.analytics.getUserActivity();
  assert.ok(Array.isArray(all.data), JSON.stringify(all));
  const yesterday = new Date(Date.now() - 86400000).toISOString().slice(0, 10);
  const one = await admin.analytics.getUserActivity({ date: yesterday });
  assert.deepEqual(one.data, []);
  // An inference key may not read it.
  await assert.rejects(() => or.analytics.getUserActivity(), (e) => e.statusCode === 403 || /403/.test(String(e)));
});

test("openrouter sdk: key management, parsed by the SDK's schemas", { skip: !managementKey && "no ROUTEFREE_MANAGEMENT_KEY" }, async () => {
  const admin = new OpenRouter({ apiKey: managementKey, serverURL: baseURL, retryConfig: { strategy: "none" } });
  const made = await admin.apiKeys.create({ requestBody: { name: "sdk key", limit: 50, limitReset: "weekly" } });
  assert.equal(made.data.limitReset, "weekly");
  assert.equal(made.data.limitRemaining, 50);
  assert.match(made.key, /^sk-rf-/);
  const hash = made.data.hash;
  const changed = await admin.apiKeys.update({ hash, requestBody: { name: "sdk key (off)", disabled: true, limit: 40 } });
  assert.equal(changed.data.disabled, true);
  assert.equal(changed.data.limit, 40);
  // The disabled key is refused as OpenRouter refuses it: 401, which the
  // SDK raises as its UnauthorizedResponseError.
  const off = new OpenRouter({ apiKey: made.key, serverURL: baseURL, retryConfig: { strategy: "none" } });
  await assert.rejects(off.apiKeys.getCurrentKeyMetadata(), (err) =>
    err.statusCode === 401 && err.name === "UnauthorizedResponseError" && /disabled/.test(err.message));
  const listed = await admin.apiKeys.list({ includeDisabled: true, offset: 0 });
  assert.ok(listed.data.some((k) => k.hash === hash && k.disabled));
  assert.ok(!(await admin.apiKeys.list()).data.some((k) => k.hash === hash), "a disabled key is listed by default");
  assert.deepEqual(await admin.apiKeys.delete({ hash }), { deleted: true });
  // A limit without limitReset, or with null, never resets, as OpenRouter's:
  // a total for the key's life.
  for (const requestBody of [{ name: "lifetime", limit: 5 }, { name: "lifetime null", limit: 5, limitReset: null }]) {
    const lifetime = await admin.apiKeys.create({ requestBody });
    assert.equal(lifetime.data.limit, 5);
    assert.equal(lifetime.data.limitRemaining, 5);
    assert.equal(lifetime.data.limitReset, null, JSON.stringify(lifetime.data));
    const self = await new OpenRouter({ apiKey: lifetime.key, serverURL: baseURL, retryConfig: { strategy: "none" } }).apiKeys.getCurrentKeyMetadata();
    assert.equal(self.data.limitReset, null);
    assert.deepEqual(await admin.apiKeys.delete({ hash: lifetime.data.hash }), { deleted: true });
  }
});

// A key's expiry as the SDK writes it (Date.toISOString(), with
// milliseconds) and parses it back (a Date), moved by a plain PATCH (the
// SDK's update has no expires_at: OpenRouter takes it on create only);
// create's optional partner identity (external) is taken; the credits,
// which OpenRouter gives a management key, are parsed by the SDK's schema.
test("openrouter sdk: key expiry, external identity and credits with a management key", { skip: !managementKey && "no ROUTEFREE_MANAGEMENT_KEY" }, async () => {
  const admin = new OpenRouter({ apiKey: managementKey, serverURL: baseURL, retryConfig: { strategy: "none" } });
  const expires = new Date(Math.ceil(Date.now() / 1000) * 1000 + 3600_000);
  const made = await admin.apiKeys.create({ requestBody: { name: "sdk expiring", expiresAt: expires, external: { user: "customer-42" } } });
  assert.ok(made.data.expiresAt instanceof Date, `expiresAt ${made.data.expiresAt}`);
  assert.equal(made.data.expiresAt.getTime(), expires.getTime());
  assert.equal(made.data.externalUser, null); // taken, not kept
  const hash = made.data.hash;

  const later = new Date(expires.getTime() + 86400_000);
  const res = await fetch(`${baseURL}/keys/${hash}`, {
    method: "PATCH",
    headers: { authorization: `Bearer ${managementKey}`, "content-type": "application/json" },
    body: JSON.stringify({ expires_at: later.toISOString() }),
  });
  assert.equal(res.status, 200, await res.clone().text());
  const got = await admin.apiKeys.get({ hash });
  assert.equal(got.data.expiresAt.getTime(), later.getTime());
  const cleared = await fetch(`${baseURL}/keys/${hash}`, {
    method: "PATCH",
    headers: { authorization: `Bearer ${managementKey}`, "content-type": "application/json" },
    body: JSON.stringify({ expires_at: null }),
  });
  assert.equal(cleared.status, 200);
  assert.equal((await admin.apiKeys.get({ hash })).data.expiresAt, null);
  // Past the last key, a page is empty.
  const all = await admin.apiKeys.list({ includeDisabled: true });
  assert.deepEqual((await admin.apiKeys.list({ includeDisabled: true, offset: all.data.length })).data, []);
  assert.deepEqual(await admin.apiKeys.delete({ hash }), { deleted: true });

  const credits = await admin.credits.getCredits();
  assert.equal(typeof credits.data.totalCredits, "number");
  assert.ok(credits.data.totalCredits >= credits.data.totalUsage);
});

// The Responses API through the SDK's beta.responses: the answer and every
// stream event are parsed by the SDK's own schemas, which require
// completed_at, frequency_penalty, presence_penalty and the usage's
// upstream_inference_input_cost and _output_cost (an event the schema
// refuses comes out typed "UNKNOWN").
test("openrouter sdk: beta.responses, answered and streamed, parsed by the SDK's schemas", async () => {
  const r = await or.beta.responses.send({ responsesRequest: { model, input: "Say hello" } });
  assert.equal(r.status, "completed");
  assert.equal(r.output[0].content[0].text, replyText);
  assert.equal(typeof r.completedAt, "number");
  assert.ok(r.completedAt >= r.createdAt);
  assert.equal(r.frequencyPenalty, null);
  const d = r.usage.costDetails;
  assert.ok(Math.abs(d.upstreamInferenceInputCost + d.upstreamInferenceOutputCost - r.usage.cost) < 1e-9, JSON.stringify(r.usage));

  const stream = await or.beta.responses.send({ responsesRequest: { model, input: "Say hello", stream: true, presencePenalty: 0.5 } });
  const types = [];
  let text = "", done = null;
  for await (const ev of stream) {
    types.push(ev.type);
    if (ev.type === "response.output_text.delta") text += ev.delta;
    if (ev.type === "response.completed") done = ev.response;
  }
  assert.ok(!types.includes("UNKNOWN"), types.join(", "));
  assert.deepEqual([types[0], types[1], types.at(-1)], ["response.created", "response.in_progress", "response.completed"]);
  assert.equal(text, replyText);
  assert.equal(done.presencePenalty, 0.5);
  assert.equal(typeof done.completedAt, "number");
  assert.ok(done.usage.costDetails.upstreamInferenceOutputCost > 0);
});

// An embeddings answer names its generation, as OpenRouter's does, and the
// generation says it was an embeddings request (api_type), not a chat one.
test("openrouter sdk: embeddings.generate names its generation, of api_type embeddings", async () => {
  const r = await or.embeddings.generate({ requestBody: { model: "routefree/echo-embedding", input: "hello" } });
  assert.match(r.id ?? "", /^gen-/, `id ${r.id}`);
  let gen;
  for (let i = 0; i < 50 && !gen; i++) { // the request index is updated right after the response
    try {
      gen = await or.generations.getGeneration({ id: r.id });
    } catch (err) {
      if (err.statusCode !== 404) throw err;
      await new Promise((res) => setTimeout(res, 100));
    }
  }
  assert.ok(gen, `generation ${r.id} never found`);
  assert.equal(gen.data.model, "routefree/echo-embedding");
  assert.equal(gen.data.apiType, "embeddings");
  assert.ok(gen.data.totalCost > 0);
});

// OpenRouter's OAuth PKCE with the SDK's own helpers: its code challenge
// and authorization URL (the gateway's /auth, asking for a key limited to
// NT$5), the user's approval in a
// browser signed in to the console with the account's management key, and
// the SDK's exchange of the code for a key, which then chats. The code
// works once: again, it is the SDK's ForbiddenResponseError.
test("openrouter sdk: OAuth PKCE through the SDK's helpers gives a working key", { skip: !managementKey && "no ROUTEFREE_MANAGEMENT_KEY" }, async () => {
  const { codeChallenge, codeVerifier } = await or.oAuth.createSHA256CodeChallenge();
  const authURL = new URL(await or.oAuth.createAuthorizationUrl({ callbackUrl: "https://app.example/callback", codeChallenge, codeChallengeMethod: "S256", limit: 5 }));
  assert.equal(authURL.origin + "/api/v1", baseURL);
  assert.equal(authURL.pathname, "/auth");

  // The browser: keeps its cookies, follows no redirect.
  const jar = new Map();
  const browse = async (path, form) => {
    const res = await fetch(new URL(path, authURL), {
      method: form ? "POST" : "GET", redirect: "manual",
      headers: { cookie: [...jar].map(([k, v]) => `${k}=${v}`).join("; "), ...(form && { "content-type": "application/x-www-form-urlencoded" }) },
      body: form && new URLSearchParams(form),
    });
    for (const c of res.headers.getSetCookie()) {
      const [kv] = c.split(";");
      const i = kv.indexOf("=");
      jar.set(kv.slice(0, i), kv.slice(i + 1));
    }
    return { status: res.status, location: res.headers.get("location"), page: await res.text() };
  };
  const path = authURL.pathname + authURL.search;
  let r = await browse(path);
  assert.deepEqual([r.status, r.location], [303, "/console/signin"]);
  const csrf = (await browse("/console/signin")).page.match(/id="signin-csrf" value="([^"]+)"/)?.[1];
  assert.ok(csrf, "no sign-in CSRF token");
  r = await browse("/console/signin", { csrf, token: managementKey });
  assert.deepEqual([r.status, r.location], [303, path]);
  r = await browse(path);
  assert.equal(r.status, 200);
  const form = { decision: "approve" };
  for (const input of r.page.matchAll(/<input[^>]*>/g)) {
    const attr = (name) => input[0].match(new RegExp(`\\s${name}="([^"]*)"`))?.[1];
    if (attr("type") === "hidden") form[attr("name")] = attr("value").replaceAll("&amp;", "&").replaceAll("&#34;", '"').replaceAll("&#39;", "'");
  }
  r = await browse("/auth", form);
  const callback = new URL(r.location);
  assert.equal(r.status, 303);
  assert.equal(callback.origin + callback.pathname, "https://app.example/callback");
  const code = callback.searchParams.get("code");
  assert.ok(code, r.location);

  const admin = new OpenRouter({ apiKey: managementKey, serverURL: baseURL, retryConfig: { strategy: "none" } });
  const before = new Set((await admin.apiKeys.list()).data.map((k) => k.hash));
  const got = await or.oAuth.exchangeAuthCodeForAPIKey({ requestBody: { code, codeVerifier, codeChallengeMethod: "S256" } });
  assert.match(got.key, /^sk-rf-/);
  assert.equal(got.userId, "acct_demo");
  const app = new OpenRouter({ apiKey: got.key, serverURL: baseURL, retryConfig: { strategy: "none" } });
  const answer = await app.chat.send({ chatRequest: { model, messages: [{ role: "user", content: "Say hello" }] } });
  assert.equal(answer.choices[0].message.content, replyText);
  // The limit the app asked for, which never resets, as OpenRouter's.
  const meta = await app.apiKeys.getCurrentKeyMetadata();
  assert.equal(meta.data.limit, 5);
  assert.equal(meta.data.limitReset, null);

  await assert.rejects(
    or.oAuth.exchangeAuthCodeForAPIKey({ requestBody: { code, codeVerifier, codeChallengeMethod: "S256" } }),
    (err) => err instanceof ForbiddenResponseError && err.statusCode === 403 && /Invalid code or code_verifier/.test(err.message),
  );
  const added = (await admin.apiKeys.list()).data.filter((k) => !before.has(k.hash));
  assert.equal(added.length, 1, JSON.stringify(added));
  assert.deepEqual(await admin.apiKeys.delete({ hash: added[0].hash }), { deleted: true });
});

// A management key with a spending limit (NT$10) shares it among the keys
// it makes, and an account holds at most capKeys live keys: past either,
// the SDK raises its ForbiddenResponseError with the gateway's reason.
test("openrouter sdk: a management key's shared limit and the account's key cap are 403s with their reasons",
  { skip: !(cappedManagementKey && capKeys > 2) && "no ROUTEFREE_CAPPED_MANAGEMENT_KEY or ROUTEFREE_MAX_KEYS_PER_ACCOUNT" }, async () => {
    const capped = new OpenRouter({ apiKey: cappedManagementKey, serverURL: baseURL, retryConfig: { strategy: "none" } });
    const refusal = (pattern) => (err) => {
      assert.ok(err instanceof ForbiddenResponseError, `${err.name}: ${err.message}`);
      assert.equal(err.statusCode, 403);
      assert.equal(err.error.code, 403);
      assert.match(err.message, pattern);
      return true;
    };
    const six = await capped.apiKeys.create({ requestBody: { name: "six", limit: 6 } });
    await assert.rejects(capped.apiKeys.create({ requestBody: { name: "five", limit: 5 } }),
      refusal(/adding up to NT\$6\.00 of its own NT\$10\.00, so NT\$4\.00 is left for another \(NT\$5\.00 asked\)/));

    // The management key and "six" hold two slots; small keys fill the rest.
    const small = [];
    for (let i = 2; i < capKeys; i++) small.push(await capped.apiKeys.create({ requestBody: { name: `small ${i}`, limit: 0.5 } }));
    await assert.rejects(capped.apiKeys.create({ requestBody: { name: "one too many", limit: 0.5 } }),
      refusal(new RegExp(`has ${capKeys} live keys and an account may have at most ${capKeys}.*--max-keys-per-account`)));
    // Raising a key it made past the share is refused too. OpenRouter's
    // update lists no 403, so the SDK raises its OpenRouterDefaultError,
    // with the status and the body.
    const others = (0.5 * (capKeys - 2)).toFixed(2);
    await assert.rejects(capped.apiKeys.update({ hash: six.data.hash, requestBody: { limit: 8 } }), (err) => {
      assert.ok(err instanceof OpenRouterDefaultError, `${err.name}: ${err.message}`);
      assert.equal(err.statusCode, 403);
      const e = JSON.parse(err.body).error;
      assert.equal(e.code, 403);
      assert.match(e.message, new RegExp(`adding up to NT\\$${others.replace(".", "\\.")} of its own NT\\$10\\.00`));
      return true;
    });
    // A deleted key gives its slot back.
    assert.deepEqual(await capped.apiKeys.delete({ hash: small.pop().data.hash }), { deleted: true });
    small.push(await capped.apiKeys.create({ requestBody: { name: "in its place", limit: 0.5 } }));
    for (const k of [six, ...small]) await capped.apiKeys.delete({ hash: k.data.hash });
  });
