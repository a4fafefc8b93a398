// pinlab's offline cache. web/build.sh fills in the build hash and the file
// list. The page (index.html) is fetched from the network first, so a new
// build is seen on the next load when online; every other file has the build
// hash in its name and is served from the cache. Old builds' caches are
// deleted when this worker activates: no stale-cache trap. While a new
// build's worker is still installing, the old one serves its own whole
// build offline (it never caches a newer page that needs files it lacks).

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

// Only the app's own page; other pages of the site (embed.html) are files.
function isPage(req) {
  const u = new URL(req.url);
  const scope = new URL(self.registration.scope).pathname;
  return u.pathname === scope || u.pathname === scope + "index.html";
}

// The page comes from the network when it answers in time. It is never
// written into this build's cache: that holds exactly the files of this
// build (install's addAll), so an offline start is always a whole build.
async function networkFirst(req) {
  const cache = await caches.open(CACHE);
  try {
    return await Promise.race([
      fetch(req, { cache: "no-cache" }),
      new Promise((_, reject) => setTimeout(() => reject(new Error("timeout")), NETWORK_TIMEOUT_MS)),
    ]);
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
