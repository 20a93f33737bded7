// One tool call as a compact card: which tool, its arguments in words, what came of it and how long it took;
// the raw JSON one click away.
import { useId, useState } from "react";
import { AnalysisView } from "./Analysis";
import type { Message } from "./stream";
import { argsInWords, duration, parseResult, resultInWords, toolTitle } from "./words";

export type Call = { id?: string; name: string; args: Record<string, unknown> };

export function ToolCard({ call, result, waiting }: { call: Call; result?: Message; waiting: boolean }) {
  const [open, setOpen] = useState(false);
  const id = useId();
  const parsed = result ? parseResult(result.content) : null;
  const failed = !!parsed?.error || result?.status === "error";
  const state = result ? (failed ? (parsed?.error === "rejected" ? "rejected" : "failed") : "done")
    : waiting ? "waiting" : "running";
  const label = { done: "Done", failed: "Failed", rejected: "Rejected", waiting: "Waiting for your approval",
    running: "Running" }[state];
  const took = duration(result?.response_metadata?.duration_ms);
  const analysis = parsed && !failed && parsed.analysis && typeof parsed.analysis === "object"
    ? (parsed.analysis as Record<string, unknown>) : null;
  return (
    <div className={`tool-card tool-${state}`} role="group" aria-label={`Tool ${toolTitle(call.name)}: ${label}`}>
      <div className="tool-head">
        <span className={`tool-dot dot-${state}`} aria-hidden="true" />
        <span className="tool-name">{toolTitle(call.name)}</span>
        <span className="tool-args">{argsInWords(call.args)}</span>
        <span className="tool-meta">{label}{took ? ` · ${took}` : ""}</span>
        <button type="button" className="link" aria-expanded={open} aria-controls={id} onClick={() => setOpen(!open)}>
          {open ? "Hide details" : "Details"}
        </button>
      </div>
      {result && <p className="tool-result">{resultInWords(parsed)}</p>}
      {analysis && <AnalysisView kind={String(parsed?.kind ?? (call.name === "ask_document" ? "question" : "summary"))}
                                 document={typeof parsed?.document === "string" ? parsed.document : undefined}
                                 analysis={analysis} />}
      {open && (
        <div id={id} className="tool-raw">
          <h4>Arguments</h4>
          <pre>{JSON.stringify(call.args, null, 2)}</pre>
          {parsed && <><h4>Result</h4><pre>{JSON.stringify(parsed, null, 2)}</pre></>}
        </div>
      )}
    </div>
  );
}
