// The embedding example's script (a file, not inline: pinlab serve's
// Content-Security-Policy runs no inline script).
const frame = document.getElementById("frame");
const pending = new Map();
let next = 1;
function show(line) {
  document.getElementById("log").textContent = line + "\n" + document.getElementById("log").textContent;
}
// A request: {pinlab: method, args, id}; the reply: {pinlab: "reply", id, result | error}.
function send(method, args) {
  const id = next++;
  frame.contentWindow.postMessage({ pinlab: method, args, id }, "*");
  return new Promise((resolve, reject) => pending.set(id, { resolve, reject }));
}
window.addEventListener("message", (e) => {
  const m = e.data;
  if (!m || !m.pinlab) return;
  if (m.pinlab === "step") show(`step event: ${m.lesson} step ${m.step} under ${m.kernel}`);
  if (m.pinlab === "reply" && pending.has(m.id)) {
    const p = pending.get(m.id);
    pending.delete(m.id);
    if (m.error) { show("error: " + m.error); p.reject(new Error(m.error)); } else p.resolve(m.result);
  }
});

document.getElementById("back").addEventListener("click", () => send("back", [1]));
document.getElementById("step").addEventListener("click", () => send("step", [1]));
document.getElementById("load").addEventListener("click", () => send("load", ["vmsplice-leak"]));
document.getElementById("position").addEventListener("click", () =>
  send("position", []).then((p) => show("position: " + JSON.stringify(p))));
