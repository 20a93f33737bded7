// A document analysis as a person reads it: headings, lists and tables, whatever shape the model answered in.
import { humanize, valueInWords } from "./words";

type Risk = { clause?: string; risk?: string; severity?: string };

const KIND_TITLES: Record<string, string> = { summary: "Summary", key_terms: "Key terms", risks: "Risks",
  question: "Answer" };

function Value({ value }: { value: unknown }) {
  if (Array.isArray(value)) {
    if (!value.length) return <span className="muted">not stated</span>;
    if (value.every((v) => v && typeof v === "object" && !Array.isArray(v))) return <ObjectTable rows={value as Record<string, unknown>[]} />;
    return <ul>{value.map((v, i) => <li key={i}>{valueInWords(v)}</li>)}</ul>;
  }
  if (value && typeof value === "object") return <Fields data={value as Record<string, unknown>} />;
  if (value == null || value === "") return <span className="muted">not stated</span>;
  return <>{String(value)}</>;
}

function ObjectTable({ rows }: { rows: Record<string, unknown>[] }) {
  const columns = [...new Set(rows.flatMap((r) => Object.keys(r)))];
  return (
    <table>
      <thead><tr>{columns.map((c) => <th key={c} scope="col">{humanize(c)}</th>)}</tr></thead>
      <tbody>{rows.map((row, i) => <tr key={i}>{columns.map((c) => <td key={c}>{valueInWords(row[c])}</td>)}</tr>)}</tbody>
    </table>
  );
}

function Fields({ data }: { data: Record<string, unknown> }) {
  return (
    <table className="fields">
      <tbody>
        {Object.entries(data).map(([key, value]) => (
          <tr key={key}><th scope="row">{humanize(key)}</th><td><Value value={value} /></td></tr>
        ))}
      </tbody>
    </table>
  );
}

export function AnalysisView({ kind, document, analysis }: { kind: string; document?: string;
  analysis: Record<string, unknown> }) {
  const title = `${KIND_TITLES[kind] ?? humanize(kind)}${document ? ` of ${document}` : ""}`;
  const { summary, highlights, risks, answer, quotes, text, ...rest } = analysis as Record<string, unknown> & {
    risks?: Risk[] };
  return (
    <section className="analysis" aria-label={title}>
      <h3>{title}</h3>
      {typeof summary === "string" && <p>{summary}</p>}
      {typeof answer === "string" && <p>{answer}</p>}
      {typeof text === "string" && <p>{text}</p>}
      {Array.isArray(highlights) && highlights.length > 0 && (
        <><h4>Highlights</h4><ul>{highlights.map((h, i) => <li key={i}>{valueInWords(h)}</li>)}</ul></>
      )}
      {Array.isArray(risks) && (risks.length ? (
        <table>
          <thead><tr><th scope="col">Clause</th><th scope="col">Risk</th><th scope="col">Severity</th></tr></thead>
          <tbody>
            {risks.map((r, i) => (
              <tr key={i}><td>{r.clause}</td><td>{r.risk}</td>
                <td><span className={`severity severity-${r.severity ?? "low"}`}>{r.severity}</span></td></tr>
            ))}
          </tbody>
        </table>
      ) : <p>No notable risks found.</p>)}
      {Array.isArray(quotes) && quotes.length > 0 && (
        <><h4>From the document</h4>{quotes.map((q, i) => <blockquote key={i}>{String(q)}</blockquote>)}</>
      )}
      {Object.keys(rest).length > 0 && <Fields data={rest} />}
    </section>
  );
}
