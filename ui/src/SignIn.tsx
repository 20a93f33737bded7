// Signing in: as the local user on a loopback server (no password), otherwise with a bearer token or an API
// key, kept for this browser session only. The form appears once the server has said whether local sign-in is
// on, so nothing moves under a pointer that is already on its way to "Sign in".
import { useEffect, useState } from "react";
import { describeError, readError, saveCredentials, type Credentials } from "./api";

async function verify(credentials: Credentials): Promise<Credentials> {
  const headers: Record<string, string> = credentials.kind === "api_key" ? { "X-Api-Key": credentials.secret }
    : { Authorization: `Bearer ${credentials.secret}` };
  const response = await fetch("/v1/me", { headers });
  if (!response.ok) throw await readError(response);
  const me = (await response.json()) as { email?: string | null };
  return { ...credentials, email: me.email ?? undefined };
}

export function SignIn({ onSignedIn, notice }: { onSignedIn: (c: Credentials) => void; notice?: string }) {
  const [local, setLocal] = useState<{ enabled: boolean; reason?: string } | null>(null);
  const [secret, setSecret] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [shownNotice, setShownNotice] = useState<string | undefined>(notice);
  const [busy, setBusy] = useState<"local" | "token" | null>(null);

  const signInLocally = async () => {
    setBusy("local");
    setError(null);
    setShownNotice(undefined);
    try {
      const response = await fetch("/auth/local", { method: "POST" });
      if (!response.ok) throw await readError(response);
      const body = (await response.json()) as { token: string; user: { email: string } };
      const credentials: Credentials = { kind: "local", secret: body.token, email: body.user.email };
      saveCredentials(credentials);
      onSignedIn(credentials);
    } catch (e) {
      setError(describeError(e));
      setBusy(null);
    }
  };

  useEffect(() => {
    // A server that never answers must not leave the page without a form: after 15 s, offer the token field.
    fetch("/auth/local", { signal: AbortSignal.timeout(15_000) }).then((r) => r.json()).then((status: { enabled: boolean; reason?: string }) => {
      setLocal(status);
      if (status.enabled && !notice) void signInLocally();
    }, () => setLocal({ enabled: false, reason: "the server could not be reached" }));
  }, []);  // eslint-disable-line react-hooks/exhaustive-deps

  const submit = async () => {
    const value = secret.trim();
    if (!value) return;
    setBusy("token");
    setError(null);
    setShownNotice(undefined);
    try {
      const kind = value.split(".").length === 3 ? "bearer" : "api_key";
      const credentials = await verify({ kind, secret: value });
      saveCredentials(credentials);
      onSignedIn(credentials);
    } catch (e) {
      setError(describeError(e));
      setBusy(null);
    }
  };

  if (local === null) {
    return <main className="signin"><p role="status">Checking how to sign in…</p></main>;
  }
  if (busy === "local" && !error) {
    return <main className="signin"><p role="status">Signing you in as the local user…</p></main>;
  }
  return (
    <main className="signin">
      <form onSubmit={(e) => { e.preventDefault(); void submit(); }} aria-labelledby="signin-title">
        <h1 id="signin-title">Sign in to DocuSign Agent</h1>
        {shownNotice && <p className="signin-notice" role="status">{shownNotice}</p>}
        {local.enabled ? (
          <p><button type="button" className="primary" onClick={() => void signInLocally()} disabled={busy !== null}>Continue as the local user</button></p>
        ) : (
          <p className="muted">Local sign-in is off here ({local.reason}). Paste a bearer token (from <code>docusign-agent token --user you@example.com</code>) or an API key.</p>
        )}
        <div className="form-field">
          <label htmlFor="secret">Bearer token or API key</label>
          <input id="secret" type="password" autoComplete="off" value={secret} onChange={(e) => setSecret(e.target.value)}
                 aria-describedby="secret-hint" />
          <small id="secret-hint" className="hint">Kept for this browser session only.</small>
        </div>
        {error && <p className="error" role="alert">{error}</p>}
        <button type="submit" className="primary" disabled={busy !== null || !secret.trim()}>Sign in</button>
      </form>
    </main>
  );
}
