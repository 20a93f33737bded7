// What the chat needs around useStream: a client that remembers the run it is streaming (so a reload can join it
// again), and a thread history that is complete however many checkpoints each turn writes (so every fork made
// by an edit or a regeneration stays reachable).
import { Client, type ThreadState } from "@langchain/langgraph-sdk";
import { useCallback, useEffect, useRef, useState } from "react";

export type Message = {
  id?: string;
  type: string;
  content: unknown;
  name?: string;
  tool_call_id?: string;
  status?: string;
  tool_calls?: { id?: string; name: string; args: Record<string, unknown> }[];
  additional_kwargs?: Record<string, unknown>;
  response_metadata?: Record<string, unknown>;
};

export type AgentState = { messages: Message[] };

export type ActiveRun = { runId: string; lastEventId?: string };

const runKey = (threadId: string) => `dsa.run.${threadId}`;

export function activeRun(threadId: string | null): ActiveRun | null {
  if (!threadId) return null;
  try {
    const raw = sessionStorage.getItem(runKey(threadId));
    return raw ? (JSON.parse(raw) as ActiveRun) : null;
  } catch {
    return null;
  }
}

function remember(threadId: string, run: ActiveRun | null): void {
  if (run) sessionStorage.setItem(runKey(threadId), JSON.stringify(run));
  else sessionStorage.removeItem(runKey(threadId));
}

type Part = { event: string; data: unknown; id?: string };

/**
 * Wraps a run's event stream: notes its run id and the id of its last `values` event, the last point at which
 * the page held the whole state. After a reload the page joins the run from there: what follows (the tokens of
 * the message being written) is replayed, and nothing before it is needed since the history holds it.
 */
async function* tracked(threadId: string, parts: AsyncIterable<Part>, runId?: string): AsyncGenerator<Part> {
  let run: ActiveRun | null = runId ? { ...(activeRun(threadId) ?? {}), runId } : null;
  try {
    for await (const part of parts) {
      if (part.event === "metadata" && part.data && typeof part.data === "object" && "run_id" in part.data) {
        run = { runId: String((part.data as { run_id: string }).run_id) };
        remember(threadId, run);
      } else if (run && part.event === "values" && part.id) {
        run = { ...run, lastEventId: part.id };
        remember(threadId, run);
      }
      yield part;
      if (part.event === "end") break;
    }
    remember(threadId, null);
  } catch (error) {
    // A dropped connection leaves the run running on the server: keep what is needed to join it again.
    throw error;
  }
}

export function makeClient(headers: Record<string, string>): Client {
  const client = new Client({ apiUrl: window.location.origin, defaultHeaders: headers });
  const runs = client.runs;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const stream = runs.stream.bind(runs) as (...args: any[]) => AsyncIterable<Part>;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const join = runs.joinStream.bind(runs) as (...args: any[]) => AsyncIterable<Part>;
  runs.stream = ((threadId: string | null, assistantId: string, payload?: unknown) =>
    threadId ? tracked(threadId, stream(threadId, assistantId, payload)) : stream(threadId, assistantId, payload)
  ) as unknown as typeof runs.stream;
  runs.joinStream = ((threadId: string | null, runId: string, options?: unknown) =>
    threadId ? tracked(threadId, join(threadId, runId, options), runId) : join(threadId, runId, options)
  ) as unknown as typeof runs.joinStream;
  return client;
}

export type History = {
  data: ThreadState<AgentState>[] | null | undefined;
  error: unknown;
  isLoading: boolean;
  mutate: (threadId?: string) => Promise<ThreadState<AgentState>[] | null | undefined>;
};

const PAGE = 200;
const MAX_PAGES = 50;

/** Every checkpoint of the thread, newest first, read page by page. */
export function useFullHistory(client: Client, threadId: string | null): History {
  const [state, setState] = useState<{ threadId: string | null; data?: ThreadState<AgentState>[]; error?: unknown;
    isLoading: boolean }>({ threadId, isLoading: threadId != null });
  const latest = useRef(0);

  const load = useCallback(async (id: string | null | undefined) => {
    const target = id ?? null;
    const read = ++latest.current;
    if (!target) {
      setState({ threadId: null, data: undefined, isLoading: false });
      return [];
    }
    setState((s) => ({ ...s, threadId: target, isLoading: true, ...(s.threadId !== target ? { data: undefined } : {}) }));
    try {
      const all: ThreadState<AgentState>[] = [];
      let before: string | undefined;
      for (let page = 0; page < MAX_PAGES; page++) {
        const states = await client.threads.getHistory<AgentState>(target, {
          limit: PAGE, ...(before ? { before: before as never } : {}),
        });
        all.push(...states);
        const last = states.at(-1)?.checkpoint?.checkpoint_id;
        if (states.length < PAGE || !last) break;
        before = last;
      }
      if (read === latest.current) setState({ threadId: target, data: all, isLoading: false });
      return all;
    } catch (error) {
      if (read === latest.current) setState((s) => ({ ...s, error, isLoading: false }));
      throw error;
    }
  }, [client]);

  useEffect(() => {
    load(threadId).catch(() => undefined);
  }, [load, threadId]);

  return {
    data: state.threadId === threadId ? state.data : undefined,
    error: state.error,
    isLoading: state.isLoading || state.threadId !== threadId,
    mutate: (id?: string) => load(id ?? threadId),
  };
}

export function textOf(content: unknown): string {
  if (typeof content === "string") return content;
  if (Array.isArray(content)) {
    return content.map((part) => (part && typeof part === "object" && (part as { type?: string }).type === "text"
      ? String((part as { text?: unknown }).text ?? "") : "")).filter(Boolean).join("\n");
  }
  return "";
}

export type Attachment = { document_id: string; filename: string; content_type: string; size_bytes: number;
  page_count: number | null; marker?: string };

export function attachmentsOf(message: Message): Attachment[] {
  const list = message.additional_kwargs?.attachments;
  return Array.isArray(list) ? (list as Attachment[]) : [];
}

/** The person's words, without the text blocks that stand for attached files. */
export function humanText(message: Message): string {
  const markers = new Set(attachmentsOf(message).map((a) => a.marker));
  if (Array.isArray(message.content)) {
    return message.content
      .filter((part) => part && typeof part === "object" && (part as { type?: string }).type === "text"
        && !markers.has(String((part as { text?: unknown }).text)))
      .map((part) => String((part as { text?: unknown }).text ?? ""))
      .join("\n");
  }
  return textOf(message.content);
}
