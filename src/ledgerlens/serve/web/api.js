// The API client: bearer token from the login link, JSON in and out, and the last good copy
// of the home, insights and forecast answers kept for offline use (the service worker keeps
// another copy; this one survives when the worker is not yet in control).
const TOKEN_KEY = "ll.token";
const SAVED = "ll.saved:";
const OFFLINE_PATHS = [/\/forecast$/, /\/insights(\?.*)?$/, /^\/v1\/businesses\/[^/]+$/,
  /\/accounts$/];

export function token() { return localStorage.getItem(TOKEN_KEY); }
export function setToken(t) { localStorage.setItem(TOKEN_KEY, t); }
export function logout() {
  localStorage.clear();
  if ("caches" in window) caches.keys().then((ks) => ks.forEach((k) => caches.delete(k)));
}

function b64url(part) {
  const s = part.replace(/-/g, "+").replace(/_/g, "/");
  return JSON.parse(decodeURIComponent(escape(atob(s + "===".slice((s.length + 3) % 4)))));
}

// Which businesses the token grants (its claims are only read here, the server verifies them).
export function grants() {
  const t = token();
  if (!t) return {};
  try {
    const claims = b64url(t.split(".")[1]);
    const out = { ...(claims.biz || {}) };
    const scopes = claims.scopes || String(claims.scope || "").split(" ");
    for (const s of scopes) {
      if (s.startsWith("business:")) {
        const rest = s.slice(9); const i = rest.lastIndexOf(":");
        out[rest.slice(0, i)] = rest.slice(i + 1);
      }
    }
    return out;
  } catch { return {}; }
}

export class Answer {
  constructor(status, data, saved = null) {
    this.status = status; this.data = data; this.saved = saved;
  }
  get ok() { return this.status >= 200 && this.status < 300; }
  // a route that is not there yet (another stage still building it)
  get missing() { return this.status === 404 || this.status === 501 || this.status === 405; }
}

export async function api(path, { method = "GET", body, headers = {} } = {}) {
  const init = { method, headers: { Accept: "application/json", ...headers } };
  if (token()) init.headers.Authorization = `Bearer ${token()}`;
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const keep = method === "GET" && OFFLINE_PATHS.some((re) => re.test(path));
  let res;
  try {
    res = await fetch(path, init);
  } catch (err) {
    const saved = keep ? localStorage.getItem(SAVED + path) : null;
    if (saved) {
      const { at, data } = JSON.parse(saved);
      return new Answer(200, data, at);
    }
    return new Answer(0, { detail: "offline" });
  }
  let data = null;
  const type = res.headers.get("content-type") || "";
  if (type.includes("json")) data = await res.json();
  else data = await res.blob();
  if (keep && res.ok) {
    try {
      localStorage.setItem(SAVED + path, JSON.stringify({ at: new Date().toISOString(), data }));
    } catch { /* storage full: the service worker copy remains */ }
  }
  return new Answer(res.status, data);
}
