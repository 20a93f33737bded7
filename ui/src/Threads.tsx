// The person's conversations, most recent first, titled from their first message: new, rename, delete, search.
import type { Client, Thread } from "@langchain/langgraph-sdk";
import { Icon } from "./Icon";
import { useEffect, useState } from "react";
import { describeError } from "./api";
import { humanText, type AgentState, type Message } from "./stream";

export function threadTitle(thread: Thread<AgentState>): string {
  const named = thread.metadata?.title;
  if (typeof named === "string" && named.trim()) return named.trim();
  const first = (thread.values?.messages as Message[] | undefined)?.find((m) => m.type === "human");
  const text = first ? humanText(first).replace(/\s+/g, " ").trim() : "";
  if (!text) return "New conversation";
  return text.length > 60 ? `${text.slice(0, 57)}…` : text;
}

export function ThreadList({ client, currentId, refreshKey, onOpen, onNew }: { client: Client; currentId: string | null;
  refreshKey: number; onOpen: (id: string) => void; onNew: () => void }) {
  const [threads, setThreads] = useState<Thread<AgentState>[] | null>(null);
  const [query, setQuery] = useState("");
  const [renaming, setRenaming] = useState<{ id: string; title: string } | null>(null);
  const [error, setError] = useState<string | null>(null);

  const load = () => client.threads.search<AgentState>({ limit: 100, sortBy: "updated_at", sortOrder: "desc",
    metadata: { graph_id: "agent" } }).then((list) => { setThreads(list); setError(null); },
    (e) => setError(describeError(e)));

  useEffect(() => {
    void load();
  }, [client, refreshKey]);  // eslint-disable-line react-hooks/exhaustive-deps

  const rename = async (id: string, title: string) => {
    setRenaming(null);
    try {
      await client.threads.update(id, { metadata: { title } });
      await load();
    } catch (e) {
      setError(describeError(e));
    }
  };

  const remove = async (thread: Thread<AgentState>) => {
    if (!window.confirm(`Delete “${threadTitle(thread)}”? This cannot be undone.`)) return;
    try {
      await client.threads.delete(thread.thread_id);
      if (thread.thread_id === currentId) onNew();
      await load();
    } catch (e) {
      setError(describeError(e));
    }
  };

  const shown = (threads ?? []).filter((t) => threadTitle(t).toLowerCase().includes(query.trim().toLowerCase()));
  return (
    <nav className="threads" aria-label="Conversations">
      <button type="button" className="primary wide" onClick={onNew}>New chat</button>
      <label htmlFor="thread-search" className="visually-hidden">Search conversations</label>
      <input id="thread-search" type="search" placeholder="Search conversations" value={query}
             onChange={(e) => setQuery(e.target.value)} />
      {error && <p className="error" role="alert">{error} <button type="button" className="link" onClick={() => void load()}>Retry</button></p>}
      {threads && !shown.length && <p className="muted">{query ? "No conversation matches." : "No conversations yet."}</p>}
      <ul>
        {shown.map((t) => {
          const title = threadTitle(t);
          const current = t.thread_id === currentId;
          return (
            <li key={t.thread_id} className={current ? "current" : ""}>
              {renaming?.id === t.thread_id ? (
                <form onSubmit={(e) => { e.preventDefault(); if (renaming.title.trim()) void rename(t.thread_id, renaming.title.trim()); }}>
                  <label htmlFor={`rename-${t.thread_id}`} className="visually-hidden">New name</label>
                  <input id={`rename-${t.thread_id}`} value={renaming.title} autoFocus
                         onChange={(e) => setRenaming({ id: t.thread_id, title: e.target.value })}
                         onKeyDown={(e) => { if (e.key === "Escape") setRenaming(null); }} />
                  <button type="submit" className="small primary">Save</button>
                </form>
              ) : (
                <>
                  <a href={`/t/${t.thread_id}`} aria-current={current ? "page" : undefined}
                     onClick={(e) => { e.preventDefault(); onOpen(t.thread_id); }}>{title}</a>
                  <span className="thread-actions">
                    <button type="button" className="icon" aria-label={`Rename ${title}`}
                            onClick={() => setRenaming({ id: t.thread_id, title })}><Icon name="pencil" /></button>
                    <button type="button" className="icon" aria-label={`Delete ${title}`} onClick={() => void remove(t)}><Icon name="trash" /></button>
                  </span>
                </>
              )}
            </li>
          );
        })}
      </ul>
    </nav>
  );
}
