// The HTTP calls useStream (@langchain/langgraph-sdk/react) makes, made with the JS SDK's own Client exactly as
// useStream calls it (react/stream.lgp.js): create a thread, stream a run (resumable, the modes it tracks),
// read the history and state, rejoin a run's stream from the start (lastEventId "-1"), stop a run.
// Prints every request with its answer's status and shape as JSON. Usage: node usestream.mjs URL [TOKEN]
import { Client } from "@langchain/langgraph-sdk";

const [url, token] = process.argv.slice(2);
const calls = [];
const pending = [];
const realFetch = globalThis.fetch;

function typeOf(value) {
  if (value === null || value === undefined) return "null";
  if (Array.isArray(value)) return "array";
  return typeof value === "object" ? "object" : typeof value;
}

function shapeOf(value) {
  if (Array.isArray(value)) {
    const first = value[0];
    return { type: "array", item: first && typeof first === "object" && !Array.isArray(first)
      ? Object.fromEntries(Object.keys(first).sort().map((k) => [k, typeOf(first[k])])) : typeOf(first) };
  }
  if (value && typeof value === "object") {
    return { type: "object", keys: Object.fromEntries(Object.keys(value).sort().map((k) => [k, typeOf(value[k])])) };
  }
  return { type: typeOf(value) };
}

function sseNames(text) {
  const names = new Set();
  for (const line of text.split("\n")) {
    if (line.startsWith("event: ")) {
      const name = line.slice(7).trim();
      names.add(name.includes("|") ? name.split("|")[0] + "|…" : name);
    }
  }
  return { type: "stream", events: [...names].sort() };
}

globalThis.fetch = async (input, init = {}) => {
  const target = new URL(typeof input === "string" ? input : input.url);
  const response = await realFetch(input, init);
  const copy = response.clone();
  const headers = Object.fromEntries(new Headers(init.headers || {}).entries());
  const call = { method: init.method || "GET", path: target.pathname, query: target.search,
                 headers: { "last-event-id": headers["last-event-id"] }, body: init.body ? JSON.parse(init.body) : null,
                 status: response.status };
  calls.push(call);
  const kind = response.headers.get("content-type") || "";
  // Read the copy beside the SDK (a stream the SDK leaves early is still read to its end here).
  pending.push(copy.text().then((text) => {
    call.answer = kind.includes("event-stream") ? sseNames(text) : (text.trim() ? shapeOf(JSON.parse(text)) : null);
  }));
  return response;
};

const client = new Client({ apiUrl: url, defaultHeaders: token ? { Authorization: `Bearer ${token}` } : {} });
const input = { messages: [{ type: "human", content: "hello" }] };
const streamMode = ["values", "messages-tuple", "updates", "custom"];

const thread = await client.threads.create({ metadata: { from: "useStream" } });
const tid = thread.thread_id;
let runId;
for await (const _ of client.runs.stream(tid, "test", {
  input, streamMode, streamResumable: true, onDisconnect: "continue",
  onRunCreated(params) { runId = params.run_id; },
})) { /* useStream renders each part */ }
await client.threads.getHistory(tid, { limit: 10 });
await client.threads.getState(tid);
for await (const _ of client.runs.joinStream(tid, runId, { lastEventId: "-1" })) { /* rejoin on mount */ }

let slowId;
const slow = client.runs.stream(tid, "test", {
  input: { messages: [{ type: "human", content: "slow 100" }] }, streamMode, streamResumable: true,
  onDisconnect: "continue", onRunCreated(params) { slowId = params.run_id; },
});
for await (const part of slow) {
  if (slowId && part.event === "custom") break;
}
await client.runs.cancel(tid, slowId);
await client.threads.getState(tid);

await Promise.all(pending);
process.stdout.write(JSON.stringify(calls, null, 1));
