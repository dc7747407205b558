// Draws MNIST test digits stroke by stroke on `dendrite serve`'s page in Debian's chromium, and checks what the page
// shows: its label for each digit, that it equals POST /api/predict's answer for the same canvas, a digit drawn with
// the keyboard, a JPEG upload, and the layout at a phone's width. Prints one JSON line of results; exits 1 on any failure.
// Usage: node draw.mjs BASE_URL SCREENSHOT.png   (dendrite serve must be listening at BASE_URL)
import { chromium } from "playwright-core";
import { readFileSync } from "node:fs";
import { gunzipSync } from "node:zlib";
import { fileURLToPath } from "node:url";
import path from "node:path";

const [base, screenshot] = process.argv.slice(2);
if (!base || !screenshot) { console.error("usage: node draw.mjs BASE_URL SCREENSHOT.png"); process.exit(2); }
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const images = gunzipSync(readFileSync(path.join(root, "data/mnist/t10k-images-idx3-ubyte.gz"))).subarray(16);
const labels = gunzipSync(readFileSync(path.join(root, "data/mnist/t10k-labels-idx1-ubyte.gz"))).subarray(8);

// The first test image of each class: the digits are chosen by position in the test set, not by how they score.
const classes = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
const picks = classes.map(c => labels.indexOf(c));

/** Strokes tracing an image: each run of ink (grey > 127) along a row is one stroke, in 28×28 pixel coordinates. */
function strokes(index) {
  const px = images.subarray(index * 784, index * 784 + 784), result = [];
  for (let y = 0; y < 28; y++) {
    let x = 0;
    while (x < 28) {
      if (px[y * 28 + x] <= 127) { x++; continue; }
      const x0 = x;
      while (x < 28 && px[y * 28 + x] > 127) x++;
      result.push([[x0 + 0.5, y + 0.5], [x - 0.5, y + 0.5]]);
    }
  }
  return result;
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
});
const failures = [], results = [];
try {
  const page = await browser.newPage({ viewport: { width: 1000, height: 900 } });
  page.on("pageerror", e => failures.push("page error: " + e.message));
  await page.goto(base);
  await page.waitForFunction(() => !/Loading/.test(document.getElementById("model-line").textContent));
  const pad = page.locator("#pad");
  const idle = () => page.waitForFunction(() => document.body.dataset.busy === "0" && window.lastPrediction, null, { timeout: 15000 });

  for (const index of picks) {
    await page.keyboard.press("Escape");
    const box = await pad.boundingBox();
    const at = ([x, y]) => [box.x + x * box.width / 28, box.y + y * box.height / 28];
    for (const [from, to] of strokes(index)) {
      await page.mouse.move(...at(from));
      await page.mouse.down();
      await page.mouse.move(...at(to), { steps: 3 });
      await page.mouse.up();
    }
    await idle();
    const shown = await page.evaluate(() => ({
      label: document.getElementById("label").textContent,
      prediction: window.lastPrediction,
      png: document.getElementById("pad").toDataURL("image/png"),
      bars: document.querySelectorAll("#bars li").length,
    }));
    // The same canvas, sent by this script: the page shows exactly the API's answer.
    const body = Buffer.from(shown.png.split(",")[1], "base64");
    const api = await (await fetch(base + "/api/predict", { method: "POST", body, headers: { "Content-Type": "image/png" } })).json();
    const agree = api.label === shown.prediction.label && JSON.stringify(api.probabilities) === JSON.stringify(shown.prediction.probabilities);
    results.push({ index, truth: labels[index], page: shown.label, api: api.class_name, agree });
    if (shown.label !== String(labels[index])) failures.push(`test image ${index}: drawn ${labels[index]}, the page reads ${shown.label}`);
    if (!agree) failures.push(`test image ${index}: the page shows ${shown.prediction.label}, POST /api/predict answers ${api.label} for the same canvas`);
    if (shown.bars !== 10) failures.push(`test image ${index}: ${shown.bars} probability bars, expected 10`);
  }
  await page.screenshot({ path: screenshot, fullPage: true });

  // The keyboard alone: focus the canvas, lower the pen, draw a vertical stroke, lift it: a 1.
  await page.keyboard.press("Escape");
  await pad.focus();
  await page.keyboard.press("ArrowUp"); await page.keyboard.press("ArrowUp"); await page.keyboard.press("ArrowUp"); await page.keyboard.press("ArrowUp"); await page.keyboard.press("ArrowUp"); await page.keyboard.press("ArrowUp"); await page.keyboard.press("ArrowUp"); await page.keyboard.press("ArrowUp"); await page.keyboard.press("ArrowUp"); await page.keyboard.press("ArrowUp");
  await page.keyboard.press("Space");
  for (let i = 0; i < 20; i++) await page.keyboard.press("ArrowDown");
  await page.keyboard.press("Space");
  await idle();
  const keyboardLabel = await page.locator("#label").textContent();
  if (keyboardLabel !== "1") failures.push(`a vertical stroke drawn with the keyboard reads ${keyboardLabel}, expected 1`);
  // Undo removes it: the page goes back to its empty state.
  await page.keyboard.press("Control+z");
  const afterUndo = await page.locator("#label").textContent();
  if (afterUndo !== "–") failures.push(`after undoing the only stroke the label is ${afterUndo}`);

  // An upload, as a person picks a file: a digit the browser itself saved as JPEG (its own encoder, not ours) goes to
  // the server as the page sends files (multipart), and the page shows the server's reading of it.
  await page.keyboard.press("Escape");
  const seven = picks[7];
  const jpeg = await page.evaluate(async px => {
    const c = document.createElement("canvas");
    c.width = c.height = 84;
    const g = c.getContext("2d"), img = g.createImageData(84, 84);
    for (let i = 0; i < 84 * 84; i++) {
      const v = 255 - px[Math.floor(i / 84 / 3) * 28 + Math.floor(i % 84 / 3)];
      img.data.set([v, v, v, 255], i * 4);
    }
    g.putImageData(img, 0, 0);
    const blob = await new Promise(resolve => c.toBlob(resolve, "image/jpeg", 0.9));
    return Array.from(new Uint8Array(await blob.arrayBuffer()));
  }, Array.from(images.subarray(seven * 784, seven * 784 + 784)));
  await page.evaluate(() => { window.lastPrediction = null; });
  await page.setInputFiles("#upload", { name: "seven.jpg", mimeType: "image/jpeg", buffer: Buffer.from(jpeg) });
  await page.waitForFunction(() => window.lastPrediction, null, { timeout: 15000 });
  const uploaded = await page.evaluate(() => window.lastPrediction.class_name);
  if (uploaded !== String(labels[seven])) failures.push(`a JPEG upload of test image ${seven} (a ${labels[seven]}) reads ${uploaded}`);

  // A phone's width: nothing wider than the screen.
  await page.setViewportSize({ width: 360, height: 740 });
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth);
  if (overflow > 360) failures.push(`at 360 px wide the page is ${overflow} px wide`);
  console.log(JSON.stringify({ results, keyboard: keyboardLabel, upload: uploaded, phoneWidth: overflow, failures }));
} finally {
  await browser.close();
}
process.exit(failures.length ? 1 : 0);
