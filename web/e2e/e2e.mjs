// Browser test of the built site (web/build.sh) in headless Debian Chromium.
//   node web/e2e/e2e.mjs [SITE_DIR] [SCREENSHOT.png]
// Serves SITE_DIR with `pinlab serve` (PINLAB: the binary, default
// target/debug/pinlab) on a local port, runs a live class (a lecturer's page
// and two students' pages), then drives the app through window.pinlab
// and real key presses, checks deep links, history, file opening, offline
// start from the service worker, and writes a screenshot (checked for
// colours by .ci/run). Prints the first-frame time. Exits non-zero on failure.

import { chromium } from "playwright-core";
import { spawn } from "node:child_process";
import { readFileSync, mkdirSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import assert from "node:assert/strict";

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, "../..");
const site = resolve(process.argv[2] || `${root}/web/dist`);
const shot = resolve(process.argv[3] || `${root}/target/ci/web.png`);
const port = 18000 + Math.floor(Math.random() * 1000);
const base = `http://127.0.0.1:${port}/`;

const pinlab = resolve(process.env.PINLAB || `${root}/target/debug/pinlab`);
const server = spawn(pinlab, ["serve", "--addr", `127.0.0.1:${port}`, "--site", site], {
  stdio: ["ignore", "ignore", "inherit"],
});
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: [
    "--no-sandbox",
    "--enable-unsafe-swiftshader",
    "--use-angle=swiftshader",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
  ],
});

let failed = false;
async function test(name, f) {
  const t0 = Date.now();
  try {
    await f();
    console.log(`ok   ${name} (${Date.now() - t0} ms)`);
  } catch (e) {
    failed = true;
    console.log(`FAIL ${name}: ${e.stack || e}`);
  }
}

async function waitForServer() {
  for (let i = 0; i < 100; i++) {
    try {
      if ((await fetch(base)).ok) return;
    } catch {}
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`no server on ${base}`);
}

async function openApp(page, url) {
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  // pinlab serve sends a Content-Security-Policy: anything it blocks is a bug.
  page.on("console", (m) => {
    if (m.type() === "error" && /Content Security Policy/i.test(m.text())) errors.push(m.text());
  });
  await page.goto(url);
  await page.waitForSelector("body[data-app-started]", { timeout: 30000 });
  assert.equal(await page.evaluate(() => document.body.dataset.appFailed), undefined, "the page shows a failure");
  return errors;
}

const position = (page) => page.evaluate(() => window.pinlab.position());

try {
  await waitForServer();
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  let firstFrame;

  await test("the app starts and offers window.pinlab, under the server's CSP", async () => {
    const csp = (await fetch(base)).headers.get("content-security-policy") || "";
    assert.ok(/script-src 'self' 'wasm-unsafe-eval'/.test(csp), `no CSP: '${csp}'`);
    const errors = await openApp(page, base);
    firstFrame = Number(await page.evaluate(() => document.body.dataset.firstFrameMs));
    const lessons = await page.evaluate(() => window.pinlab.lessons());
    assert.ok(lessons.length >= 20, `only ${lessons.length} lessons`);
    assert.ok(lessons.some((l) => l.id === "fork-cow"));
    // The monospace font is a file of the site, fetched after the first frame.
    await page.waitForSelector("body[data-monospace-font]", { timeout: 10000 });
    assert.equal(await page.evaluate(() => document.body.dataset.monospaceFont), "Hack", "the monospace font did not load");
    assert.deepEqual(errors, []);
  });

  await test("JS API: load, step, back and state() follow the model", async () => {
    const r = await page.evaluate(() => {
      const p = window.pinlab;
      p.load("fork-cow");
      const at5 = p.step(5);
      const s5 = p.state();
      const at7 = p.step(2);
      const s7 = p.state();
      const back = p.back(1);
      return { at5, s5, at7, s7, back };
    });
    assert.equal(r.at5, 5);
    assert.equal(r.s5.lesson, "fork-cow");
    assert.equal(r.s5.position.step, 5);
    // Three pages written: three anon folios, one reference and one mapping each.
    const anon5 = r.s5.folios.filter((f) => f.kind === "Anon");
    assert.equal(anon5.length, 3);
    assert.ok(anon5.every((f) => f.refcount === 1));
    // Step 7 is fork: the child maps the same folios, so each has two references.
    assert.equal(r.at7, 7);
    const anon7 = r.s7.folios.filter((f) => f.kind === "Anon");
    assert.ok(anon7.every((f) => f.refcount === 2), JSON.stringify(anon7.map((f) => f.refcount)));
    assert.equal(r.back, 6);
    // The report part is the same schema as `pinlab run --json`.
    for (const key of ["lesson", "title", "kernel", "whatif", "steps", "checks_passed", "checks_failed", "passed"]) {
      assert.ok(key in r.s7, `state() lacks ${key}`);
    }
    assert.equal(r.s7.steps.length, 14);
  });

  await test("key presses move through the lesson and the address follows", async () => {
    await page.evaluate(() => window.pinlab.open("fork-cow", 2, "6.12"));
    await page.mouse.click(640, 500); // focus the canvas
    await page.keyboard.press("ArrowRight");
    await page.waitForFunction(() => window.pinlab.position().step === 3);
    await page.keyboard.press("PageDown");
    await page.waitForFunction(() => window.pinlab.position().step === 4);
    await page.keyboard.press("ArrowLeft");
    await page.waitForFunction(() => window.pinlab.position().step === 3);
    await page.waitForFunction(() => location.hash === "#lesson=fork-cow&step=3&kernel=6.12");
    await page.keyboard.press("End");
    await page.waitForFunction(() => window.pinlab.position().step === 14);
  });

  await test("browser back and forward move between visited steps", async () => {
    await page.evaluate(() => window.pinlab.open("fork-cow", 1, "6.12"));
    await page.evaluate(() => window.pinlab.step(1));
    await page.evaluate(() => window.pinlab.step(1));
    assert.equal((await position(page)).step, 3);
    await page.goBack();
    await page.waitForFunction(() => window.pinlab.position().step === 2);
    await page.goBack();
    await page.waitForFunction(() => window.pinlab.position().step === 1);
    await page.goForward();
    await page.waitForFunction(() => window.pinlab.position().step === 2);
  });

  await test("step events reach listeners", async () => {
    const got = await page.evaluate(() => {
      const seen = [];
      window.pinlab.on((p) => seen.push(p.step));
      window.pinlab.open("fork-cow", 4, "6.12");
      window.pinlab.step(1);
      return seen;
    });
    assert.deepEqual(got, [4, 5]);
  });

  await test("a malformed lesson gives its line and column; the page keeps working", async () => {
    const r = await page.evaluate(() => {
      try {
        window.pinlab.load('id = "x"\ntitle = 3\n');
        return { threw: false };
      } catch (e) {
        return { threw: true, message: e.message, pos: window.pinlab.position() };
      }
    });
    assert.ok(r.threw);
    assert.match(r.message, /<loaded>:\d+:\d+/);
    assert.equal(r.pos.lesson, "fork-cow");
    assert.equal(await page.evaluate(() => window.pinlab.step(1)), 6);
  });

  await test("a lesson file from the computer opens through the file picker", async () => {
    const toml = readFileSync(`${root}/assets/lessons/08-vmsplice-leak.toml`, "utf8").replace(
      /^id = ".*"$/m,
      'id = "my-copy"',
    );
    await page.setInputFiles("#picker", { name: "mine.toml", mimeType: "text/plain", buffer: Buffer.from(toml) });
    await page.waitForFunction(() => window.pinlab.state().lesson === "my-copy");
    await page.setInputFiles("#picker", { name: "bad.toml", mimeType: "text/plain", buffer: Buffer.from("[[step]]\ndo = 7\n") });
    await page.waitForFunction(() => document.getElementById("toast").textContent.startsWith("bad.toml: "));
    assert.equal(await page.evaluate(() => window.pinlab.state().lesson), "my-copy");
  });

  await test("a deep link opens that lesson, step and kernel", async () => {
    const p2 = await context.newPage();
    await openApp(p2, `${base}#lesson=vmsplice-leak&step=8&kernel=5.7`);
    const s = await p2.evaluate(() => window.pinlab.state());
    assert.deepEqual([s.position.lesson, s.position.step, s.position.kernel], ["vmsplice-leak", 8, "5.7"]);
    assert.equal(s.kernel, "5.7");
    // At step 8 under 5.7 the child reads the parent's secret (CVE-2020-29374).
    assert.deepEqual(s.steps[7].data, ["secret"]);
    assert.ok(s.steps[7].hazards.some((h) => h.kind === "data_leak"), JSON.stringify(s.steps[7].hazards));
    // The same link under 5.8 shows the fix: the child reads what was there at fork.
    await p2.evaluate(() => window.pinlab.open(undefined, undefined, "5.8"));
    assert.deepEqual(await p2.evaluate(() => window.pinlab.state().steps[7].data), ["public"]);
    await p2.evaluate(() => window.pinlab.open(undefined, undefined, "5.7"));
    await p2.waitForTimeout(300);
    await p2.screenshot({ path: shot });
    await p2.close();
  });

  await test("a lecture link walks its stops across lessons, and the address follows", async () => {
    const p3 = await context.newPage();
    await openApp(p3, `${base}#lecture=50-minutes`);
    await p3.waitForFunction(() => window.pinlab.position().lecture === "50-minutes");
    let pos = await p3.evaluate(() => window.pinlab.position());
    assert.deepEqual([pos.lesson, pos.stop, pos.step], ["folio-life", 1, 0]);
    // Stop 1 is folio-life steps 1-4; one step more opens stop 2.
    pos = await p3.evaluate(() => {
      window.pinlab.step(5);
      return window.pinlab.position();
    });
    assert.deepEqual([pos.lesson, pos.stop, pos.step, pos.kernel], ["ref-extraction", 2, 0, "6.12"]);
    await p3.waitForFunction(() => location.hash.includes("lecture=50-minutes") && location.hash.includes("stop=2"));
    await p3.close();
    // A link to a later stop opens it directly.
    const p4 = await context.newPage();
    await openApp(p4, `${base}#lecture=50-minutes&stop=5`);
    await p4.waitForFunction(() => window.pinlab.position().stop === 5);
    pos = await p4.evaluate(() => window.pinlab.position());
    assert.deepEqual([pos.lesson, pos.kernel, pos.step], ["fork-cow", "5.7", 5]);
    await p4.close();
  });

  await test("actions: the catalogue in the page is the command line's", async () => {
    const native = process.env.PINLAB_BIN || `${root}/target/debug/pinlab`;
    const { execFileSync } = await import("node:child_process");
    const want = JSON.parse(execFileSync(native, ["actions", "--json"], { encoding: "utf8" }));
    const got = await page.evaluate(() => window.pinlab.actions());
    assert.ok(got.some((a) => a.name === "vmsplice"));
    assert.deepEqual(got, want);
  });

  await test("exercises: the same seed gives the same exercises in wasm32 as natively", async () => {
    const native = process.env.PINLAB_BIN || `${root}/target/debug/pinlab`;
    const { execFileSync } = await import("node:child_process");
    const want = JSON.parse(execFileSync(native, ["exercise", "--seed", "7", "--count", "3", "--json"], { encoding: "utf8" }));
    const got = await page.evaluate(() => window.pinlab.exercises(7, 3));
    assert.equal(got.length, 3);
    assert.deepEqual(got, want);
  });

  await test("presenter mode (F5) and a clicker's Page Down work in the browser", async () => {
    await page.evaluate(() => window.pinlab.open("ref-extraction", 0, "6.12"));
    await page.mouse.click(640, 500);
    await page.keyboard.press("F5");
    await page.waitForFunction(() => window.pinlab.position().presenter === true);
    await page.keyboard.press("PageDown");
    await page.waitForFunction(() => window.pinlab.position().step === 1);
    await page.keyboard.press("Escape");
    await page.waitForFunction(() => window.pinlab.position().presenter === false);
  });

  await test("live class: two students follow the lecturer, answer, and see the reveal", async () => {
    const open = async (w, h, url) => {
      const ctx = await browser.newContext({ viewport: { width: w, height: h } });
      const p = await ctx.newPage();
      await openApp(p, url);
      return p;
    };
    const live = (p) => p.evaluate(() => window.pinlab.live());
    const t0 = Date.now();
    const until = async (p, what, f, arg) => {
      if (process.env.E2E_VERBOSE) console.log(`    ${Date.now() - t0} ms: waiting for ${what}`);
      try {
        await p.waitForFunction(f, arg, { timeout: 15000, polling: 50 });
      } catch (e) {
        throw new Error(`timed out waiting for ${what}: ${JSON.stringify(await live(p))}`);
      }
    };
    const lect = await open(1280, 800, base);
    await lect.evaluate(() => {
      window.pinlab.load("folio-life");
      window.pinlab.liveOpen();
    });
    await until(lect, "a room code", () => !!window.pinlab.live().room?.code);
    const code = (await live(lect)).room.code;
    assert.match(code, /^[A-Z0-9]{6}$/);
    assert.equal((await live(lect)).join_link, `${base}#join=${code}`);
    // Students open the join link (a phone-sized page and a laptop-sized one).
    const s1 = await open(420, 820, `${base}#join=${code}`);
    const s2 = await open(1024, 700, `${base}#join=${code}`);
    await until(lect, "two students", () => window.pinlab.live().room.students === 2);
    // The lecturer steps on: the quiz stops before the first question.
    await lect.evaluate(() => window.pinlab.step(30));
    await until(lect, "a question put to the room", () => window.pinlab.live().room.asking?.[2] === "open");
    const k = (await live(lect)).room.asking[0];
    for (const s of [s1, s2]) {
      await until(s, "the student follows to the question", (k) => {
        const q = window.pinlab.live().room?.position?.question;
        return q && q.step === k && q.phase === "open" && window.pinlab.position().step === k - 1;
      }, k);
    }
    const right = await s1.evaluate((k) => window.pinlab.state().steps[k - 1].question.answer_value, k);
    const wrong = right === 1 ? 2 : 1;
    await s1.evaluate((v) => window.pinlab.liveAnswer(v), right);
    await s2.evaluate((v) => window.pinlab.liveAnswer(v), wrong);
    await until(lect, "both answers in the lecturer's counts", (k) => window.pinlab.live().room.tallies[`${k}.1`]?.answered === 2, k);
    const tally = (await live(lect)).room.tallies[`${k}.1`];
    assert.deepEqual(tally.counts, [[Math.min(right, wrong), 1], [Math.max(right, wrong), 1]]);
    // A second answer is refused (once the server's acceptance has arrived).
    await until(s2, "student 2's answer accepted", () => !!window.pinlab.live().room.answered);
    await assert.rejects(s2.evaluate(() => window.pinlab.liveAnswer(1)), /already answered/);
    await lect.evaluate(() => window.pinlab.liveLecture("show_answers"));
    assert.equal((await live(lect)).room.chart, true);
    await lect.evaluate(() => window.pinlab.liveLecture("reveal"));
    assert.equal((await position(lect)).step, k);
    await until(s1, "student 1 marked", () => window.pinlab.live().results.length === 1);
    await until(s2, "student 2 marked", () => window.pinlab.live().results.length === 1);
    assert.equal((await live(s1)).results[0].right, true);
    assert.equal((await live(s2)).results[0].right, false);
    assert.equal((await position(s1)).step, k, "the reveal ran the step for the students too");
    await lect.waitForTimeout(300);
    await lect.screenshot({ path: shot.replace(/\.png$/, "-live-lecturer.png") });
    await s1.screenshot({ path: shot.replace(/\.png$/, "-live-student.png") });
    await lect.evaluate(() => window.pinlab.liveLecture("close"));
    await until(s2, "the room ends for the students", () => window.pinlab.live().status.ended !== undefined);
    for (const p of [lect, s1, s2]) await p.context().close();
  });

  await test("after one visit the app starts offline from its cache", async () => {
    await page.evaluate(() => navigator.serviceWorker.ready);
    await page.waitForFunction(() => !!navigator.serviceWorker.controller || true);
    await context.setOffline(true);
    const p3 = await context.newPage();
    await openApp(p3, `${base}#lesson=fork-cow&step=7&kernel=6.12`);
    assert.equal((await position(p3)).step, 7);
    await p3.close();
    await context.setOffline(false);
  });

  const wasm = readFileSync(site + "/index.html", "utf8").match(/main-([0-9a-f]+)\.js/);
  console.log(`first frame: ${firstFrame} ms after navigation start (build ${wasm ? wasm[1] : "?"})`);
  mkdirSync(dirname(shot), { recursive: true });
  console.log(`screenshot: ${shot}`);
} finally {
  await browser.close();
  server.kill();
}
process.exit(failed ? 1 : 0);
