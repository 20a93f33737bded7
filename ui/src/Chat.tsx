// The conversation: history restored from the server, tokens as they stream, tool cards, approvals, edit and
// regenerate with branch switching, stop, readable errors with retry, and rejoining a run after a reload.
import type { Client, ThreadState } from "@langchain/langgraph-sdk";
import { Icon } from "./Icon";
import { useStream } from "@langchain/langgraph-sdk/react";
import { useEffect, useMemo, useRef, useState } from "react";
import { Api, describeError, type StoredDocument } from "./api";
import { ApprovalCards, type ApprovalRequest, type Decision } from "./Approval";
import { Composer } from "./Composer";
import { Markdown } from "./Markdown";
import { activeRun, attachmentsOf, humanText, useFullHistory, type AgentState, type Message } from "./stream";
import { ToolCard } from "./ToolCard";
import type { ToolInfo } from "./words";

type Props = { api: Api; client: Client; threadId: string | null; tools: Record<string, ToolInfo>;
  onThreadId: (id: string) => void; onRunEnded: () => void };

type Checkpoint = ThreadState<AgentState>["checkpoint"];
type Meta = { firstSeenState?: ThreadState<AgentState>; branch?: string; branchOptions?: string[] } | undefined;

const STREAM_OPTIONS = { streamMode: ["values", "messages-tuple"] as ("values" | "messages-tuple")[],
  onDisconnect: "continue" as const, streamResumable: true };

function contentFor(text: string, documents: { id: string }[]): Message["content"] {
  if (!documents.length) return text;
  return [...(text ? [{ type: "text", text }] : []), ...documents.map((d) => ({ type: "file", file_id: d.id }))];
}

function BranchSwitcher({ meta, onSelect, disabled }: { meta: Meta; onSelect: (branch: string) => void; disabled: boolean }) {
  const options = meta?.branchOptions;
  if (!options || options.length < 2 || !meta?.branch) return null;
  const index = options.indexOf(meta.branch);
  return (
    <span className="branches" role="group" aria-label="Versions">
      <button type="button" className="icon" aria-label="Previous version" disabled={disabled || index <= 0}
              onClick={() => onSelect(options[index - 1])}>‹</button>
      <span aria-live="polite">{index + 1} / {options.length}</span>
      <button type="button" className="icon" aria-label="Next version" disabled={disabled || index >= options.length - 1}
              onClick={() => onSelect(options[index + 1])}>›</button>
    </span>
  );
}

export function Chat({ api, client, threadId, tools, onThreadId, onRunEnded }: Props) {
  const history = useFullHistory(client, threadId);
  const runIdRef = useRef<string | null>(null);
  const lastSubmit = useRef<{ values: unknown; options: Record<string, unknown> } | null>(null);
  const [editing, setEditing] = useState<{ id: string; text: string } | null>(null);
  const [stopping, setStopping] = useState(false);
  useEffect(() => setEditing(null), [threadId]);

  const stream = useStream<AgentState>({
    assistantId: "agent",
    client,
    threadId,
    onThreadId,
    fetchStateHistory: true,
    thread: history as never,
    onCreated: (run) => {
      runIdRef.current = run.run_id;
    },
    onFinish: () => {
      runIdRef.current = null;
      onRunEnded();
    },
    onError: () => onRunEnded(),
  });

  // After a reload: if this page was streaming a run that is still going, join it from its last whole state.
  const joined = useRef<string | null>(null);
  useEffect(() => {
    const run = activeRun(threadId);
    if (!threadId || !run || joined.current === threadId || history.isLoading) return;
    joined.current = threadId;
    client.runs.get(threadId, run.runId).then((found) => {
      if (found.status === "pending" || found.status === "running") {
        runIdRef.current = run.runId;
        void stream.joinStream(run.runId, run.lastEventId ?? "-1");
      } else {
        sessionStorage.removeItem(`dsa.run.${threadId}`);
      }
    }, () => sessionStorage.removeItem(`dsa.run.${threadId}`));
  }, [threadId, history.isLoading, client, stream]);

  const messages = stream.messages as Message[];
  const results = useMemo(() => new Map(messages.filter((m) => m.type === "tool").map((m) => [m.tool_call_id, m])), [messages]);
  const interrupt = stream.interrupt as { value?: ApprovalRequest } | undefined;
  const approval = interrupt?.value && Array.isArray(interrupt.value.action_requests) ? interrupt.value : null;
  const waitingCalls = new Set((approval?.action_requests ?? []).map((a) => a.name + JSON.stringify(a.args)));
  const busy = stream.isLoading;

  const submit = (values: unknown, options: Record<string, unknown> = {}) => {
    lastSubmit.current = { values, options };
    setStopping(false);
    void stream.submit(values as never, { ...STREAM_OPTIONS, ...options } as never);
  };

  const send = (text: string, documents: StoredDocument[]) => {
    const message: Message = { type: "human", content: contentFor(text, documents),
      additional_kwargs: documents.length ? { attachments: documents.map((d) => ({ document_id: d.id,
        filename: d.filename, content_type: d.content_type, size_bytes: d.size_bytes, page_count: d.page_count })) } : undefined };
    submit({ messages: [message] }, {
      optimisticValues: (prev: AgentState) => ({ ...prev, messages: [...(prev.messages ?? []), message] }),
    });
  };

  const decide = (decisions: Decision[]) => submit(null, { command: { resume: { decisions } } });

  const stop = async () => {
    setStopping(true);
    const runId = runIdRef.current ?? activeRun(threadId)?.runId;
    try {
      if (threadId && runId) await client.runs.cancel(threadId, runId);
    } catch {
      /* already finished */
    }
    await stream.stop();
    setStopping(false);
  };

  const retry = () => {
    const head = history.data?.[0];
    if (head && head.next.length) submit(null);  // the failed step is still pending: run it again
    else if (lastSubmit.current) submit(lastSubmit.current.values, lastSubmit.current.options);
  };

  const meta = (m: Message, i: number) => stream.getMessagesMetadata(m as never, i) as Meta;

  const resend = (m: Message, i: number, text: string) => {
    const parent: Checkpoint | undefined = meta(m, i)?.firstSeenState?.parent_checkpoint ?? undefined;
    const documents = attachmentsOf(m).map((a) => ({ id: a.document_id }));
    const message: Message = { type: "human", content: contentFor(text, documents) };
    setEditing(null);
    submit({ messages: [message] }, { checkpoint: parent ?? null,
      optimisticValues: () => ({ ...(meta(m, i)?.firstSeenState?.values ?? {}), messages: [
        ...((meta(m, i)?.firstSeenState?.values?.messages ?? []).slice(0, -1)), message] }) });
  };

  const regenerate = (m: Message, i: number) => {
    const parent = meta(m, i)?.firstSeenState?.parent_checkpoint;
    if (parent) submit(null, { checkpoint: parent });
  };

  const lastAiText = [...messages].reverse().find((m) => m.type === "ai" && humanText(m).trim());
  const error = stream.error;
  const empty = !messages.length && !history.isLoading;

  return (
    <section className="chat" aria-label="Conversation">
      <div className="messages" role="log" aria-live="polite" aria-relevant="additions text" aria-busy={busy}>
        {history.isLoading && threadId && !messages.length && <p className="muted center">Loading the conversation…</p>}
        {empty && (
          <div className="welcome">
            <h2>Get agreements sent, signed and tracked</h2>
            <p>Try “What templates do I have?”, “Send the NDA template to Bob Stone bob@example.com”, or drop a PDF or
              Word file here and ask for a summary.</p>
          </div>
        )}
        {messages.map((m, i) => {
          if (m.type === "tool") return null;
          const info = meta(m, i);
          if (m.type === "human") {
            const text = humanText(m);
            const files = attachmentsOf(m);
            const isEditing = editing?.id === (m.id ?? String(i));
            return (
              <div className="msg msg-human" key={m.id ?? i}>
                {isEditing ? (
                  <form className="edit-message" onSubmit={(e) => { e.preventDefault(); resend(m, i, editing!.text.trim()); }}>
                    <label htmlFor={`edit-${i}`} className="visually-hidden">Edit your message</label>
                    <textarea id={`edit-${i}`} value={editing!.text} autoFocus rows={3}
                              onChange={(e) => setEditing({ id: editing!.id, text: e.target.value })}
                              onKeyDown={(e) => { if (e.key === "Escape") setEditing(null); }} />
                    <div className="actions">
                      <button type="submit" className="primary" disabled={!editing!.text.trim()}>Send edit</button>
                      <button type="button" className="secondary" onClick={() => setEditing(null)}>Cancel</button>
                    </div>
                  </form>
                ) : (
                  <div className="bubble">
                    {text && <p>{text}</p>}
                    {files.length > 0 && (
                      <ul className="attachments" aria-label="Attached files">
                        {files.map((f) => <li key={f.document_id}><Icon name="file" /> {f.filename}</li>)}
                      </ul>
                    )}
                  </div>
                )}
                <div className="msg-tools">
                  <BranchSwitcher meta={info} disabled={busy} onSelect={(b) => stream.setBranch(b)} />
                  {!isEditing && info?.firstSeenState && (
                    <button type="button" className="link" disabled={busy}
                            onClick={() => setEditing({ id: m.id ?? String(i), text })}>Edit message</button>
                  )}
                </div>
              </div>
            );
          }
          const text = humanText(m);
          const calls = m.tool_calls ?? [];
          return (
            <div className="msg msg-ai" key={m.id ?? i}>
              {text && <Markdown text={text} />}
              {calls.map((call, j) => (
                <ToolCard key={call.id ?? j} call={call} result={call.id ? results.get(call.id) : undefined}
                          waiting={waitingCalls.has(call.name + JSON.stringify(call.args))} />
              ))}
              {(text || info?.branchOptions) && (
                <div className="msg-tools">
                  <BranchSwitcher meta={info} disabled={busy} onSelect={(b) => stream.setBranch(b)} />
                  {m === lastAiText && !busy && info?.firstSeenState?.parent_checkpoint && (
                    <button type="button" className="link" onClick={() => regenerate(m, i)}>Regenerate</button>
                  )}
                </div>
              )}
            </div>
          );
        })}
        {busy && !approval && <p className="typing" role="status">{stopping ? "Stopping…" : "The agent is working…"}</p>}
        {approval && !busy && <ApprovalCards key={JSON.stringify(approval.action_requests)} request={approval} tools={tools} onSubmit={decide} busy={busy} />}
        {error != null && !busy && (
          <div className="error-banner" role="alert">
            <p><strong>That did not go through.</strong> {describeError(error)}</p>
            <button type="button" className="secondary" onClick={retry}>Retry</button>
          </div>
        )}
        {history.error != null && !history.data && (
          <div className="error-banner" role="alert">
            <p><strong>The conversation could not be loaded.</strong> {describeError(history.error)}</p>
            <button type="button" className="secondary" onClick={() => history.mutate()}>Retry</button>
          </div>
        )}
      </div>
      <Composer api={api} busy={busy || !!approval} canStop={busy} onStop={stop} onSend={send} />
    </section>
  );
}
