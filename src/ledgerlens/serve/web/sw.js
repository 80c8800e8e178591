// Service worker: the app shell cache-first (refreshed in the background), and the home,
// insights and forecast answers network-first with the last good copy for offline use.
// the server writes a hash of every shell file here (routes/web.py): any change to the app
// changes this file, so browsers install the new worker, fetch the new shell and drop the old
const SHELL = "ledgerlens-shell-__SHELL_VERSION__";
const DATA = "ledgerlens-data-v1";
const FILES = ["/app/", "/app/app.js", "/app/api.js", "/app/chart.js", "/app/screens.js",
  "/app/views.js", "/app/app.css", "/app/manifest.webmanifest", "/app/icon.svg",
  "/app/icon-192.png"];
const DATA_PATHS = [/^\/v1\/businesses\/[^/]+$/, /\/forecast$/, /\/insights$/, /\/accounts$/,
  /^\/v1\/taxonomy$/];

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(SHELL).then((c) => c.addAll(FILES)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(caches.keys()
    .then((keys) => Promise.all(keys.filter((k) => ![SHELL, DATA].includes(k)).map((k) => caches.delete(k))))
    .then(() => self.clients.claim()));
});

self.addEventListener("fetch", (event) => {
  const req = event.request;
  const url = new URL(req.url);
  if (req.method !== "GET" || url.origin !== location.origin) return;
  if (url.pathname.startsWith("/app")) {
    event.respondWith(caches.open(SHELL).then(async (cache) => {
      const key = url.pathname === "/app" ? "/app/" : url.pathname;
      const hit = await cache.match(key);
      const fresh = fetch(req).then((res) => { if (res.ok) cache.put(key, res.clone()); return res; });
      return hit || fresh;
    }));
  } else if (DATA_PATHS.some((re) => re.test(url.pathname))) {
    event.respondWith(caches.open(DATA).then(async (cache) => {
      try {
        const res = await fetch(req);
        if (res.ok) cache.put(url.pathname, res.clone());
        return res;
      } catch (err) {
        const hit = await cache.match(url.pathname);
        if (hit) return hit;
        throw err;
      }
    }));
  }
});
