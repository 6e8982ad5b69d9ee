// Plotly's own Play/Pause buttons and slider reject the promise of an animation they interrupt,
// and Plotly catches that only to re-throw it: every pause or scrub during playback became an
// uncaught (in promise) error. Mark the moment a chart reports an interrupted animation, and
// swallow exactly the rejection that follows it (reason undefined, within a second).

const INTERRUPT_WINDOW_MS = 1000;
const watched = new WeakSet();
let interruptedAt = -Infinity;

function watchCharts() {
  for (const chart of document.querySelectorAll(".js-plotly-plot")) {
    if (watched.has(chart) || typeof chart.on !== "function") continue;
    watched.add(chart);
    chart.on("plotly_animationinterrupted", () => { interruptedAt = performance.now(); });
  }
}

function swallowInterrupt(event) {
  if (event.reason === undefined && performance.now() - interruptedAt < INTERRUPT_WINDOW_MS) {
    event.preventDefault();
  }
}

let installed = false;

export default function plotlyInterrupts() {
  if (installed) return;
  installed = true;
  // Capture phase: the charts are watched before Plotly handles the click that interrupts.
  document.addEventListener("pointerdown", watchCharts, true);
  window.addEventListener("unhandledrejection", swallowInterrupt);
}
