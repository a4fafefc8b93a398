// pinlab's offline cache. web/build.sh fills in the build hash and the file
// list. The page (index.html) is fetched from the network first, so a new
// build is seen on the next load when online; every other file has the build
// hash in its name and is served from the cache. Old builds' caches are
// deleted when this worker activates: no stale-cache trap.

const BUILD = "__BUILD__";
const CACHE = `pinlab-${BUILD}`;
const FILES = __FILES__;
// Bad lecture-hall Wi-Fi: do not wait forever before using the cached page.
const NETWORK_TIMEOUT_MS = 4000;

self.addEventListener("install", (e) => {
  e.waitUntil(
    caches
      .open(CACHE)
      .then((c) => c.addAll(FILES))
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener("activate", (e) => {
  e.waitUntil(
    caches
      .keys()
      .then((keys) => Promise.all(keys.filter((k) => k.startsWith("pinlab-") && k !== CACHE).map((k) => caches.delete(k))))
      .then(() => self.clients.claim()),
  );
});

function isPage(req) {
  const u = new URL(req.url);
  return req.mode === "navigate" || u.pathname.endsWith("/") || u.pathname.endsWith("/index.html");
}

async function networkFirst(req) {
  const cache = await caches.open(CACHE);
  try {
    const res = await Promise.race([
      fetch(req, { cache: "no-cache" }),
      new Promise((_, reject) => setTimeout(() => reject(new Error("timeout")), NETWORK_TIMEOUT_MS)),
    ]);
    if (res.ok) cache.put("./index.html", res.clone());
    return res;
  } catch (err) {
    const hit = await cache.match("./index.html");
    if (hit) return hit;
    throw err;
  }
}

async function cacheFirst(req) {
  const cache = await caches.open(CACHE);
  const hit = await cache.match(req);
  if (hit) return hit;
  const res = await fetch(req);
  if (res.ok) cache.put(req, res.clone());
  return res;
}

self.addEventListener("fetch", (e) => {
  const req = e.request;
  if (req.method !== "GET" || new URL(req.url).origin !== self.location.origin) return;
  e.respondWith(isPage(req) ? networkFirst(req) : cacheFirst(req));
});
