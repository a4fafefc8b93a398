// pinlab's page: loads the wasm with progress, starts the app, and offers
// window.pinlab (the embedding API), deep links, file open/drop and the
// offline service worker. Documented in docs/web.md.
// __BUILD__ is replaced by a hash of the build (web/build.sh).

import init, { WebHandle } from "./pkg/pinlab-__BUILD__.js";

const BUILD = "__BUILD__";
const WASM_URL = "./pkg/pinlab-__BUILD___bg.wasm";
const $ = (id) => document.getElementById(id);
// No inline handlers: the server's Content-Security-Policy forbids them.
$("reload_button").addEventListener("click", () => location.reload());

function fail(title, text, detail) {
  $("loading").hidden = true;
  $("failure_title").textContent = title;
  $("failure_text").textContent = text;
  $("failure_detail").textContent = detail || "";
  $("failure_detail").hidden = !detail;
  $("failure").hidden = false;
  document.body.dataset.appFailed = "true";
}

let toastTimer;
function toast(msg) {
  const t = $("toast");
  t.textContent = msg;
  t.style.display = "block";
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => (t.style.display = "none"), 8000);
}

// The wasm, fetched by hand so the loading screen can show progress.
async function fetchWasm() {
  const res = await fetch(WASM_URL);
  if (!res.ok) throw new Error(`${WASM_URL}: HTTP ${res.status}`);
  const total = Number(res.headers.get("Content-Length")) || 0;
  if (!res.body) return new Uint8Array(await res.arrayBuffer());
  const reader = res.body.getReader();
  const chunks = [];
  let got = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    got += value.length;
    // A compressing server sends the compressed length: clamp.
    if (total) $("progress").value = Math.min(got / total, 1);
    $("progress_text").textContent = `Fetching the app: ${(got / 1e6).toFixed(1)} MB`;
  }
  const bytes = new Uint8Array(got);
  let at = 0;
  for (const c of chunks) {
    bytes.set(c, at);
    at += c.length;
  }
  return bytes;
}

function hasWebGL2() {
  try {
    return !!document.createElement("canvas").getContext("webgl2");
  } catch {
    return false;
  }
}

// The build uses WebAssembly SIMD (.cargo/config.toml: egui's glyph
// rasterizer is far smaller with it): Chrome 91, Firefox 89, Safari 16.4
// and later. The smallest module with one v128 instruction tells.
function hasWasmSimd() {
  const probe = new Uint8Array([
    0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 10, 1, 8, 0, 65, 0, 253, 15, 253, 98, 11,
  ]);
  try {
    return WebAssembly.validate(probe);
  } catch {
    return false;
  }
}

// Deep links: #lesson=ID&step=N&kernel=PRESET; a lecture's is
// #lecture=NAME&stop=N&...; a live-class link is #join=CODE (the room on
// the server that served this page).
function parseHash() {
  const p = new URLSearchParams(location.hash.slice(1));
  const step = p.get("step");
  const stop = p.get("stop");
  return {
    lesson: p.get("lesson") || undefined,
    step: step !== null && /^\d+$/.test(step) ? Number(step) : undefined,
    kernel: p.get("kernel") || undefined,
    join: p.get("join") || undefined,
    lecture: p.get("lecture") || undefined,
    stop: stop !== null && /^\d+$/.test(stop) ? Number(stop) : 1,
  };
}

// The room a student is in stays in the address, so a reload rejoins it.
let joined = null;

function hashOf(pos) {
  const p = new URLSearchParams();
  if (joined) p.set("join", joined);
  if (pos.lecture) {
    p.set("lecture", pos.lecture);
    p.set("stop", String(pos.stop));
  }
  if (pos.lesson) p.set("lesson", pos.lesson);
  p.set("step", String(pos.step));
  p.set("kernel", pos.kernel);
  return "#" + p.toString();
}

async function main() {
  if (!hasWebGL2()) {
    fail(
      "WebGL 2 is not available",
      "pinlab draws with WebGL 2, which this browser does not offer or has turned off " +
        "(hardware acceleration disabled, or a locked-down browser). Try another browser, " +
        "turn hardware acceleration on, or run the desktop app: cargo run --release.",
    );
    return;
  }
  if (!hasWasmSimd()) {
    fail(
      "This browser is too old for pinlab",
      "pinlab's browser build needs WebAssembly SIMD: Chrome or Edge 91, Firefox 89, " +
        "Safari 16.4 or later. Update the browser, or run the desktop app (docs/install.md).",
    );
    return;
  }
  registerServiceWorker();
  let bytes;
  try {
    bytes = await fetchWasm();
  } catch (e) {
    fail("pinlab could not be downloaded", "Check the connection and reload.", String(e));
    return;
  }
  $("progress_text").textContent = "Starting";
  await init({ module_or_path: bytes });
  const handle = new WebHandle();
  try {
    await handle.start($("the_canvas"));
  } catch (e) {
    fail("pinlab could not start", "The graphics could not be set up (WebGL 2).", String(e?.message || e));
    return;
  }
  $("loading").hidden = true;

  let last = null; // the last position reported (JSON)
  let fromHistory = false; // a move caused by back/forward: do not push it again

  function position() {
    return JSON.parse(handle.position_json());
  }

  // Follows the user in the address bar and tells listeners.
  function checkPosition() {
    if (handle.has_panicked()) return;
    // A room that ended (or a wrong code) leaves the address: a reload must
    // not try it again.
    if (joined && JSON.parse(handle.live_json()).status?.ended) {
      joined = null;
      last = null;
    }
    const pos = position();
    const key = JSON.stringify([pos.lesson, pos.step, pos.kernel, pos.lecture, pos.stop]);
    if (key === last) return;
    const first = last === null;
    last = key;
    const url = hashOf(pos);
    if (first || fromHistory) history.replaceState(null, "", url);
    else history.pushState(null, "", url);
    fromHistory = false;
    $("status").textContent = `${pos.lesson || "(file)"} - step ${pos.step} - kernel ${pos.kernel}`;
    window.dispatchEvent(new CustomEvent("pinlab-step", { detail: pos }));
    if (window.parent !== window) window.parent.postMessage({ pinlab: "step", ...pos }, "*");
  }

  function openHash() {
    const h = parseHash();
    if (h.join !== undefined && h.join !== joined) {
      joined = h.join;
      handle.live_join(location.origin, h.join);
    }
    const cur = position();
    if (h.lecture !== undefined && (h.lecture !== cur.lecture || h.stop !== cur.stop)) {
      try {
        handle.open_lecture(h.lecture, h.stop);
      } catch (e) {
        toast(`This lecture could not be opened: ${e.message}`);
      }
    }
    if (h.lesson === undefined && h.step === undefined && h.kernel === undefined) return;
    try {
      handle.open_at(h.lesson, h.step, h.kernel);
    } catch (e) {
      toast(`This link could not be opened fully: ${e.message}`);
    }
  }

  function call(f) {
    try {
      return f();
    } finally {
      checkPosition();
    }
  }

  const api = {
    build: BUILD,
    lessons: () => JSON.parse(handle.lessons_json()),
    actions: () => JSON.parse(handle.actions_json()),
    load: (idOrToml) => call(() => handle.load(String(idOrToml))),
    open: (lesson, step, kernel) => call(() => handle.open_at(lesson, step, kernel)),
    // A shipped lecture ("50-minutes") or a lecture file's text, from stop n.
    lecture: (nameOrToml, stop = 1) => call(() => handle.open_lecture(String(nameOrToml), stop)),
    step: (n = 1) => call(() => handle.step(n)),
    back: (n = 1) => call(() => handle.back(n)),
    state: () => JSON.parse(handle.state_json()),
    position,
    exercises: (seed = 0, count = 3) => JSON.parse(handle.exercises_json(BigInt(seed), count)),
    on: (fn) => window.addEventListener("pinlab-step", (e) => fn(e.detail)),
    // The live class (docs/classroom.md): the server is this page's origin
    // unless another is given.
    live: () => JSON.parse(handle.live_json()),
    liveOpen: (server = location.origin) => {
      joined = null; // a lecturer's address does not rejoin a student's seat
      return handle.live_open(String(server));
    },
    liveJoin: (code, server = location.origin) => {
      joined = String(code);
      return handle.live_join(String(server), String(code));
    },
    liveAnswer: (value) => handle.live_answer(Number(value)),
    liveLecture: (cmd) => call(() => handle.live_lecture(String(cmd))),
    liveFollow: () => call(() => handle.live_follow()),
  };
  window.pinlab = api;

  openHash();
  checkPosition();
  window.addEventListener("popstate", () => {
    fromHistory = true;
    openHash();
    checkPosition();
    // A back/forward that moved nothing must not turn the next move into a replace.
    fromHistory = false;
  });
  // Keys, clicks and play move the app without calling the API: poll.
  setInterval(checkPosition, 150);
  setInterval(() => {
    if (handle.has_panicked()) {
      fail(
        "pinlab stopped after an internal error",
        "Please report it with the text below. Reloading restores the last lesson and step.",
        `${handle.panic_message() || ""}\n\n${handle.panic_callstack() || ""}`,
      );
    }
  }, 500);

  // Embedding across origins: the parent page posts {pinlab: "step", args: [2], id}.
  window.addEventListener("message", (e) => {
    const m = e.data;
    if (!m || typeof m.pinlab !== "string" || m.pinlab === "step-event") return;
    const f = api[m.pinlab];
    if (typeof f !== "function" || m.pinlab === "on") return;
    let reply;
    try {
      reply = { pinlab: "reply", id: m.id, result: f(...(m.args || [])) };
    } catch (err) {
      reply = { pinlab: "reply", id: m.id, error: String(err?.message || err) };
    }
    e.source?.postMessage(reply, e.origin === "null" ? "*" : e.origin);
  });

  // Lesson files from this computer: picker and drop.
  async function openFile(file) {
    try {
      api.load(await file.text());
      toast(`Opened ${file.name}`);
    } catch (e) {
      toast(`${file.name}: ${e.message}`);
    }
  }
  $("open").onclick = () => $("picker").click();
  $("picker").onchange = () => {
    const f = $("picker").files[0];
    if (f) openFile(f);
    $("picker").value = "";
  };
  $("copy").onclick = async () => {
    try {
      await navigator.clipboard.writeText(location.href);
      toast("Link copied");
    } catch {
      toast(location.href);
    }
  };
  // F5 starts presenter mode in the app; in a browser it would also reload
  // the page, and full screen needs this user gesture.
  window.addEventListener("keydown", (e) => {
    if (e.key === "F5") {
      e.preventDefault();
      if (!document.fullscreenElement) document.documentElement.requestFullscreen?.().catch(() => {});
      else document.exitFullscreen?.().catch(() => {});
    }
  }, true);
  window.addEventListener("dragover", (e) => {
    e.preventDefault();
    document.body.classList.add("dropping");
  }, true);
  window.addEventListener("dragleave", () => document.body.classList.remove("dropping"), true);
  window.addEventListener("drop", (e) => {
    e.preventDefault();
    e.stopPropagation();
    document.body.classList.remove("dropping");
    const f = e.dataTransfer?.files?.[0];
    if (f) openFile(f);
  }, true);

  // Navigation start to the app's first frame, for the size/speed report;
  // then the monospace font, which the first frame does without.
  requestAnimationFrame(() =>
    requestAnimationFrame(() => {
      document.body.dataset.firstFrameMs = String(Math.round(performance.now()));
      document.body.dataset.appStarted = "true";
      loadMonospaceFont(handle);
    }),
  );
}

// Hack (code, transcripts, page tables) is a file of the site, not of the
// wasm (web/src/fonts.rs); until it arrives monospace text is Ubuntu Light.
async function loadMonospaceFont(handle) {
  const url = `./fonts/Hack-Regular-${BUILD}.ttf`;
  try {
    const res = await fetch(url);
    if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
    handle.install_monospace_font(new Uint8Array(await res.arrayBuffer()));
    document.body.dataset.monospaceFont = "Hack";
  } catch (e) {
    // The app works on; code is drawn in the proportional font.
    console.warn("pinlab: the monospace font did not load:", e);
    document.body.dataset.monospaceFont = "failed";
  }
}

// The service worker caches the app for offline use; it only ever serves
// this build's files (see sw.js), so a new build is picked up on reload.
function registerServiceWorker() {
  if (!("serviceWorker" in navigator) || location.protocol === "file:") return;
  navigator.serviceWorker.register("./sw.js", { updateViaCache: "none" }).catch((e) =>
    console.warn("offline cache unavailable:", e),
  );
}

main().catch((e) => fail("pinlab could not start", "An unexpected error happened while loading.", String(e?.stack || e)));
