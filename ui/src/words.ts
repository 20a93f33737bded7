// Tool calls and their results in words a person reads at a glance.

export type JsonSchema = {
  type?: string | string[];
  title?: string;
  description?: string;
  format?: string;
  enum?: unknown[];
  const?: unknown;
  default?: unknown;
  items?: JsonSchema;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  anyOf?: JsonSchema[];
  allOf?: JsonSchema[];
  $ref?: string;
  $defs?: Record<string, JsonSchema>;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
};

export type ToolInfo = { name: string; description: string; approval: string; args_schema: JsonSchema };

const TOOL_NAMES: Record<string, string> = {
  list_envelopes: "List envelopes", get_envelope_status: "Envelope status", list_templates: "List templates",
  get_template: "Template details", list_envelope_documents: "Envelope documents",
  download_document: "Download document", list_my_documents: "My documents", get_audit_events: "Audit trail",
  send_document: "Send document", send_template: "Send template", send_draft: "Send draft",
  void_envelope: "Void envelope", correct_recipient: "Correct recipient", remind_recipients: "Remind recipients",
  create_signing_link: "Signing link", bulk_send: "Bulk send", get_bulk_send_status: "Bulk send status",
  analyze_document: "Analyse document", ask_document: "Ask about a document",
};

export function toolTitle(name: string): string {
  return TOOL_NAMES[name] ?? humanize(name);
}

export function humanize(key: string): string {
  const text = key.replace(/_/g, " ").trim();
  return text.charAt(0).toUpperCase() + text.slice(1);
}

function isPerson(value: unknown): value is { name?: string; email?: string } {
  return !!value && typeof value === "object" && ("email" in value || "name" in value);
}

export function person(value: { name?: string; email?: string }): string {
  return value.name && value.email ? `${value.name} <${value.email}>` : String(value.email ?? value.name ?? "");
}

export function valueInWords(value: unknown): string {
  if (value == null || value === "") return "none";
  if (typeof value === "boolean") return value ? "yes" : "no";
  if (Array.isArray(value)) return value.length ? value.map(valueInWords).join(", ") : "none";
  if (isPerson(value)) return person(value);
  if (typeof value === "object") {
    return Object.entries(value as Record<string, unknown>).map(([k, v]) => `${humanize(k).toLowerCase()} ${valueInWords(v)}`).join(", ");
  }
  return String(value);
}

/** "template NDA · recipients Bob Stone <bob@x.com> · cc Legal <legal@x.com>" */
export function argsInWords(args: Record<string, unknown> | undefined): string {
  const entries = Object.entries(args ?? {}).filter(([, v]) => v !== undefined && v !== null && v !== "" &&
    !(Array.isArray(v) && v.length === 0));
  if (!entries.length) return "no arguments";
  return entries.map(([k, v]) => `${humanize(k).toLowerCase()}: ${valueInWords(v)}`).join(" · ");
}

export type ToolResult = { summary?: string; error?: string; message?: string; [key: string]: unknown };

export function parseResult(content: unknown): ToolResult | null {
  const text = typeof content === "string" ? content : Array.isArray(content) ? content.map((c) =>
    (c && typeof c === "object" && "text" in c ? String((c as { text: unknown }).text) : "")).join("") : "";
  try {
    const parsed = JSON.parse(text);
    return parsed && typeof parsed === "object" ? (parsed as ToolResult) : { summary: text };
  } catch {
    return text ? { summary: text } : null;
  }
}

export function resultInWords(result: ToolResult | null): string {
  if (!result) return "";
  if (result.error) return result.message ?? humanize(String(result.error));
  return result.summary ?? "Done.";
}

export function duration(ms: unknown): string | null {
  if (typeof ms !== "number" || !Number.isFinite(ms)) return null;
  return ms < 1000 ? `${Math.max(1, Math.round(ms))} ms` : `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`;
}

/** A schema with its `$ref`s resolved against the root's `$defs` (pydantic puts nested models there). */
export function resolve(schema: JsonSchema, root: JsonSchema): JsonSchema {
  if (schema.$ref) {
    const name = schema.$ref.split("/").at(-1) ?? "";
    return resolve({ ...(root.$defs?.[name] ?? {}), ...schema, $ref: undefined }, root);
  }
  if (schema.allOf && schema.allOf.length === 1) return resolve({ ...schema.allOf[0], ...schema, allOf: undefined }, root);
  return schema;
}

/** The non-null branch of `X | None`, and whether None was allowed. */
export function nonNull(schema: JsonSchema, root: JsonSchema): { schema: JsonSchema; nullable: boolean } {
  if (schema.anyOf) {
    const options = schema.anyOf.filter((s) => s.type !== "null");
    const nullable = options.length < schema.anyOf.length;
    if (options.length === 1) {
      const { anyOf: _ignored, ...rest } = schema;
      void _ignored;
      return { schema: resolve({ ...options[0], ...rest, anyOf: undefined }, root), nullable };
    }
  }
  return { schema: resolve(schema, root), nullable: false };
}

export function formatDate(iso: string | null | undefined): string {
  if (!iso) return "";
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? "" : date.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}
