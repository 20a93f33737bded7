// The approval an irreversible action waits for, in plain words, with Approve, Reject (reason optional, and a
// reject is never sent as anything else) and Edit (a form from the tool's schema that sends typed values).
import { useEffect, useRef, useState } from "react";
import { Inline } from "./Markdown";
import { SchemaForm, typed, validate, type Errors } from "./SchemaForm";
import { humanize, toolTitle, valueInWords, type ToolInfo } from "./words";

export type ActionRequest = { name: string; args: Record<string, unknown>; description?: string };
export type ApprovalRequest = { action_requests: ActionRequest[]; review_configs?: { action_name: string;
  allowed_decisions: string[] }[]; error?: string };
export type Decision = { type: "approve" } | { type: "reject"; message?: string }
  | { type: "edit"; edited_action: { name: string; args: Record<string, unknown> } };

function Details({ args }: { args: Record<string, unknown> }) {
  const rows = Object.entries(args).filter(([, v]) => v !== undefined && v !== null && v !== "" &&
    !(Array.isArray(v) && !v.length));
  return (
    <dl className="approval-details">
      {rows.map(([key, value]) => (
        <div key={key}><dt>{key === "cc" ? "CC" : humanize(key)}</dt><dd>{valueInWords(value)}</dd></div>
      ))}
    </dl>
  );
}

function ActionCard({ request, allowed, tool, onDecide, busy }: { request: ActionRequest; allowed: string[];
  tool?: ToolInfo; onDecide: (decision: Decision) => void; busy: boolean }) {
  const [mode, setMode] = useState<"view" | "reject" | "edit">("view");
  const [reason, setReason] = useState("");
  const [values, setValues] = useState<Record<string, unknown>>(structuredClone(request.args));
  const [errors, setErrors] = useState<Errors>({});
  const title = toolTitle(request.name);

  const submitEdit = () => {
    if (!tool) return;
    const found = validate(tool.args_schema, values, tool.args_schema);
    setErrors(found);
    if (Object.keys(found).length) return;
    onDecide({ type: "edit", edited_action: { name: request.name,
      args: typed(tool.args_schema, values, tool.args_schema) as Record<string, unknown> } });
  };

  return (
    <article className="approval" aria-label={`Approval needed: ${title}`}>
      <header>
        <span className="badge badge-warn">Needs your approval</span>
        <h3>{title}</h3>
      </header>
      <p className="approval-text"><Inline text={request.description ?? title} /></p>
      {mode === "view" && <Details args={request.args} />}
      {mode === "reject" && (
        <form onSubmit={(e) => { e.preventDefault(); onDecide({ type: "reject", ...(reason.trim() ? { message: reason.trim() } : {}) }); }}>
          <div className="form-field">
            <label htmlFor="reject-reason">Reason (optional, the agent is told)</label>
            <textarea id="reject-reason" rows={2} value={reason} onChange={(e) => setReason(e.target.value)} autoFocus />
          </div>
          <div className="actions">
            <button type="submit" className="danger" disabled={busy}>Reject</button>
            <button type="button" className="secondary" onClick={() => setMode("view")}>Back</button>
          </div>
        </form>
      )}
      {mode === "edit" && tool && (
        <form noValidate onSubmit={(e) => { e.preventDefault(); submitEdit(); }} aria-label={`Edit ${title}`}>
          <SchemaForm schema={tool.args_schema} value={values} errors={errors} onChange={setValues} />
          {Object.keys(errors).length > 0 && <p className="error" role="alert">Fix the highlighted fields, then send.</p>}
          <div className="actions">
            <button type="submit" className="primary" disabled={busy}>Send edited</button>
            <button type="button" className="secondary" onClick={() => { setMode("view"); setErrors({}); }}>Cancel edit</button>
          </div>
        </form>
      )}
      {mode === "view" && (
        <div className="actions">
          {allowed.includes("approve") && <button type="button" className="primary" disabled={busy} onClick={() => onDecide({ type: "approve" })}>Approve</button>}
          {allowed.includes("reject") && <button type="button" className="danger" disabled={busy} onClick={() => setMode("reject")}>Reject</button>}
          {allowed.includes("edit") && tool && <button type="button" className="secondary" disabled={busy} onClick={() => setMode("edit")}>Edit</button>}
        </div>
      )}
    </article>
  );
}

export function ApprovalCards({ request, tools, onSubmit, busy }: { request: ApprovalRequest;
  tools: Record<string, ToolInfo>; onSubmit: (decisions: Decision[]) => void; busy: boolean }) {
  const [decisions, setDecisions] = useState<(Decision | null)[]>(request.action_requests.map(() => null));
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    ref.current?.focus();
  }, []);
  const many = request.action_requests.length > 1;
  const decide = (index: number, decision: Decision) => {
    const next = decisions.map((d, i) => (i === index ? decision : d));
    setDecisions(next);
    if (next.every(Boolean)) onSubmit(next as Decision[]);
  };
  return (
    <div className="approvals" ref={ref} tabIndex={-1} role="region" aria-label="Waiting for your approval" aria-live="polite">
      {request.error && <p className="error" role="alert">{request.error}</p>}
      {request.action_requests.map((action, i) => {
        const allowed = request.review_configs?.find((c) => c.action_name === action.name)?.allowed_decisions
          ?? ["approve", "edit", "reject"];
        return decisions[i] && many ? (
          <p key={i} className="muted">{toolTitle(action.name)}: {decisions[i]!.type === "approve" ? "approved"
            : decisions[i]!.type === "reject" ? "rejected" : "edited"}; decide the others to continue.</p>
        ) : (
          <ActionCard key={i} request={action} allowed={allowed} tool={tools[action.name]} busy={busy}
                      onDecide={(d) => decide(i, d)} />
        );
      })}
    </div>
  );
}
