// Latent sliders: one native range input per latent dimension in one element. The whole z goes
// to Python while the user drags, with at most one update in flight: Python echoes the update's
// seq back as `ack`, and only then is the newest pending z sent (intermediate values dropped).
// Python's `values` are applied only on the first render and when `revision` changes (a button
// set z): every other rerun is an echo of our own moves, possibly stale, and must not fight them.
// Each move carries the revision it started from, so Python can drop moves a button overrode.

const controllers = new WeakMap(); // parentElement -> controller: survives reruns, not remounts
const ACK_TIMEOUT_MS = 1500; // a lost rerun must not freeze the sliders

function snap(value, step) {
  return Math.round(Math.round(value / step) * step * 100) / 100;
}

function sameZ(a, b) {
  return a !== null && b !== null && a.length === b.length && a.every((v, i) => v === b[i]);
}

function buildRow(label, muted, data, onMove) {
  const row = document.createElement("div");
  row.className = muted ? "row muted" : "row";
  const head = document.createElement("div");
  head.className = "head";
  const name = document.createElement("span");
  name.className = "name";
  name.textContent = label;
  const shown = document.createElement("output");
  const input = document.createElement("input");
  Object.assign(input, { type: "range", min: -data.limit, max: data.limit, step: data.step });
  input.setAttribute("aria-label", label);
  input.addEventListener("input", onMove);
  input.addEventListener("change", onMove); // the final value is always sent
  head.append(name, shown);
  row.append(head, input);
  return { row, input, shown };
}

function createController(parent, data) {
  const root = document.createElement("div");
  parent.appendChild(root);
  const c = {
    rows: [], layout: null, revision: undefined, send: null,
    seq: Math.max(Date.now(), (data.ack ?? 0) + 1), // unique across remounts of one key
    inFlight: null, pending: null, lastSent: null, timer: null, step: data.step,
  };

  const show = (row, value) => {
    row.input.value = String(value);
    row.shown.textContent = value.toFixed(2);
  };
  const currentZ = () => c.rows.map((row) => snap(parseFloat(row.input.value), c.step));

  c.pump = () => {
    if (c.inFlight !== null || c.pending === null) return;
    const z = c.pending;
    c.pending = null;
    if (sameZ(z, c.lastSent)) return;
    c.seq += 1;
    c.inFlight = c.seq;
    c.lastSent = z;
    c.timer = setTimeout(c.acked, ACK_TIMEOUT_MS, c.seq);
    c.send("moved", { values: z, seq: c.seq, revision: c.revision });
  };
  c.acked = (seq) => {
    if (seq !== c.inFlight) return;
    clearTimeout(c.timer);
    c.inFlight = null;
    requestAnimationFrame(c.pump); // at most one update per frame
  };
  const onMove = (event) => {
    const row = c.rows.find((r) => r.input === event.target);
    show(row, snap(parseFloat(row.input.value), c.step));
    c.pending = currentZ();
    c.pump();
  };

  c.build = () => {
    const layout = JSON.stringify([data.labels, data.muted, data.limit, data.step]);
    if (layout === c.layout) return;
    c.layout = layout;
    c.step = data.step;
    const two = data.labels.length > 6; // column-major like st.columns: most used top left
    root.className = two ? "latent-sliders two" : "latent-sliders";
    root.style.gridTemplateRows = two ? `repeat(${Math.ceil(data.labels.length / 2)}, auto)` : "";
    c.rows = data.labels.map((label, i) => buildRow(label, data.muted[i], data, onMove));
    root.replaceChildren(...c.rows.map((r) => r.row));
    c.revision = undefined; // fresh inputs take Python's values
  };
  c.receive = (next, send) => {
    data = next;
    c.send = send;
    c.build();
    if (data.revision !== c.revision) {
      c.revision = data.revision;
      c.rows.forEach((row, i) => show(row, data.values[i]));
      c.lastSent = currentZ();
      c.pending = null;
    }
    c.acked(data.ack);
  };
  c.stop = () => clearTimeout(c.timer);
  return c;
}

export default function latentSliders({ data, parentElement, setStateValue }) {
  let controller = controllers.get(parentElement);
  if (!controller) {
    controller = createController(parentElement, data);
    controllers.set(parentElement, controller);
  }
  controller.receive(data, setStateValue);
  return () => controller.stop();
}
