// The status page: fills itself from /events (server-sent events) and publishes through POST /publish.
"use strict";
const $ = (id) => document.getElementById(id);
const shown = new Set();

function text(tag, value, cls) {
  const el = document.createElement(tag);
  el.textContent = value;
  if (cls) el.className = cls;
  return el;
}

function plot(canvas, series, colours) {
  const ctx = canvas.getContext("2d");
  const w = canvas.width, h = canvas.height;
  ctx.clearRect(0, 0, w, h);
  const max = Math.max(1, ...series.flat());
  ctx.fillStyle = "#5b6573";
  ctx.font = "10px sans-serif";
  ctx.fillText(max.toFixed(max < 10 ? 1 : 0), 2, 10);
  series.forEach((values, i) => {
    ctx.strokeStyle = colours[i];
    ctx.beginPath();
    values.forEach((v, x) => {
      const px = w - (values.length - 1 - x) * (w / 120);
      const py = h - 2 - (v / max) * (h - 14);
      x === 0 ? ctx.moveTo(px, py) : ctx.lineTo(px, py);
    });
    ctx.stroke();
  });
}

function showMessage(m) {
  const key = m.topic + "/" + m.from + "/" + m.seq;
  if (shown.has(key)) return;
  shown.add(key);
  const li = document.createElement("li");
  li.className = "message";
  li.textContent = (m.topic !== "default" ? "[" + m.topic + "] " : "") + m.from.slice(0, 10) + "… #" + m.seq + " " + m.data;
  $("messages").prepend(li);
  while ($("messages").children.length > 50) $("messages").lastChild.remove();
}

function showStatus(s) {
  $("identity").textContent = s.public;
  const topics = $("topics");
  topics.replaceChildren();
  const select = $("publish-topic");
  const chosen = select.value;
  select.replaceChildren();
  for (const t of s.topic_views) {
    select.append(new Option(t.name, t.name, false, t.name === chosen));
    topics.append(text("h3", "topic " + t.name + (t.id ? " (" + t.id.slice(0, 12) + "…)" : "")));
    const table = document.createElement("table");
    table.append(Object.assign(document.createElement("tr"), { innerHTML: "<th>link</th><th>peer</th><th>protocol</th>" }));
    for (const l of t.links) {
      const tr = document.createElement("tr");
      tr.append(text("td", l.id), text("td", l.remote || ""), text("td", l.protocol));
      table.append(tr);
    }
    topics.append(table);
    if (t.neighbours.length) topics.append(text("div", "neighbours: " + t.neighbours.join(", "), "counters"));
    topics.append(text("div", Object.entries(t.counters).map(([k, v]) => k.replaceAll("_", " ") + " " + v).join(" · "), "counters"));
  }
  const r = s.rates;
  plot($("plot-accepted"), [r.map((x) => x.accepted)], ["#2e7d32"]);
  plot($("plot-sent"), [r.map((x) => x.lines_sent)], ["#6a1b9a"]);
  plot($("plot-bytes"), [r.map((x) => x.bytes_in / 1024), r.map((x) => x.bytes_out / 1024)], ["#1565c0", "#ef6c00"]);
  for (const m of [...s.messages].reverse()) showMessage(m);
}

const events = new EventSource("/events");
events.addEventListener("status", (e) => showStatus(JSON.parse(e.data)));
events.addEventListener("message", (e) => showMessage(JSON.parse(e.data)));
events.onopen = () => { $("live").textContent = "live"; $("live").className = "badge up"; };
events.onerror = () => { $("live").textContent = "reconnecting"; $("live").className = "badge"; };

$("publish").addEventListener("submit", async (e) => {
  e.preventDefault();
  let data;
  try { data = JSON.parse($("publish-data").value); } catch (err) { $("publish-result").textContent = "not JSON: " + err.message; return; }
  const response = await fetch("/publish", {
    method: "POST",
    headers: { "Content-Type": "application/json", "X-SecureGossip-Publish": "1" },
    body: JSON.stringify({ topic: $("publish-topic").value, data }),
  });
  const body = await response.json();
  $("publish-result").textContent = response.ok ? "published #" + body.seq : (body.detail || body.title || "failed");
});
