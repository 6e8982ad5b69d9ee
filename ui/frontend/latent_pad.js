// The 2-D pad: drag a point to move two chosen latent dimensions at once, over a faint scatter of
// the test set's posterior means in those two dimensions. The axes span the sliders' range.

const PAD_PX = 200;
const KEY_STEPS_PER_SIDE = 12; // an arrow key moves the point by limit / 12 (0.25 of a 3 range)
const KEY_MOVES = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, 1], ArrowDown: [0, -1] };

function option(label, value) {
  const element = document.createElement("option");
  element.value = String(value);
  element.textContent = label;
  return element;
}

function dimensionPicker(labels, order, chosen, ariaLabel) {
  const select = document.createElement("select");
  select.setAttribute("aria-label", ariaLabel);
  select.append(...order.map((dim, i) => option(labels[i], dim)));
  select.value = String(chosen);
  return select;
}

// onMove(dimX, valueX, dimY, valueY, final) is called while the point is dragged (final on
// release) and on each arrow key (final).
export function createPad({ labels, order, limit, scatter, latentDim, onMove }) {
  const box = document.createElement("div");
  box.className = "pad";
  const pickX = dimensionPicker(labels, order, order[0], "pad horizontal dimension");
  const pickY = dimensionPicker(labels, order, order[1], "pad vertical dimension");
  const canvas = document.createElement("canvas");
  Object.assign(canvas, { width: PAD_PX, height: PAD_PX });
  canvas.tabIndex = 0; // reachable with Tab; the arrow keys move the point
  canvas.setAttribute("aria-label",
    "2-D pad: drag, or press the arrow keys, to move both dimensions");
  const pickers = document.createElement("div");
  pickers.className = "pad-pickers";
  pickers.append("x:", pickX, "y:", pickY);
  box.append(pickers, canvas);
  let z = new Array(latentDim).fill(0);

  const toPx = (v) => ((v + limit) / (2 * limit)) * PAD_PX;
  const clamp = (v) => Math.max(-limit, Math.min(limit, v));
  const fromPx = (px) => clamp((px / PAD_PX) * 2 * limit - limit);
  const dims = () => [Number(pickX.value), Number(pickY.value)];

  // The background (axes, scatter) is drawn once per pair of dimensions; a frame adds the point.
  const background = document.createElement("canvas");
  Object.assign(background, { width: PAD_PX, height: PAD_PX });
  let backgroundDims = null;
  const drawBackground = ([dx, dy]) => {
    const context = background.getContext("2d");
    context.clearRect(0, 0, PAD_PX, PAD_PX);
    context.fillStyle = "rgba(49, 51, 63, 0.05)";
    context.fillRect(0, 0, PAD_PX, PAD_PX);
    context.strokeStyle = "rgba(49, 51, 63, 0.2)";
    context.beginPath();
    context.moveTo(PAD_PX / 2, 0);
    context.lineTo(PAD_PX / 2, PAD_PX);
    context.moveTo(0, PAD_PX / 2);
    context.lineTo(PAD_PX, PAD_PX / 2);
    context.stroke();
    context.fillStyle = "rgba(49, 51, 63, 0.18)";
    for (let i = 0; scatter && i + latentDim <= scatter.length; i += latentDim) {
      context.fillRect(toPx(scatter[i + dx]) - 1, PAD_PX - toPx(scatter[i + dy]) - 1, 2, 2);
    }
    backgroundDims = `${dx},${dy}`;
  };

  const draw = () => {
    const [dx, dy] = dims();
    if (backgroundDims !== `${dx},${dy}`) drawBackground([dx, dy]);
    const context = canvas.getContext("2d");
    context.clearRect(0, 0, PAD_PX, PAD_PX);
    context.drawImage(background, 0, 0);
    context.fillStyle = "#ff4b4b";
    context.beginPath();
    context.arc(toPx(z[dx]), PAD_PX - toPx(z[dy]), 6, 0, 2 * Math.PI);
    context.fill();
  };

  const drag = (event) => {
    if (event.type === "pointermove" && !canvas.hasPointerCapture(event.pointerId)) return;
    if (event.type === "pointerdown") canvas.setPointerCapture(event.pointerId);
    const rect = canvas.getBoundingClientRect();
    const x = ((event.clientX - rect.left) / rect.width) * PAD_PX;
    const y = ((event.clientY - rect.top) / rect.height) * PAD_PX;
    const [dx, dy] = dims();
    onMove(dx, fromPx(x), dy, fromPx(PAD_PX - y), event.type === "pointerup");
  };
  const step = (event) => {
    const move = KEY_MOVES[event.key];
    if (!move) return;
    event.preventDefault(); // the arrow keys move the point, not the page
    const [dx, dy] = dims();
    const keyStep = limit / KEY_STEPS_PER_SIDE;
    z = [...z]; // a repeated key moves on from here before the next update arrives
    z[dx] = clamp(z[dx] + move[0] * keyStep);
    z[dy] = clamp(z[dy] + move[1] * keyStep);
    draw();
    onMove(dx, z[dx], dy, z[dy], true);
  };
  canvas.addEventListener("keydown", step);
  canvas.addEventListener("pointerdown", drag);
  canvas.addEventListener("pointermove", drag);
  canvas.addEventListener("pointerup", drag);
  pickX.addEventListener("change", draw);
  pickY.addEventListener("change", draw);

  return {
    element: box,
    update(nextZ) {
      z = nextZ;
      draw();
    },
  };
}
