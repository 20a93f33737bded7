// Theme, notifications and how the agent behaves, kept on the server (/v1/preferences).
import { useEffect, useRef, useState } from "react";
import { Api, describeError } from "./api";

export type Prefs = { theme: "system" | "light" | "dark"; notify_in_app: boolean; notify_email_on_completed: boolean;
  notify_email_on_declined: boolean; tone: "concise" | "friendly" | "formal"; verbosity: "brief" | "normal" | "detailed";
  confirm_reminders: boolean; default_signing_order: "parallel" | "sequential" };

export function applyTheme(theme: Prefs["theme"] | undefined): void {
  const dark = theme === "dark" || (theme !== "light" && window.matchMedia("(prefers-color-scheme: dark)").matches);
  document.documentElement.dataset.theme = dark ? "dark" : "light";
}

function Choice<T extends string>({ id, label, value, options, onChange }: { id: string; label: string; value: T;
  options: [T, string][]; onChange: (v: T) => void }) {
  return (
    <div className="form-field">
      <label htmlFor={id}>{label}</label>
      <select id={id} value={value} onChange={(e) => onChange(e.target.value as T)}>
        {options.map(([v, text]) => <option key={v} value={v}>{text}</option>)}
      </select>
    </div>
  );
}

function Check({ id, label, checked, onChange }: { id: string; label: string; checked: boolean; onChange: (v: boolean) => void }) {
  return (
    <div className="form-field form-check">
      <input id={id} type="checkbox" checked={checked} onChange={(e) => onChange(e.target.checked)} />
      <label htmlFor={id}>{label}</label>
    </div>
  );
}

export function PreferencesDialog({ api, prefs, onSaved, onClose }: { api: Api; prefs: Prefs; onSaved: (p: Prefs) => void;
  onClose: () => void }) {
  const [draft, setDraft] = useState<Prefs>(prefs);
  const [state, setState] = useState<{ saving?: boolean; error?: string; saved?: boolean }>({});
  const dialog = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    dialog.current?.showModal();
  }, []);
  const set = <K extends keyof Prefs>(key: K, value: Prefs[K]) => {
    setDraft({ ...draft, [key]: value });
    if (key === "theme") applyTheme(value as Prefs["theme"]);
  };
  const save = async () => {
    setState({ saving: true });
    try {
      const { updated_at: _read_only, ...changes } = draft as Prefs & { updated_at?: string };
      void _read_only;
      const saved = await api.request<Prefs>("PUT", "/v1/preferences", changes);
      onSaved(saved);
      setState({ saved: true });
    } catch (e) {
      setState({ error: describeError(e) });
    }
  };
  return (
    <dialog ref={dialog} className="dialog" aria-labelledby="prefs-title" onClose={onClose}
            onCancel={() => applyTheme(prefs.theme)}>
      <form method="dialog" onSubmit={(e) => { e.preventDefault(); void save(); }}>
        <h2 id="prefs-title">Preferences</h2>
        <fieldset>
          <legend>Appearance</legend>
          <Choice id="pref-theme" label="Theme" value={draft.theme} onChange={(v) => set("theme", v)}
                  options={[["system", "Same as my system"], ["light", "Light"], ["dark", "Dark"]]} />
        </fieldset>
        <fieldset>
          <legend>Notifications</legend>
          <Check id="pref-in-app" label="Tell me in this page when an envelope is completed, declined or voided"
                 checked={draft.notify_in_app} onChange={(v) => set("notify_in_app", v)} />
          <Check id="pref-email-completed" label="Email me when an envelope is completed"
                 checked={draft.notify_email_on_completed} onChange={(v) => set("notify_email_on_completed", v)} />
          <Check id="pref-email-declined" label="Email me when an envelope is declined"
                 checked={draft.notify_email_on_declined} onChange={(v) => set("notify_email_on_declined", v)} />
        </fieldset>
        <fieldset>
          <legend>How the agent answers</legend>
          <Choice id="pref-tone" label="Tone" value={draft.tone} onChange={(v) => set("tone", v)}
                  options={[["friendly", "Friendly"], ["concise", "Concise"], ["formal", "Formal"]]} />
          <Choice id="pref-verbosity" label="Detail" value={draft.verbosity} onChange={(v) => set("verbosity", v)}
                  options={[["brief", "Brief"], ["normal", "Normal"], ["detailed", "Detailed"]]} />
          <Choice id="pref-order" label="Signing order when I don't say" value={draft.default_signing_order}
                  onChange={(v) => set("default_signing_order", v)}
                  options={[["parallel", "Everyone at once"], ["sequential", "One after another"]]} />
          <Check id="pref-reminders" label="Ask me before sending reminders" checked={draft.confirm_reminders}
                 onChange={(v) => set("confirm_reminders", v)} />
        </fieldset>
        {state.error && <p className="error" role="alert">{state.error}</p>}
        {state.saved && <p className="good" role="status">Saved.</p>}
        <div className="actions">
          <button type="submit" className="primary" disabled={state.saving}>Save preferences</button>
          <button type="button" className="secondary" onClick={() => { applyTheme(prefs.theme); dialog.current?.close(); }}>Close</button>
        </div>
      </form>
    </dialog>
  );
}
