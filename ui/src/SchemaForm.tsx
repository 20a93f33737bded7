// A real form for a tool's arguments, built from its JSON schema: lists of people as rows to add and remove,
// emails checked as they are typed, numbers and yes/no as numbers and booleans, so the edit sends typed values.
import { useId } from "react";
import { humanize, nonNull, type JsonSchema } from "./words";

type Value = unknown;
export type Errors = Record<string, string>;

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const LONG_TEXT = new Set(["email_message", "csv", "question"]);

function kindOf(schema: JsonSchema): string {
  if (schema.enum) return "enum";
  const type = Array.isArray(schema.type) ? schema.type.find((t) => t !== "null") : schema.type;
  if (type === "array") return "array";
  if (type === "object" || schema.properties) return "object";
  if (type === "boolean") return "boolean";
  if (type === "integer" || type === "number") return "number";
  return "string";
}

function singular(label: string): string {
  const lower = label.toLowerCase();
  if (lower.endsWith("ies")) return lower.slice(0, -3) + "y";
  if (lower === "cc") return "copy recipient";
  return lower.endsWith("s") ? lower.slice(0, -1) : lower;
}

function emptyFor(schema: JsonSchema, root: JsonSchema): Value {
  const resolved = nonNull(schema, root).schema;
  const kind = kindOf(resolved);
  if (kind === "object") {
    return Object.fromEntries(Object.entries(resolved.properties ?? {})
      .filter(([key]) => (resolved.required ?? []).includes(key))
      .map(([key, sub]) => [key, emptyFor(sub, root)]));
  }
  if (kind === "array") return [];
  if (kind === "boolean") return resolved.default ?? false;
  return resolved.default ?? "";
}

/** Errors by field path ("recipients.0.email"), empty when the values can be sent. */
export function validate(schema: JsonSchema, value: Value, root: JsonSchema, path = "", required = true): Errors {
  const { schema: s, nullable } = nonNull(schema, root);
  const kind = kindOf(s);
  const errors: Errors = {};
  const empty = value === undefined || value === null || value === "";
  if (empty) {
    if (required && !nullable && s.default === undefined && kind !== "boolean" && kind !== "array") {
      errors[path] = "Required.";
    }
    return errors;
  }
  if (kind === "object") {
    for (const [key, sub] of Object.entries(s.properties ?? {})) {
      Object.assign(errors, validate(sub, (value as Record<string, Value>)[key], root, path ? `${path}.${key}` : key,
        (s.required ?? []).includes(key)));
    }
  } else if (kind === "array") {
    const items = value as Value[];
    if (s.minItems && items.length < s.minItems) errors[path] = `Add at least ${s.minItems}.`;
    items.forEach((item, i) => Object.assign(errors, validate(s.items ?? {}, item, root, `${path}.${i}`)));
  } else if (kind === "number") {
    const n = Number(value);
    if (!Number.isFinite(n) || (s.type === "integer" && !Number.isInteger(n))) errors[path] = "Enter a whole number.";
    else if (s.minimum !== undefined && n < s.minimum) errors[path] = `At least ${s.minimum}.`;
    else if (s.maximum !== undefined && n > s.maximum) errors[path] = `At most ${s.maximum}.`;
  } else if (kind === "string") {
    const text = String(value).trim();
    if (s.format === "email" && !EMAIL.test(text)) errors[path] = "Enter an email address like name@example.com.";
    else if (s.minLength && text.length < s.minLength) errors[path] = "Required.";
    else if (s.maxLength && text.length > s.maxLength) errors[path] = `At most ${s.maxLength} characters.`;
  }
  return errors;
}

/** The values as the tool takes them: trimmed strings, numbers as numbers, empty optional fields left out. */
export function typed(schema: JsonSchema, value: Value, root: JsonSchema): Value {
  const { schema: s } = nonNull(schema, root);
  const kind = kindOf(s);
  if (value === undefined || value === null || value === "") return undefined;
  if (kind === "object") {
    const out: Record<string, Value> = {};
    for (const [key, sub] of Object.entries(s.properties ?? {})) {
      const v = typed(sub, (value as Record<string, Value>)[key], root);
      if (v !== undefined) out[key] = v;
    }
    return out;
  }
  if (kind === "array") return (value as Value[]).map((item) => typed(s.items ?? {}, item, root)).filter((v) => v !== undefined);
  if (kind === "number") return Number(value);
  if (kind === "boolean") return Boolean(value);
  return typeof value === "string" ? value.trim() : value;
}

type FieldProps = { name: string; path: string; schema: JsonSchema; root: JsonSchema; value: Value; required: boolean;
  errors: Errors; onChange: (value: Value) => void };

function Field({ name, path, schema, root, value, required, errors, onChange }: FieldProps) {
  const id = useId();
  const { schema: s } = nonNull(schema, root);
  const kind = kindOf(s);
  const label = s.title && s.title !== humanize(name) ? s.title : humanize(name === "cc" ? "CC" : name);
  const error = errors[path];
  const hint = s.description;
  const described = [hint ? `${id}-hint` : "", error ? `${id}-error` : ""].filter(Boolean).join(" ") || undefined;
  const common = { id, "aria-invalid": error ? true : undefined, "aria-describedby": described };
  const messages = (
    <>
      {hint && <small id={`${id}-hint`} className="hint">{hint}</small>}
      {error && <small id={`${id}-error`} className="error" role="alert">{error}</small>}
    </>
  );
  if (kind === "object") {
    return (
      <fieldset className="form-object">
        <legend>{label}</legend>
        <ObjectFields schema={s} root={root} value={(value as Record<string, Value>) ?? {}} path={path} errors={errors} onChange={onChange} />
      </fieldset>
    );
  }
  if (kind === "array") {
    const items = Array.isArray(value) ? value : [];
    const itemSchema = s.items ?? {};
    const one = singular(label);
    return (
      <fieldset className="form-array">
        <legend>{label}</legend>
        {hint && <small className="hint">{hint}</small>}
        {items.map((item, i) => (
          <div className="form-row" key={i} role="group" aria-label={`${humanize(one)} ${i + 1}`}>
            <Field name={`${one} ${i + 1}`} path={`${path}.${i}`} schema={itemSchema} root={root} value={item} required
                   errors={errors} onChange={(v) => onChange(items.map((old, j) => (j === i ? v : old)))} />
            <button type="button" className="secondary" aria-label={`Remove ${one} ${i + 1}`}
                    onClick={() => onChange(items.filter((_, j) => j !== i))}>Remove</button>
          </div>
        ))}
        {error && <small className="error" role="alert">{error}</small>}
        <button type="button" className="secondary" onClick={() => onChange([...items, emptyFor(itemSchema, root)])}>
          Add {one}
        </button>
      </fieldset>
    );
  }
  if (kind === "boolean") {
    return (
      <div className="form-field form-check">
        <input type="checkbox" {...common} checked={Boolean(value)} onChange={(e) => onChange(e.target.checked)} />
        <label htmlFor={id}>{label}</label>
        {messages}
      </div>
    );
  }
  const input = kind === "enum" ? (
    <select {...common} value={String(value ?? "")} onChange={(e) => onChange(e.target.value)}>
      {!required && <option value="">(none)</option>}
      {(s.enum ?? []).map((option) => <option key={String(option)} value={String(option)}>{humanize(String(option))}</option>)}
    </select>
  ) : LONG_TEXT.has(name) ? (
    <textarea {...common} rows={3} value={String(value ?? "")} onChange={(e) => onChange(e.target.value)} />
  ) : (
    <input {...common} type={kind === "number" ? "number" : s.format === "email" ? "email" : "text"}
           inputMode={kind === "number" ? "numeric" : undefined} min={s.minimum} max={s.maximum}
           value={value === undefined || value === null ? "" : String(value)} required={required}
           onChange={(e) => onChange(kind === "number" ? (e.target.value === "" ? "" : Number(e.target.value)) : e.target.value)} />
  );
  return (
    <div className="form-field">
      <label htmlFor={id}>{label}{required ? "" : " (optional)"}</label>
      {input}
      {messages}
    </div>
  );
}

function ObjectFields({ schema, root, value, path, errors, onChange }: { schema: JsonSchema; root: JsonSchema;
  value: Record<string, Value>; path: string; errors: Errors; onChange: (value: Record<string, Value>) => void }) {
  return (
    <>
      {Object.entries(schema.properties ?? {}).map(([key, sub]) => (
        <Field key={key} name={key} path={path ? `${path}.${key}` : key} schema={sub} root={root} value={value[key]}
               required={(schema.required ?? []).includes(key)} errors={errors}
               onChange={(v) => onChange({ ...value, [key]: v })} />
      ))}
    </>
  );
}

export function SchemaForm({ schema, value, errors, onChange }: { schema: JsonSchema; value: Record<string, Value>;
  errors: Errors; onChange: (value: Record<string, Value>) => void }) {
  return <ObjectFields schema={schema} root={schema} value={value} path="" errors={errors} onChange={onChange} />;
}
