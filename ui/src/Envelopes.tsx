// The person's envelopes, live: the mirror from /v1/envelopes, kept current by /v1/events without a reload.
import { useCallback, useEffect, useState } from "react";
import { Api, describeError, readEvents } from "./api";
import { useReader } from "./reader";
import { WaitingForYou } from "./Waiting";
import { formatDate } from "./words";

type Recipient = { recipient_id: string; recipient_type: string; name: string | null; email: string | null;
  routing_order: number; status: string; signed_at?: string | null; declined_reason?: string | null };
export type Envelope = { envelope_id: string; status: string; email_subject: string | null; sent_at?: string | null;
  completed_at?: string | null; declined_at?: string | null; voided_at?: string | null; voided_reason?: string | null;
  created_at?: string | null; status_changed_at?: string | null; recipients: Recipient[] };
type Bulk = { id: string; batch_name: string; status: string; total: number; sent: number; completed: number;
  failed: number; queued: number; progress: number };
export type Notice = { text: string; tone: "good" | "bad" | "info" };

const STATUS_WORDS: Record<string, string> = { created: "Draft", sent: "Sent", delivered: "Delivered",
  completed: "Completed", declined: "Declined", voided: "Voided" };
const SIGNERS = new Set(["signer", "in_person_signer"]);

function who(r: Recipient): string {
  return r.name ? `${r.name} <${r.email}>` : String(r.email ?? "");
}

function holdingUp(envelope: Envelope): Recipient[] {
  if (!["sent", "delivered"].includes(envelope.status)) return [];
  const open = envelope.recipients.filter((r) => SIGNERS.has(r.recipient_type) && ["sent", "delivered", "created"].includes(r.status));
  if (!open.length) return [];
  const order = Math.min(...open.map((r) => r.routing_order));
  return open.filter((r) => r.routing_order === order);
}

function EnvelopeCard({ envelope, api }: { envelope: Envelope; api: Api }) {
  const [error, setError] = useState<string | null>(null);
  const waiting = holdingUp(envelope);
  const subject = envelope.email_subject || `Envelope ${envelope.envelope_id.slice(0, 8)}`;
  const download = (kind: "combined" | "certificate") => {
    setError(null);
    api.download(`/v1/envelopes/${envelope.envelope_id}/documents/${kind}`, `${subject}.pdf`)
      .catch((e) => setError(describeError(e)));
  };
  const declined = envelope.recipients.find((r) => r.status === "declined");
  return (
    <li className={`envelope status-${envelope.status}`} aria-label={`${subject}: ${STATUS_WORDS[envelope.status] ?? envelope.status}`}>
      <div className="envelope-head">
        <span className="envelope-subject">{subject}</span>
        <span className={`badge badge-${envelope.status}`}>{STATUS_WORDS[envelope.status] ?? envelope.status}</span>
      </div>
      <ul className="recipients">
        {envelope.recipients.map((r) => (
          <li key={r.recipient_id}>
            <span>{who(r)}{r.recipient_type === "carbon_copy" ? " (copy)" : ""}</span>
            <span className="muted">
              {r.status === "completed" ? (r.recipient_type === "carbon_copy" ? "received a copy" : `signed ${formatDate(r.signed_at)}`)
                : r.status === "declined" ? "declined" : r.status === "delivered" ? "opened, not signed" : r.status === "created" ? "not sent yet" : "not signed yet"}
            </span>
          </li>
        ))}
      </ul>
      {waiting.length > 0 && <p className="waiting">Waiting on {waiting.map(who).join(", ")}</p>}
      {envelope.status === "declined" && <p className="bad">Declined{declined ? ` by ${who(declined)}` : ""}{declined?.declined_reason ? `: “${declined.declined_reason}”` : ""}</p>}
      {envelope.status === "voided" && <p className="bad">Voided{envelope.voided_reason ? `: “${envelope.voided_reason}”` : ""}</p>}
      {envelope.status === "created" && <p className="muted">Draft: not sent. Ask the agent to send it.</p>}
      <div className="actions">
        {envelope.status !== "created" && (
          <button type="button" className="secondary small" onClick={() => download("combined")}
                  aria-label={`Download the ${envelope.status === "completed" ? "signed " : ""}PDF of ${subject}`}>
            {envelope.status === "completed" ? "Signed PDF" : "PDF"}
          </button>
        )}
        {["completed", "declined", "voided"].includes(envelope.status) && (
          <button type="button" className="secondary small" onClick={() => download("certificate")}
                  aria-label={`Download the certificate of ${subject}`}>Certificate</button>
        )}
      </div>
      {error && <p className="error" role="alert">{error}</p>}
    </li>
  );
}

export function EnvelopesPanel({ api, refreshKey, onNotice }: { api: Api; refreshKey: number; onNotice: (n: Notice) => void }) {
  const [envelopes, setEnvelopes] = useState<Envelope[] | null>(null);
  const [bulk, setBulk] = useState<Bulk[]>([]);
  const [live, setLive] = useState(false);
  const [held, setHeld] = useState(0);  // bumped when a held call appears or is decided, to re-read the list

  const read = useCallback(async () => {
    const [list, batches] = await Promise.all([
      api.get<{ envelopes: Envelope[] }>("/v1/envelopes?limit=50"),
      api.get<{ bulk_sends: Bulk[] }>("/v1/bulk?limit=10"),
    ]);
    setEnvelopes(list.envelopes);
    setBulk(batches.bulk_sends);
  }, [api]);
  const { error, load } = useReader(read, refreshKey);

  useEffect(() => {
    const controller = new AbortController();
    void readEvents("/v1/events", api.headers, (event) => {
      if (event.event === "ready") {
        setHeld((n) => n + 1);
        return void load();
      }
      if (event.event === "approval") return void setHeld((n) => n + 1);
      if (event.event === "envelope") {
        const change = JSON.parse(event.data) as { envelope_id: string; status: string; previous_status?: string };
        api.get<Envelope>(`/v1/envelopes/${change.envelope_id}`).then((fresh) => {
          setEnvelopes((list) => {
            const rest = (list ?? []).filter((e) => e.envelope_id !== fresh.envelope_id);
            return [fresh, ...rest];
          });
          if (change.status !== change.previous_status && ["completed", "declined", "voided"].includes(change.status)) {
            onNotice({ text: `“${fresh.email_subject ?? "Envelope"}” is ${STATUS_WORDS[change.status].toLowerCase()}.`,
              tone: change.status === "completed" ? "good" : "bad" });
          }
        }, () => void load());
      } else if (event.event === "bulk") {
        void load();
      }
    }, controller.signal, setLive);
    return () => controller.abort();
  }, [api, load, onNotice]);

  const drafts = (envelopes ?? []).filter((e) => e.status === "created");
  const others = (envelopes ?? []).filter((e) => e.status !== "created");
  return (
    <aside className="panel" aria-labelledby="envelopes-title">
      <div className="panel-head">
        <h2 id="envelopes-title">Envelopes</h2>
        <span className={`live ${live ? "on" : ""}`} title={live ? "Updates arrive as they happen" : "Reconnecting…"}>
          {live ? "Live" : "Connecting…"}
        </span>
      </div>
      {error && <div className="error-banner" role="alert"><p>{error}</p><button type="button" className="secondary" onClick={() => void load()}>Retry</button></div>}
      <WaitingForYou api={api} refreshKey={refreshKey + held} onNotice={onNotice} />
      {bulk.length > 0 && (
        <section aria-label="Bulk sends">
          <h3>Bulk sends</h3>
          <ul className="bulk">
            {bulk.map((b) => (
              <li key={b.id}>
                <div className="envelope-head"><span>{b.batch_name}</span><span className="muted">{b.sent} of {b.total} sent{b.failed ? `, ${b.failed} failed` : ""}</span></div>
                <progress max={1} value={b.progress} aria-label={`${b.batch_name}: ${Math.round(b.progress * 100)}% sent`} />
                <span className="muted">{b.completed} completed</span>
              </li>
            ))}
          </ul>
        </section>
      )}
      {envelopes && envelopes.length === 0 && <p className="muted">No envelopes yet. Ask the agent to send one.</p>}
      {others.length > 0 && <ul className="envelopes" aria-label="Sent envelopes">{others.map((e) => <EnvelopeCard key={e.envelope_id} envelope={e} api={api} />)}</ul>}
      {drafts.length > 0 && (
        <section aria-label="Drafts">
          <h3>Drafts</h3>
          <ul className="envelopes">{drafts.map((e) => <EnvelopeCard key={e.envelope_id} envelope={e} api={api} />)}</ul>
        </section>
      )}
    </aside>
  );
}
