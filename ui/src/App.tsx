// The page: header (model, account, preferences), conversations, the chat, and the live envelopes panel.
import { useCallback, useEffect, useMemo, useState } from "react";
import { Icon } from "./Icon";
import { Api, authHeaders, loadCredentials, saveCredentials, type Credentials } from "./api";
import { Chat } from "./Chat";
import { EnvelopesPanel, type Notice } from "./Envelopes";
import { applyTheme, PreferencesDialog, type Prefs } from "./Preferences";
import { SignIn } from "./SignIn";
import { makeClient } from "./stream";
import { ThreadList } from "./Threads";
import type { ToolInfo } from "./words";

type Info = { model: string; model_is_offline: boolean; docusign: string };

function threadFromPath(): string | null {
  const match = /^\/t\/([0-9a-f-]{36})\/?$/i.exec(window.location.pathname);
  return match ? match[1] : null;
}

function Workspace({ credentials, onSignOut }: { credentials: Credentials; onSignOut: (reason?: string) => void }) {
  const api = useMemo(() => new Api(credentials, () => onSignOut("Your session has ended; sign in again.")), [credentials, onSignOut]);
  const client = useMemo(() => makeClient(authHeaders(credentials)), [credentials]);
  const [threadId, setThreadId] = useState<string | null>(threadFromPath);
  const [info, setInfo] = useState<Info | null>(null);
  const [tools, setTools] = useState<Record<string, ToolInfo>>({});
  const [prefs, setPrefs] = useState<Prefs | null>(null);
  const [showPrefs, setShowPrefs] = useState(false);
  const [refresh, setRefresh] = useState(0);
  const [notices, setNotices] = useState<(Notice & { key: number })[]>([]);
  const [drawer, setDrawer] = useState<"threads" | "envelopes" | null>(null);

  useEffect(() => {
    fetch("/info").then((r) => r.json()).then(setInfo, () => undefined);
    api.get<ToolInfo[]>("/v1/tools").then((list) => setTools(Object.fromEntries(list.map((t) => [t.name, t]))), () => undefined);
    api.get<Prefs>("/v1/preferences").then((p) => { setPrefs(p); applyTheme(p.theme); }, () => undefined);
  }, [api]);

  useEffect(() => {
    const media = window.matchMedia("(prefers-color-scheme: dark)");
    const follow = () => applyTheme(prefs?.theme);
    media.addEventListener("change", follow);
    return () => media.removeEventListener("change", follow);
  }, [prefs]);

  useEffect(() => {
    const onPop = () => setThreadId(threadFromPath());
    window.addEventListener("popstate", onPop);
    return () => window.removeEventListener("popstate", onPop);
  }, []);

  const open = useCallback((id: string | null) => {
    const path = id ? `/t/${id}` : "/";
    if (window.location.pathname !== path) window.history.pushState(null, "", path);
    setThreadId(id);
    setDrawer(null);
  }, []);

  const notify = useCallback((notice: Notice) => {
    if (prefs && !prefs.notify_in_app) return;
    const key = Date.now() + Math.random();
    setNotices((n) => [...n, { ...notice, key }]);
    setTimeout(() => setNotices((n) => n.filter((x) => x.key !== key)), 8000);
  }, [prefs]);

  const runEnded = useCallback(() => setRefresh((r) => r + 1), []);
  const model = info ? (info.model_is_offline ? `${info.model} · offline model` : info.model) : "";

  return (
    <div className={`app drawer-${drawer ?? "none"}`}>
      <header className="topbar">
        <button type="button" className="icon only-narrow" aria-label="Conversations" aria-expanded={drawer === "threads"}
                onClick={() => setDrawer(drawer === "threads" ? null : "threads")}><Icon name="menu" /></button>
        <h1 className="brand">DocuSign Agent</h1>
        {model && <span className="model" title={info?.model_is_offline ? "The built-in rule-based model: no account or key needed" : "The model answering"}>
          Model: {model}</span>}
        <span className="spacer" />
        <button type="button" className="icon only-narrow" aria-label="Envelopes" aria-expanded={drawer === "envelopes"}
                onClick={() => setDrawer(drawer === "envelopes" ? null : "envelopes")}><Icon name="mail" /></button>
        <span className="account" title={credentials.email ?? ""}>
          {credentials.kind === "local" ? "Local user" : credentials.email ?? (credentials.kind === "api_key" ? "API key" : "Signed in")}
        </span>
        <button type="button" className="secondary small" onClick={() => setShowPrefs(true)} disabled={!prefs}>
          <Icon name="gear" /><span className="label-wide">Preferences</span>
        </button>
        <button type="button" className="link small" onClick={() => onSignOut()}>Sign out</button>
      </header>
      <div className="columns">
        <div className="col-threads">
          <ThreadList client={client} currentId={threadId} refreshKey={refresh} onOpen={open} onNew={() => open(null)} />
        </div>
        <main className="col-chat">
          <Chat api={api} client={client} threadId={threadId} tools={tools} onThreadId={open} onRunEnded={runEnded} />
        </main>
        <div className="col-panel">
          <EnvelopesPanel api={api} refreshKey={refresh} onNotice={notify} />
        </div>
      </div>
      <div className="notices" role="status" aria-live="polite">
        {notices.map((n) => <p key={n.key} className={`notice notice-${n.tone}`}>{n.text}</p>)}
      </div>
      {showPrefs && prefs && (
        <PreferencesDialog api={api} prefs={prefs} onSaved={(p) => { setPrefs(p); applyTheme(p.theme); }}
                           onClose={() => setShowPrefs(false)} />
      )}
    </div>
  );
}

export function App() {
  const [credentials, setCredentials] = useState<Credentials | null>(loadCredentials);
  const [notice, setNotice] = useState<string | undefined>();
  useEffect(() => applyTheme("system"), []);
  const signOut = useCallback((reason?: string) => {
    saveCredentials(null);
    setNotice(reason ?? "You signed out.");
    setCredentials(null);
  }, []);
  if (!credentials) return <SignIn notice={notice} onSignedIn={(c) => { setNotice(undefined); setCredentials(c); }} />;
  return <Workspace credentials={credentials} onSignOut={signOut} />;
}
