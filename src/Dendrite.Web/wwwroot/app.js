// The draw-a-digit page: strokes on a canvas, sent as a PNG to POST /api/predict while you draw; the answer's
// probabilities as bars and the 28×28 input the server made from the drawing (the same preprocessing as
// `dendrite predict`).
"use strict";

const pad = document.getElementById("pad");
const ctx = pad.getContext("2d");
const seen = document.getElementById("seen").getContext("2d");
const statusLine = document.getElementById("status");
const labelOut = document.getElementById("label");
const confidenceOut = document.getElementById("confidence");
const bars = document.getElementById("bars");
const PEN = 18;            // pen width in canvas pixels: about MNIST's stroke once scaled to a 20×20 box
const KEY_STEP = 10;       // arrow-key move in canvas pixels

/** Everything drawn, in order: strokes (lists of points) and uploaded pictures; undo drops the last. */
let items = [];
let stroke = null;
let classes = [];
let inFlight = false, dirty = false, generation = 0;
let keyPen = { x: 140, y: 140, down: false };

function paint() {
  ctx.fillStyle = "#fff";
  ctx.fillRect(0, 0, pad.width, pad.height);
  ctx.strokeStyle = "#000";
  ctx.fillStyle = "#000";
  ctx.lineWidth = PEN;
  ctx.lineCap = "round";
  ctx.lineJoin = "round";
  for (const item of items) {
    if (item.image) { drawImageFit(item.image); continue; }
    const pts = item.points;
    if (pts.length === 1) {
      ctx.beginPath(); ctx.arc(pts[0].x, pts[0].y, PEN / 2, 0, 2 * Math.PI); ctx.fill();
      continue;
    }
    ctx.beginPath();
    ctx.moveTo(pts[0].x, pts[0].y);
    for (const p of pts.slice(1)) ctx.lineTo(p.x, p.y);
    ctx.stroke();
  }
  if (document.activeElement === pad && keyboardUsed) {
    ctx.save();
    ctx.strokeStyle = keyPen.down ? "#16a34a" : "#2563eb";
    ctx.lineWidth = 2;
    ctx.beginPath(); ctx.arc(keyPen.x, keyPen.y, PEN / 2 + 3, 0, 2 * Math.PI); ctx.stroke();
    ctx.restore();
  }
}

function drawImageFit(img) {
  const s = Math.min(pad.width / img.width, pad.height / img.height);
  const w = img.width * s, h = img.height * s;
  ctx.drawImage(img, (pad.width - w) / 2, (pad.height - h) / 2, w, h);
}

function point(e) {
  const r = pad.getBoundingClientRect();
  return { x: (e.clientX - r.left) * pad.width / r.width, y: (e.clientY - r.top) * pad.height / r.height };
}

pad.addEventListener("pointerdown", e => {
  if (e.button !== 0) return;
  pad.setPointerCapture(e.pointerId);
  stroke = { points: [point(e)] };
  items.push(stroke);
  keyboardUsed = false;
  changed();
});
pad.addEventListener("pointermove", e => {
  if (!stroke) return;
  const events = e.getCoalescedEvents ? e.getCoalescedEvents() : [e];
  for (const ev of events.length ? events : [e]) stroke.points.push(point(ev));
  changed();
});
for (const type of ["pointerup", "pointercancel"]) pad.addEventListener(type, () => { if (stroke) { stroke = null; changed(); } });

let keyboardUsed = false;
pad.addEventListener("keydown", e => {
  const moves = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1] };
  if (e.key in moves) {
    keyboardUsed = true;
    const [dx, dy] = moves[e.key];
    keyPen.x = Math.min(pad.width, Math.max(0, keyPen.x + dx * KEY_STEP));
    keyPen.y = Math.min(pad.height, Math.max(0, keyPen.y + dy * KEY_STEP));
    if (keyPen.down) { items[items.length - 1].points.push({ x: keyPen.x, y: keyPen.y }); changed(); } else paint();
    e.preventDefault();
  } else if (e.key === " " || e.key === "Enter") {
    keyboardUsed = true;
    keyPen.down = !keyPen.down;
    if (keyPen.down) { items.push({ points: [{ x: keyPen.x, y: keyPen.y }] }); changed(); } else paint();
    say(keyPen.down ? "Pen down: the arrow keys draw." : "Pen up: the arrow keys move without drawing.");
    e.preventDefault();
  }
});
pad.addEventListener("focus", paint);
pad.addEventListener("blur", () => { keyPen.down = false; paint(); });

document.addEventListener("keydown", e => {
  if ((e.ctrlKey || e.metaKey) && e.key.toLowerCase() === "z") { undo(); e.preventDefault(); }
  else if (e.key === "Escape") { clearAll(); e.preventDefault(); }
});
document.getElementById("undo").addEventListener("click", undo);
document.getElementById("clear").addEventListener("click", clearAll);

function undo() { items.pop(); keyPen.down = false; changed(); }
function clearAll() { items = []; keyPen.down = false; changed(); }

document.getElementById("upload").addEventListener("change", async e => {
  const file = e.target.files[0];
  e.target.value = "";
  if (!file) return;
  const bitmap = await createImageBitmap(file).catch(() => null);
  if (bitmap) { items.push({ image: bitmap }); paint(); }
  // The file itself goes to the server (multipart), so the answer is the one `dendrite predict FILE` gives.
  const form = new FormData();
  form.append("image", file, file.name);
  await request(form, ++generation);
});

function changed() {
  paint();
  generation++;
  if (items.length === 0) { showEmpty(); return; }
  dirty = true;
  pump();
}

/** At most one request in flight; when it returns and the drawing changed meanwhile, the newest drawing goes next. */
function pump() {
  document.body.dataset.busy = inFlight || dirty ? "1" : "0";   // "0": the page shows the answer for the drawing as it is
  if (inFlight || !dirty) return;
  dirty = false;
  inFlight = true;
  const g = generation;
  pad.toBlob(blob => request(blob, g), "image/png");
}

async function request(body, g) {
  inFlight = true;
  try {
    const headers = body instanceof Blob ? { "Content-Type": "image/png" } : {};
    const res = await fetch("/api/predict", { method: "POST", body, headers });
    const json = await res.json();
    if (g !== generation && items.length === 0) return;
    if (!res.ok) { say(json.detail || json.title, true); return; }
    if (g === generation) { window.lastPrediction = json; show(json); }
    else show(json, true);
  } catch (err) {
    say("The server did not answer: " + err.message, true);
  } finally {
    inFlight = false;
    pump();
    document.body.dataset.busy = inFlight || dirty ? "1" : "0";
  }
}

function say(text, error = false) {
  statusLine.textContent = text;
  statusLine.classList.toggle("error", error);
}

function showEmpty() {
  window.lastPrediction = null;
  labelOut.textContent = "–";
  confidenceOut.textContent = "–";
  pad.dataset.label = "";
  setBars(classes.map(() => 0), -1);
  seen.fillStyle = "#000";
  seen.fillRect(0, 0, 28, 28);
  say("Draw a digit to start.");
}

function show(json, stale = false) {
  labelOut.textContent = json.class_name;
  confidenceOut.textContent = (json.probability * 100).toFixed(1) + "%";
  if (!stale) pad.dataset.label = json.label;   // what the browser test reads once the page has caught up
  setBars(json.probabilities, json.label);
  const [h, w] = json.input.shape.length >= 2 ? json.input.shape : [28, 28];
  const img = seen.createImageData(w, h);
  json.input.pixels.forEach((v, i) => { img.data.set([v, v, v, 255], i * 4); });
  seen.canvas.width = w; seen.canvas.height = h;
  seen.putImageData(img, 0, 0);
  say(stale ? "Reading…" : `The network reads ${json.class_name} (${(json.probability * 100).toFixed(1)}%).`);
  document.body.dataset.generation = String(generation);
}

function setBars(probabilities, top) {
  bars.replaceChildren(...classes.map((name, i) => {
    const p = probabilities[i] || 0;
    const li = document.createElement("li");
    if (i === top) li.className = "top";
    li.innerHTML = '<span class="name"></span><span class="track" role="meter" aria-valuemin="0" aria-valuemax="100"><span class="fill"></span></span><span class="pct"></span>';
    li.querySelector(".name").textContent = name;
    li.querySelector(".name").title = name;
    const track = li.querySelector(".track");
    track.setAttribute("aria-valuenow", (p * 100).toFixed(1));
    track.setAttribute("aria-label", `${name}: ${(p * 100).toFixed(1)}%`);
    li.querySelector(".fill").style.width = (p * 100).toFixed(2) + "%";
    li.querySelector(".pct").textContent = (p * 100).toFixed(1) + "%";
    return li;
  }));
}

async function loadModel() {
  try {
    const m = await (await fetch("/api/model")).json();
    classes = m.classes;
    document.getElementById("summary").textContent = m.summary;
    const acc = m.accuracy == null ? m.accuracy_status : `${(m.accuracy * 100).toFixed(2)}% test accuracy (${m.accuracy_status.replace(/: [\d.]+%$/, "")})`;
    document.getElementById("model-line").textContent =
      `${m.source}: ${m.layers.length} layers, ${m.params_count.toLocaleString("en")} parameters, trained on ${m.dataset ?? "its own data"}. ${acc}.`;
    if (items.length === 0) showEmpty();
    if (m.accuracy == null && m.accuracy_status === "measuring") setTimeout(loadModel, 1500);
  } catch (err) {
    say("Could not read the model description: " + err.message, true);
  }
}

paint();
loadModel();
