// The gateway the tests talk to: ROUTEFREE_BASE_URL is the API root
// (http://host:port/api/v1), ROUTEFREE_KEY a key with credit, and
// ROUTEFREE_MODEL a model served by the fake upstream with its -auto answers.
export const baseURL = process.env.ROUTEFREE_BASE_URL;
export const apiKey = process.env.ROUTEFREE_KEY;
// A management key of the same account, for the key and activity APIs
// (optional: those tests skip without it).
export const managementKey = process.env.ROUTEFREE_MANAGEMENT_KEY;
export const model = process.env.ROUTEFREE_MODEL || "routefree/echo";
// A management key with a spending limit of NT$10 on an account of its
// own, served by a gateway capping every account at capKeys live keys.
export const cappedManagementKey = process.env.ROUTEFREE_CAPPED_MANAGEMENT_KEY;
export const capKeys = Number(process.env.ROUTEFREE_MAX_KEYS_PER_ACCOUNT || 0);
// A Claude model served by an Anthropic-format fake upstream, which thinks
// when asked and signs its thinking blocks.
export const claudeModel = process.env.ROUTEFREE_CLAUDE_MODEL || "anthropic/claude-sonnet-4.6";
// A Gemini model served by a Gemini-format fake upstream, which refuses
// what Gemini refuses in tool declarations.
export const geminiModel = process.env.ROUTEFREE_GEMINI_MODEL || "google/gemini-2.5-flash";
// The fake upstream's reply (cmd/fakeupstream -text).
export const replyText = process.env.ROUTEFREE_REPLY_TEXT || "Hello from the fake upstream. RouteFree is relaying this reply.";
// What the fake upstream sends as reasoning when a request asks for it
// (cmd/fakeupstream's ReasoningText).
export const reasoningText = "The fake upstream thinks the request over first.";
// The last message that makes the fake upstream fail while it answers:
// part of the answer, then its error event (cmd/fakeupstream's FailPrompt).
export const failPrompt = "Fail while answering.";
// The last message that makes the fake upstream end its answer midway as
// OpenRouter does, with a chunk whose finish_reason is "error" and which
// carries errorChunkMessage (cmd/fakeupstream's ErrorChunkPrompt).
export const errorChunkPrompt = "End with an error chunk.";
export const errorChunkMessage = "Provider disconnected";
// The last message that the fake upstream refuses as OpenRouter refuses an
// input a model's moderation flags: a 403 with the reasons (harassment) and
// the flagged input in its metadata (cmd/fakeupstream's FlagPrompt).
export const flagPrompt = "Flag this input for moderation.";

if (!baseURL || !apiKey) {
  throw new Error("set ROUTEFREE_BASE_URL (e.g. http://127.0.0.1:8080/api/v1) and ROUTEFREE_KEY");
}

// A weather tool, as the client libraries' examples declare one.
export const weatherSchema = {
  type: "object",
  properties: { city: { type: "string", description: "city name" } },
  required: ["city"],
  additionalProperties: false,
};

