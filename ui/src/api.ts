// Talking to our public API: credentials kept for the browser session, JSON requests with readable errors,
// uploads with progress, and a Server-Sent Events reader that can send the Authorization header.

export type Credentials = { kind: "local" | "bearer" | "api_key"; secret: string; email?: string };

const STORAGE_KEY = "dsa.credentials";

export function loadCredentials(): Credentials | null {
  try {
    const raw = sessionStorage.getItem(STORAGE_KEY);
    return raw ? (JSON.parse(raw) as Credentials) : null;
  } catch {
    return null;
  }
}

export function saveCredentials(credentials: Credentials | null): void {
  if (credentials) sessionStorage.setItem(STORAGE_KEY, JSON.stringify(credentials));
  else sessionStorage.removeItem(STORAGE_KEY);
}

export function authHeaders(credentials: Credentials): Record<string, string> {
  return credentials.kind === "api_key"
    ? { "X-Api-Key": credentials.secret }
    : { Authorization: `Bearer ${credentials.secret}` };
}

/** An error the API answered with, in its own words ({"error", "message", "field"}). */
export class ApiError extends Error {
  constructor(readonly status: number, readonly code: string, message: string, readonly field?: string) {
    super(message);
  }
}

export async function readError(response: Response): Promise<ApiError> {
  let code = "http_error";
  let message = `The server answered ${response.status} ${response.statusText}.`;
  let field: string | undefined;
  try {
    const body = await response.json();
    code = body.error ?? code;
    message = body.message ?? body.detail ?? message;
    field = body.field;
  } catch {
    /* not JSON: keep the status line */
  }
  return new ApiError(response.status, code, message, field);
}

/** A sentence a person can act on, whatever was thrown. */
export function describeError(error: unknown): string {
  if (error instanceof ApiError) return error.message;
  if (error instanceof TypeError) return "The server could not be reached. Check that it is running, then retry.";
  if (error && typeof error === "object") {
    const e = error as { message?: unknown; error?: unknown; text?: unknown; status?: unknown };
    if (typeof e.text === "string") {
      // The SDK's HTTP errors carry our JSON body as text: say its sentence, not "HTTP 422: {...}".
      try {
        const body = JSON.parse(e.text) as { message?: string; detail?: string };
        if (body.message || body.detail) return String(body.message ?? body.detail);
      } catch {
        /* not JSON */
      }
    }
    if (typeof e.message === "string" && e.message) return e.message;
    if (typeof e.error === "string") return e.error;
  }
  return String(error || "Something went wrong.");
}

export class Api {
  constructor(readonly credentials: Credentials, readonly onUnauthorized: () => void) {}

  get headers(): Record<string, string> {
    return authHeaders(this.credentials);
  }

  async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const response = await fetch(path, {
      method,
      headers: { ...this.headers, ...(body !== undefined ? { "Content-Type": "application/json" } : {}) },
      body: body !== undefined ? JSON.stringify(body) : undefined,
    });
    if (response.status === 401) this.onUnauthorized();
    if (!response.ok) throw await readError(response);
    return (response.status === 204 ? undefined : await response.json()) as T;
  }

  get<T>(path: string): Promise<T> {
    return this.request<T>("GET", path);
  }

  /** Fetches a file with our credentials and hands it to the browser as a download. */
  async download(path: string, fallbackName: string): Promise<void> {
    const response = await fetch(path, { headers: this.headers });
    if (!response.ok) throw await readError(response);
    const disposition = response.headers.get("Content-Disposition") ?? "";
    const utf8 = /filename\*=UTF-8''([^;]+)/.exec(disposition);
    const plain = /filename="([^"]+)"/.exec(disposition);
    const name = utf8 ? decodeURIComponent(utf8[1]) : plain ? plain[1] : fallbackName;
    const url = URL.createObjectURL(await response.blob());
    const link = document.createElement("a");
    link.href = url;
    link.download = name;
    document.body.appendChild(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 60_000);
  }

  /** POST /v1/documents with upload progress (fetch cannot report it; XMLHttpRequest can). */
  upload(file: File, onProgress: (fraction: number) => void): { promise: Promise<StoredDocument>; abort: () => void } {
    const xhr = new XMLHttpRequest();
    const promise = new Promise<StoredDocument>((resolve, reject) => {
      xhr.open("POST", "/v1/documents");
      for (const [key, value] of Object.entries(this.headers)) xhr.setRequestHeader(key, value);
      xhr.upload.onprogress = (event) => event.lengthComputable && onProgress(event.loaded / event.total);
      xhr.onload = () => {
        let body: { error?: string; message?: string; field?: string } & Partial<StoredDocument> = {};
        try {
          body = JSON.parse(xhr.responseText);
        } catch {
          /* keep empty */
        }
        if (xhr.status === 201) resolve(body as StoredDocument);
        else reject(new ApiError(xhr.status, body.error ?? "upload_failed", body.message ?? `Upload failed (${xhr.status}).`, body.field));
      };
      xhr.onerror = () => reject(new TypeError("network"));
      xhr.onabort = () => reject(new ApiError(0, "aborted", "The upload was cancelled."));
      const form = new FormData();
      form.append("file", file, file.name);
      xhr.send(form);
    });
    return { promise, abort: () => xhr.abort() };
  }
}

export type StoredDocument = {
  id: string;
  filename: string;
  content_type: string;
  size_bytes: number;
  page_count: number | null;
  status: string;
};

export type ServerEvent = { event: string; data: string; id?: string };

/**
 * Reads an SSE endpoint with our headers (EventSource cannot send them), reconnecting with Last-Event-ID
 * after a dropped connection, until `signal` aborts.
 */
export async function readEvents(path: string, headers: Record<string, string>, onEvent: (event: ServerEvent) => void,
                                 signal: AbortSignal, onState?: (connected: boolean) => void): Promise<void> {
  let lastId: string | undefined;
  let delay = 500;
  while (!signal.aborted) {
    try {
      const response = await fetch(path, {
        headers: { ...headers, Accept: "text/event-stream", ...(lastId ? { "Last-Event-ID": lastId } : {}) },
        signal,
      });
      if (!response.ok || !response.body) throw await readError(response);
      onState?.(true);
      delay = 500;
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += value;
        let end: number;
        while ((end = buffer.search(/\r?\n\r?\n/)) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end).replace(/^\r?\n\r?\n/, "");
          const event: ServerEvent = { event: "message", data: "" };
          const data: string[] = [];
          for (const line of block.split(/\r?\n/)) {
            if (line.startsWith(":")) continue;
            const [field, ...rest] = line.split(":");
            const text = rest.join(":").replace(/^ /, "");
            if (field === "event") event.event = text;
            else if (field === "data") data.push(text);
            else if (field === "id") event.id = text;
          }
          event.data = data.join("\n");
          if (event.id) lastId = event.id;
          if (data.length) onEvent(event);
        }
      }
    } catch (error) {
      if (signal.aborted) return;
      if (error instanceof ApiError && error.status === 401) return;
    }
    onState?.(false);
    await new Promise((resolve) => setTimeout(resolve, delay));
    delay = Math.min(delay * 2, 10_000);
  }
}
