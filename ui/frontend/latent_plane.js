// Latent map's decoded plane, scrubbed: moving the pointer over the plane (two latent dimensions,
// the others held at 0) decodes the point under it in the page and draws it beside the plane.
import { decode, readEnvelope } from "./decoder.js";
import { paintImage, sizeCanvas } from "./image_canvas.js";
import { decoderReport, loadDecoder } from "./page_decoder.js";

const PLANE_PX = 240;
const planes = new WeakMap(); // parentElement -> plane

function drawPlane(canvas, control, scatter, point) {
  const { limit, dims } = control;
  const toPx = (v) => ((v + limit) / (2 * limit)) * PLANE_PX;
  const context = canvas.getContext("2d");
  context.clearRect(0, 0, PLANE_PX, PLANE_PX);
  context.fillStyle = "rgba(49, 51, 63, 0.05)";
  context.fillRect(0, 0, PLANE_PX, PLANE_PX);
  context.fillStyle = "rgba(49, 51, 63, 0.25)";
  const n = control.latent_dim;
  for (let i = 0; scatter && i + n <= scatter.length; i += n) {
    context.fillRect(toPx(scatter[i + dims[0]]) - 1, PLANE_PX - toPx(scatter[i + dims[1]]) - 1, 2, 2);
  }
  if (!point) return;
  context.fillStyle = "#ff4b4b";
  context.beginPath();
  context.arc(toPx(point[0]), PLANE_PX - toPx(point[1]), 5, 0, 2 * Math.PI);
  context.fill();
}

function createPlane(parent) {
  const root = document.createElement("div");
  root.className = "latent-plane";
  const plane = document.createElement("canvas");
  Object.assign(plane, { width: PLANE_PX, height: PLANE_PX });
  plane.className = "plane";
  const image = document.createElement("canvas");
  image.className = "decoded";
  const caption = document.createElement("div");
  caption.className = "caption";
  const figure = document.createElement("div");
  figure.append(image, caption);
  root.append(plane, figure);
  parent.appendChild(root);
  const p = { root, plane, image, caption, control: null, entry: null, point: null, frames: 0 };

  p.draw = () => {
    p.pending = false;
    const { model, scatter } = p.entry;
    drawPlane(plane, p.control, scatter, p.point);
    if (!p.point) return;
    const z = new Array(model.latentDim).fill(0);
    [z[p.control.dims[0]], z[p.control.dims[1]]] = p.point;
    const { mean } = decode(model, z);
    paintImage(image, mean, [model.channels, model.height, model.width], p.control.scale);
    p.lastFrame = { z, mean: Array.from(mean) };
    p.frames += 1;
    const [a, b] = p.control.dims;
    caption.textContent = `z${a} = ${p.point[0].toFixed(2)}, z${b} = ${p.point[1].toFixed(2)}`;
  };
  plane.addEventListener("pointermove", (event) => {
    if (!p.entry?.model) return;
    const rect = plane.getBoundingClientRect();
    const { limit } = p.control;
    const x = ((event.clientX - rect.left) / rect.width) * 2 * limit - limit;
    const y = limit - ((event.clientY - rect.top) / rect.height) * 2 * limit;
    p.point = [x, y];
    if (!p.pending) requestAnimationFrame(p.draw);
    p.pending = true;
  });
  root.latentLab = {
    frames: () => p.frames,
    lastFrame: () => p.lastFrame ?? null,
    status: () => ({ inPage: Boolean(p.entry?.model), error: p.entry?.error ?? null }),
  };
  return p;
}

export default function latentPlane({ data, parentElement, setStateValue }) {
  let p = planes.get(parentElement);
  if (!p) {
    p = createPlane(parentElement);
    planes.set(parentElement, p);
  }
  const { control } = readEnvelope(data);
  Object.assign(p, { control, data });
  p.entry = loadDecoder(control, () => parentElement.isConnected
    && latentPlane({ data: p.data, parentElement, setStateValue }));
  const report = decoderReport(control, p.entry);
  if (report && JSON.stringify(report) !== p.reported) {
    p.reported = JSON.stringify(report);
    setStateValue("decoder", report);
  }
  if (p.entry?.model) {
    const { model } = p.entry;
    sizeCanvas(p.image, model.width * control.scale, model.height * control.scale);
    p.image.style.width = `${model.width * control.scale}px`;
    p.point ??= [0, 0];
    p.draw();
  } else {
    p.caption.textContent = p.entry?.error
      ? `This page cannot run the decoder: ${p.entry.error}` : "Loading the decoder...";
  }
}
