// "Waiting for you": calls an MCP client held for the person's decision (/v1/approvals), each in the words of
// the chat's approval card, with Approve (the call runs as it was held) and Reject (nothing is done).
import { useCallback, useState } from "react";
import { Api, describeError } from "./api";
import type { Notice } from "./Envelopes";
import { Inline } from "./Markdown";
import { useReader } from "./reader";
import { formatDate } from "./words";

type Held = { id: string; tool: string; description: string; source: string; created_at: string | null };
type Decided = { result: { summary?: string; message?: string; error?: string } | null };

const SOURCES: Record<string, string> = { mcp: "an MCP client", api: "a program", chat: "a chat" };

export function WaitingForYou({ api, refreshKey, onNotice }: { api: Api; refreshKey: number; onNotice: (n: Notice) => void }) {
  const [items, setItems] = useState<Held[]>([]);
  const [busy, setBusy] = useState<string | null>(null);
  const read = useCallback(async () => {
    setItems((await api.get<{ approvals: Held[] }>("/v1/approvals")).approvals);
  }, [api]);
  const { error, setError, load } = useReader(read, refreshKey);

  const decide = async (item: Held, decision: "approve" | "reject") => {
    setBusy(item.id);
    setError(null);
    try {
      const { result } = await api.request<Decided>("POST", `/v1/approvals/${item.id}`, { decision });
      if (decision === "reject") onNotice({ text: "Rejected: nothing was done.", tone: "info" });
      else onNotice({ text: result?.summary ?? result?.message ?? "Done.", tone: result?.error ? "bad" : "good" });
    } catch (e) {
      setError(describeError(e));
    } finally {
      setBusy(null);
      void load();
    }
  };

  if (!items.length && !error) return null;
  return (
    <section className="waiting-for-you" aria-labelledby="waiting-title">
      <h3 id="waiting-title">Waiting for you</h3>
      {error && <p className="error" role="alert">{error}</p>}
      <ul className="held">
        {items.map((item) => (
          <li key={item.id} aria-label={`Waiting for your decision: ${item.tool}`}>
            <p className="approval-text"><Inline text={item.description} /></p>
            <p className="muted">Asked by {SOURCES[item.source] ?? item.source}{item.created_at ? `, ${formatDate(item.created_at)}` : ""}</p>
            <div className="actions">
              <button type="button" className="primary small" disabled={busy === item.id} onClick={() => void decide(item, "approve")}>Approve</button>
              <button type="button" className="secondary small" disabled={busy === item.id} onClick={() => void decide(item, "reject")}>Reject</button>
            </div>
          </li>
        ))}
      </ul>
    </section>
  );
}
