// Where a person writes: text, and PDF or Word files dropped or picked, each uploaded at once with its progress
// and sent as a reference to the stored document.
import { useRef, useState, type DragEvent, type KeyboardEvent } from "react";
import { Icon } from "./Icon";
import { Api, describeError, type StoredDocument } from "./api";

export type Upload = { key: string; name: string; progress: number; document?: StoredDocument; error?: string;
  abort?: () => void };

const ACCEPT = ".pdf,.docx,application/pdf,application/vnd.openxmlformats-officedocument.wordprocessingml.document";
const KINDS = /\.(pdf|docx)$/i;

export function Composer({ api, busy, onSend, onStop, canStop }: { api: Api; busy: boolean; canStop: boolean;
  onSend: (text: string, documents: StoredDocument[]) => void; onStop: () => void }) {
  const [text, setText] = useState("");
  const [uploads, setUploads] = useState<Upload[]>([]);
  const [dragging, setDragging] = useState(false);
  const picker = useRef<HTMLInputElement>(null);
  const input = useRef<HTMLTextAreaElement>(null);

  const add = (files: FileList | File[]) => {
    for (const file of Array.from(files)) {
      const key = `${file.name}-${file.size}-${Math.random().toString(36).slice(2)}`;
      if (!KINDS.test(file.name)) {
        setUploads((u) => [...u, { key, name: file.name, progress: 0, error: "Only PDF and Word (.docx) files can be attached." }]);
        continue;
      }
      const { promise, abort } = api.upload(file, (progress) =>
        setUploads((u) => u.map((x) => (x.key === key ? { ...x, progress } : x))));
      setUploads((u) => [...u, { key, name: file.name, progress: 0, abort }]);
      promise.then(
        (document) => setUploads((u) => u.map((x) => (x.key === key ? { ...x, progress: 1, document, abort: undefined } : x))),
        (error) => setUploads((u) => u.map((x) => (x.key === key ? { ...x, error: describeError(error), abort: undefined } : x))),
      );
    }
  };

  const ready = uploads.filter((u) => u.document).map((u) => u.document!);
  const pending = uploads.some((u) => !u.document && !u.error);
  const canSend = !busy && !pending && (text.trim().length > 0 || ready.length > 0);

  const send = () => {
    if (!canSend) return;
    onSend(text.trim(), ready);
    setText("");
    setUploads([]);
    input.current?.focus();
  };

  const onKey = (event: KeyboardEvent<HTMLTextAreaElement>) => {
    if (event.key === "Enter" && !event.shiftKey && !event.nativeEvent.isComposing) {
      event.preventDefault();
      send();
    }
  };

  const onDrop = (event: DragEvent) => {
    event.preventDefault();
    setDragging(false);
    if (event.dataTransfer.files.length) add(event.dataTransfer.files);
  };

  return (
    <form className={`composer${dragging ? " dragging" : ""}`} aria-label="Message the agent"
          onSubmit={(e) => { e.preventDefault(); send(); }}
          onDragOver={(e) => { e.preventDefault(); setDragging(true); }} onDragLeave={() => setDragging(false)} onDrop={onDrop}>
      {uploads.length > 0 && (
        <ul className="uploads" aria-label="Attachments">
          {uploads.map((u) => (
            <li key={u.key} className={u.error ? "upload-error" : ""}>
              <span className="upload-name">{u.name}</span>
              {!u.document && !u.error && (
                <progress max={1} value={u.progress} aria-label={`Uploading ${u.name}`}>{Math.round(u.progress * 100)}%</progress>
              )}
              {u.document && <span className="muted">{u.document.page_count ? `${u.document.page_count} page${u.document.page_count === 1 ? "" : "s"}` : "ready"}</span>}
              {u.error && <span className="error" role="alert">{u.error}</span>}
              <button type="button" className="icon" aria-label={`Remove ${u.name}`}
                      onClick={() => { u.abort?.(); setUploads((all) => all.filter((x) => x.key !== u.key)); }}>×</button>
            </li>
          ))}
        </ul>
      )}
      <div className="composer-row">
        <button type="button" className="icon attach" aria-label="Attach files" title="Attach PDF or Word files"
                onClick={() => picker.current?.click()}><Icon name="attach" /></button>
        <input ref={picker} type="file" accept={ACCEPT} multiple hidden aria-label="Choose files to attach"
               onChange={(e) => { if (e.target.files) add(e.target.files); e.target.value = ""; }} />
        <label htmlFor="composer-input" className="visually-hidden">Message</label>
        <textarea id="composer-input" ref={input} rows={1} value={text} onChange={(e) => setText(e.target.value)} onKeyDown={onKey}
                  placeholder="Ask to send, check or analyse an agreement… (drop PDF or Word files here)" />
        {canStop ? (
          <button type="button" className="danger" onClick={onStop}>Stop</button>
        ) : (
          <button type="submit" className="primary" disabled={!canSend}>Send</button>
        )}
      </div>
      {dragging && <div className="drop-hint" aria-hidden="true">Drop PDF or Word files to attach them</div>}
    </form>
  );
}
