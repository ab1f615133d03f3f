// Folio console: live sync progress and copy buttons. Every page works
// without this file; it only adds what a plain page cannot do.
"use strict";

function humanBytes(bytes) {
  const units = ["bytes", "KB", "MB", "GB", "TB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit += 1;
  }
  return unit === 0 ? `${bytes} bytes` : `${value.toFixed(1)} ${units[unit]}`;
}

function humanDuration(seconds) {
  if (!isFinite(seconds) || seconds < 0) return "";
  if (seconds < 60) return `${Math.ceil(seconds)} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min ${Math.round(seconds % 60)} s`;
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

function describe(p) {
  if (p.status !== "running") {
    const verb = p.status === "failed" ? "failed" : "finished";
    return `Sync ${verb}: ${p.added} added, ${p.updated} updated, ${p.deleted} deleted, ${p.failed} errors.`;
  }
  const elapsed = (Date.now() - Date.parse(p.startedAt)) / 1000;
  const parts = [`${p.done} of ${p.total}${p.totalKnown ? "" : " (counting)"} files`, humanBytes(p.bytes)];
  if (elapsed > 1 && p.bytes > 0) parts.push(`${humanBytes(p.bytes / elapsed)}/s`);
  if (p.totalKnown && p.done > 0 && p.total > p.done) {
    const left = humanDuration(((p.total - p.done) * elapsed) / p.done);
    if (left) parts.push(`about ${left} left`);
  }
  let text = parts.join(" · ");
  if (p.current) text += ` · fetching ${p.current}`;
  if (p.phase && p.phase !== "downloading") text += ` (${p.phase})`;
  return text;
}

function follow(region) {
  const id = region.dataset.progressId;
  const bar = region.querySelector("[role=progressbar]");
  const visual = region.querySelector("progress");
  const text = region.querySelector(".progress-text");
  const source = new EventSource(`/api/progress/${encodeURIComponent(id)}/events`);
  let seen = false;
  source.addEventListener("progress", (event) => {
    seen = true;
    const p = JSON.parse(event.data);
    const max = Math.max(p.total, p.done);
    bar.setAttribute("aria-valuenow", String(p.done));
    bar.setAttribute("aria-valuemax", String(max));
    visual.max = Math.max(max, 1);
    visual.value = p.status === "running" ? p.done : visual.max;
    text.textContent = describe(p);
    if (p.status !== "running") {
      source.close();
      region.dataset.running = "false";
      region.dataset.finished = p.status;
    }
  });
  source.addEventListener("error", () => {
    if (region.dataset.running === "false") return;
    if (!seen) {
      source.close();
      text.textContent = "The progress could not be followed. Reload the page to see the sync's state.";
    }
  });
}

function copyButtons() {
  for (const button of document.querySelectorAll("[data-copy]")) {
    button.addEventListener("click", async () => {
      const field = document.getElementById(button.dataset.copy);
      const status = button.parentElement.querySelector(".copied");
      try {
        await navigator.clipboard.writeText(field.value);
        if (status) status.textContent = "Copied.";
      } catch (_) {
        field.select();
        if (status) status.textContent = "Selected: press Ctrl+C to copy.";
      }
    });
  }
}

document.addEventListener("DOMContentLoaded", () => {
  for (const region of document.querySelectorAll("[data-progress-id]")) {
    if (region.dataset.running === "true") follow(region);
  }
  copyButtons();
});
