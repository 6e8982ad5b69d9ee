// The VAE decoder in plain JavaScript: reads vae_core.decoder_export's blob (a JSON header, then
// float16 or float32 weight arrays) and runs its layers and likelihood head for one z. The layers
// form a graph of values: value 0 is z, value k is layer k-1's output, and a layer reads the
// previous value unless its `inputs` name others (a residual add reads two). Buffers are allocated
// once per model, so a decode allocates nothing: the returned mean/std arrays are overwritten by
// the next decode. The multiply-adds (linear layers, convolutions) are matrix-vector products on
// one heap of floats: in WebAssembly SIMD (gemv.wat) where the JavaScript engine has it, else in
// plain JavaScript; `globalThis.latentLabKernel = "js"` (or readDecoder's option) asks for the
// latter.
import { GEMV_WASM } from "./gemv_wasm.js";

const DECODER_FORMAT = "latent-lab-decoder/3";
const HEAD_KINDS = new Set(["bernoulli", "gaussian_fixed", "gaussian", "mean"]);
// Per op: run(step, x, out, y) with x its (first) input and y its second; its output shape when
// that differs from the input's; a one-off preparation; and whether it maps each value on its own
// (so it may overwrite its input).
const OPS = {
  linear: { run: linear, shape: (layer) => [layer.out] },
  reshape: { run: () => {}, shape: (layer) => layer.shape }, // the same buffer, read differently
  conv2d: { run: gatherConv, shape: convShape, prepare: prepareConv2d },
  conv_transpose2d: { run: gatherConv, shape: convShape, prepare: prepareConvTranspose2d },
  resize_nearest: { run: resizeNearest, shape: resizeShape },
  resize_bilinear: { run: resizeBilinear, shape: resizeShape, prepare: prepareBilinear },
  affine: { run: affine, elementwise: true },
  add: { run: add, elementwise: true },
  relu: { run: relu, elementwise: true },
  leaky_relu: { run: leakyRelu, elementwise: true },
  elu: { run: elu, elementwise: true },
  sigmoid: { run: sigmoidLayer, elementwise: true },
  tanh: { run: tanh, elementwise: true },
  softplus: { run: softplus, elementwise: true },
  silu: { run: silu, elementwise: true },
};
let halfTable = null; // float16 bit pattern -> float32, built on first use
function halfToFloatTable() {
  if (halfTable) return halfTable;
  halfTable = new Float32Array(65536);
  for (let bits = 0; bits < 65536; bits += 1) {
    const sign = bits & 0x8000 ? -1 : 1;
    const exponent = (bits >> 10) & 0x1f;
    const fraction = bits & 0x3ff;
    if (exponent === 0) halfTable[bits] = sign * 2 ** -14 * (fraction / 1024);
    else if (exponent === 31) halfTable[bits] = fraction ? NaN : sign * Infinity;
    else halfTable[bits] = sign * 2 ** (exponent - 15) * (1 + fraction / 1024);
  }
  return halfTable;
}

// vae_core.decoder_export.pack_envelope, the one binary layout the page reads: a u32 JSON length,
// the JSON (its "blobs" maps a name to [offset, length]), then the 8-byte aligned blobs.
export function readEnvelope(data) {
  const bytes = data instanceof Uint8Array ? data : new Uint8Array(data);
  const length = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(0, true);
  const control = JSON.parse(new TextDecoder().decode(bytes.subarray(4, 4 + length)));
  const start = 4 + length;
  const blobs = {};
  for (const [name, [offset, size]] of Object.entries(control.blobs)) {
    blobs[name] = bytes.subarray(start + offset, start + offset + size);
  }
  return { control, blobs };
}

// The weight arrays, one blob each (named by index), as float32; float16 bits go through a table.
function readArrays(header, blobs) {
  return header.arrays.map(({ length }, index) => {
    const blob = blobs[index];
    if (header.dtype === "float32") return new Float32Array(blob.buffer, blob.byteOffset, length);
    const bits = new Uint16Array(blob.buffer, blob.byteOffset, length);
    const table = halfToFloatTable();
    const out = new Float32Array(length);
    for (let i = 0; i < length; i += 1) out[i] = table[bits[i]];
    return out;
  });
}

const product = (shape) => shape.reduce((a, b) => a * b, 1);
const sameShape = (a, b) => a.length === b.length && a.every((n, i) => n === b[i]);

function checkShapes(layer, inShapes) {
  const [shape] = inShapes;
  const fail = (why) => {
    throw new Error(`${layer.op} ${why}, gets ${inShapes.map((s) => `[${s}]`).join(" and ")}`);
  };
  if (layer.op === "linear" && product(shape) !== layer.in) fail(`expects ${layer.in} inputs`);
  if (layer.op === "reshape" && product(layer.shape) !== product(shape)) {
    fail(`cannot make [${layer.shape}]`);
  }
  if (layer.op.startsWith("conv") && (shape.length !== 3 || shape[0] !== layer.in_channels)) {
    fail(`expects ${layer.in_channels} channels`);
  }
  if (layer.op.startsWith("resize") && shape.length !== 3) fail("expects (C, H, W)");
  if (layer.op === "affine" && shape[0] !== layer.channels) fail(`expects ${layer.channels} channels`);
  if (layer.op === "add" && (inShapes.length !== 2 || !sameShape(shape, inShapes[1]))) {
    fail("expects two values of one shape");
  }
}

function convShape(layer) {
  return [layer.out_channels, ...layer.output_size];
}

function resizeShape(layer, [c, h, w]) {
  return [c, h * layer.factor[0], w * layer.factor[1]];
}

// One step per layer: its inputs, shapes and weights.
function planSteps(header, arrays) {
  const shapes = [[header.latent_dim]]; // per value
  return header.layers.map((layer, k) => {
    const op = OPS[layer.op];
    if (!op) throw new Error(`this page cannot run the layer "${layer.op}"`);
    const inputs = layer.inputs ?? [k];
    if (!inputs.every((v) => Number.isInteger(v) && v >= 0 && v <= k)) {
      throw new Error(`layer ${k} (${layer.op}) reads [${inputs}]: only z and earlier outputs`);
    }
    const inShapes = inputs.map((v) => shapes[v]);
    checkShapes(layer, inShapes);
    const outShape = op.shape ? op.shape(layer, inShapes[0]) : inShapes[0];
    shapes.push(outShape);
    const step = {
      layer, op, inputs, inShape: inShapes[0], outShape,
      weight: arrays[layer.weight] ?? null, bias: arrays[layer.bias] ?? null,
      scale: arrays[layer.scale] ?? null, shift: arrays[layer.shift] ?? null,
    };
    op.prepare?.(step);
    return step;
  });
}

// Each value's buffer: a reshape keeps its input's, an elementwise op overwrites an input that no
// later layer reads, and any other layer writes its own.
function planValues(steps, latentDim) {
  const buffers = [new Float32Array(latentDim)];
  const bufferOf = [0]; // per value
  const readLater = (k, buffer) => steps.slice(k + 1).some(
    (later) => later.inputs.some((v) => v <= k && bufferOf[v] === buffer));
  steps.forEach((step, k) => {
    const inputBuffers = step.inputs.map((v) => bufferOf[v]);
    let buffer;
    if (step.layer.op === "reshape") buffer = inputBuffers[0];
    else if (step.op.elementwise) buffer = inputBuffers.find((b) => !readLater(k, b));
    if (buffer === undefined) {
      buffer = buffers.length;
      buffers.push(new Float32Array(product(step.outShape)));
    }
    bufferOf.push(buffer);
  });
  return bufferOf.map((b) => buffers[b]);
}

// The heap: every linear and convolution layer's weights (conv weights in prepareGather's order),
// each one's input (channels last for a convolution) and sums, at float offsets set here once.
function placeOnHeap(steps, kernel) {
  const gemvSteps = steps.filter((step) => GEMV_OPS.has(step.layer.op));
  let floats = 0;
  const take = (n) => {
    const at = floats;
    floats += n + ((4 - (n % 4)) % 4); // 16-byte aligned, as SIMD loads like
    return at;
  };
  for (const step of gemvSteps) {
    step.weightAt = take(step.weight.length);
    step.inputAt = take(product(step.inShape));
    step.sumsAt = take(step.layer.op === "linear" ? step.layer.out : step.layer.out_channels);
  }
  const heap = createHeap(Math.max(floats, 4), kernel);
  for (const step of gemvSteps) {
    heap.floats.set(step.weight, step.weightAt);
    step.heap = heap;
    step.weight = null; // the heap holds it now
  }
  return heap;
}

const GEMV_OPS = new Set(["linear", "conv2d", "conv_transpose2d"]);
let simdModule; // gemv.wat compiled once; null where this engine has no WebAssembly SIMD

function compiledSimd() {
  if (simdModule === undefined) {
    try {
      simdModule = new WebAssembly.Module(Uint8Array.from(atob(GEMV_WASM), (c) => c.charCodeAt(0)));
    } catch {
      simdModule = null;
    }
  }
  return simdModule;
}

// { kind, floats, gemv(w, x, y, rows, cols) }: y[r] += W[r, :] . x, all float offsets.
function createHeap(size, kernel) {
  const module = kernel === "js" ? null : compiledSimd();
  if (module) {
    const memory = new WebAssembly.Memory({ initial: Math.ceil((size * 4) / 65536) });
    const { gemv } = new WebAssembly.Instance(module, { env: { memory } }).exports;
    return { kind: "wasm-simd", floats: new Float32Array(memory.buffer, 0, size),
      gemv: (w, x, y, rows, cols) => gemv(w * 4, x * 4, y * 4, rows, cols) };
  }
  const floats = new Float32Array(size);
  return { kind: "js", floats, gemv: (w, x, y, rows, cols) => {
    for (let r = 0; r < rows; r += 1) floats[y + r] += dot(floats, w + r * cols, floats, x, cols);
  } };
}

export function readDecoder(bytes, { kernel = globalThis.latentLabKernel } = {}) {
  // A copy: aligned at 0 (so are the blobs, at multiples of 8), and independent of the message.
  const { control: header, blobs } = readEnvelope(bytes.slice());
  if (header.format !== DECODER_FORMAT) throw new Error(`unknown decoder format ${header.format}`);
  const { kind } = header.head;
  if (!HEAD_KINDS.has(kind)) throw new Error(`this page cannot run the likelihood "${kind}"`);
  const steps = planSteps(header, readArrays(header, blobs));
  const [channels, height, width] = header.image_shape;
  const pixels = channels * height * width;
  const raw = product(steps.length ? steps[steps.length - 1].outShape : [header.latent_dim]);
  if (raw !== pixels * (kind === "gaussian" ? 2 : 1)) {
    throw new Error(`the decoder gives ${raw} values for a ${header.image_shape} image`);
  }
  const withStd = kind === "gaussian" || kind === "gaussian_fixed";
  const heap = placeOnHeap(steps, kernel);
  const values = planValues(steps, header.latent_dim);
  // An identity head's loc may leave [0, 1], where the mean is clamped: samples need the loc.
  const loc = kind === "gaussian" && header.head.mean === "identity"
    ? values[values.length - 1].subarray(0, pixels) : null;
  return {
    header, steps, values, channels, height, width, latentDim: header.latent_dim, kernel: heap.kind,
    mean: new Float32Array(pixels), std: withStd ? new Float32Array(pixels) : null, loc,
  };
}

function linear(step, x, out) {
  const { in: nIn, out: nOut } = step.layer;
  const { heap, bias, weightAt, inputAt, sumsAt } = step;
  const floats = heap.floats;
  floats.set(x, inputAt);
  if (bias) floats.set(bias, sumsAt);
  else floats.fill(0, sumsAt, sumsAt + nOut);
  heap.gemv(weightAt, inputAt, sumsAt, nOut, nIn);
  out.set(floats.subarray(sumsAt, sumsAt + nOut));
}

// Per output row (or column) o of a convolution, the [input position, kernel tap] pairs that
// reach it, flattened: input i = o * stride - padding + k.
function convTaps(outSize, inSize, kernel, stride, padding) {
  return Array.from({ length: outSize }, (_, o) => {
    const pairs = [];
    for (let k = 0; k < kernel; k += 1) {
      const i = o * stride - padding + k;
      if (i >= 0 && i < inSize) pairs.push(i, k);
    }
    return Int32Array.from(pairs);
  });
}

// The same for a transposed convolution, where o = i * stride - padding + k (two pairs for
// kernel 4, stride 2).
function transposedTaps(outSize, inSize, kernel, stride, padding) {
  return Array.from({ length: outSize }, (_, o) => {
    const pairs = [];
    for (let i = 0; i < inSize; i += 1) {
      const k = o + padding - i * stride;
      if (k >= 0 && k < kernel) pairs.push(i, k);
    }
    return Int32Array.from(pairs);
  });
}

// Once per model: weights reordered to (kh, kw, out, in), so each output value is a few contiguous
// dot products over the input channels (a gather, no scatter). weightAt(ci, co, k) is where the
// layer's own layout keeps the weight of input channel ci, output channel co and kernel tap k.
function prepareGather(step, weightAt, taps) {
  const { in_channels: cIn, out_channels: cOut, kernel, stride, padding } = step.layer;
  const [kh, kw] = kernel;
  const reordered = new Float32Array(step.weight.length);
  for (let ci = 0; ci < cIn; ci += 1) {
    for (let co = 0; co < cOut; co += 1) {
      for (let k = 0; k < kh * kw; k += 1) {
        reordered[(k * cOut + co) * cIn + ci] = step.weight[weightAt(ci, co, k)];
      }
    }
  }
  const [, h, width] = step.inShape;
  const [, oh, ow] = step.outShape;
  Object.assign(step, {
    weight: reordered, rowTaps: taps(oh, h, kh, stride[0], padding[0]),
    colTaps: taps(ow, width, kw, stride[1], padding[1]),
  });
}

function prepareConv2d(step) { // torch/ONNX weights: (out, in, kh, kw)
  const { in_channels: cIn, kernel: [kh, kw] } = step.layer;
  prepareGather(step, (ci, co, k) => (co * cIn + ci) * kh * kw + k, convTaps);
}

function prepareConvTranspose2d(step) { // torch/ONNX weights: (in, out, kh, kw)
  const { out_channels: cOut, kernel: [kh, kw] } = step.layer;
  prepareGather(step, (ci, co, k) => (ci * cOut + co) * kh * kw + k, transposedTaps);
}

// a[i..i+n) . b[j..j+n) with four running sums: ~1.6x faster than one here (Node 20, CPU time).
function dot(a, i, b, j, n) {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let k = 0;
  for (; k + 3 < n; k += 4) {
    s0 += a[i + k] * b[j + k];
    s1 += a[i + k + 1] * b[j + k + 1];
    s2 += a[i + k + 2] * b[j + k + 2];
    s3 += a[i + k + 3] * b[j + k + 3];
  }
  for (; k < n; k += 1) s0 += a[i + k] * b[j + k];
  return s0 + s1 + s2 + s3;
}

// conv2d and conv_transpose2d alike, from prepareGather's weights and taps: per output position,
// one matrix-vector product (output channels x input channels) per kernel tap that reaches it.
function gatherConv(step, x, out) {
  const { in_channels: cIn, out_channels: cOut, kernel } = step.layer;
  const [, h, w] = step.inShape;
  const [, oh, ow] = step.outShape;
  const kw = kernel[1];
  const { heap, weightAt, inputAt, sumsAt, rowTaps, colTaps, bias } = step;
  const floats = heap.floats;
  for (let c = 0; c < cIn; c += 1) {
    for (let p = 0; p < h * w; p += 1) floats[inputAt + p * cIn + c] = x[c * h * w + p];
  }
  for (let oy = 0; oy < oh; oy += 1) {
    const rows = rowTaps[oy];
    for (let ox = 0; ox < ow; ox += 1) {
      const cols = colTaps[ox];
      if (bias) floats.set(bias, sumsAt);
      else floats.fill(0, sumsAt, sumsAt + cOut);
      for (let r = 0; r < rows.length; r += 2) {
        for (let c = 0; c < cols.length; c += 2) {
          const tapWeights = weightAt + (rows[r + 1] * kw + cols[c + 1]) * cOut * cIn;
          heap.gemv(tapWeights, inputAt + (rows[r] * w + cols[c]) * cIn, sumsAt, cOut, cIn);
        }
      }
      for (let co = 0; co < cOut; co += 1) out[(co * oh + oy) * ow + ox] = floats[sumsAt + co];
    }
  }
}

function resizeNearest(step, x, out) {
  const [channels, h, w] = step.inShape;
  const [fh, fw] = step.layer.factor;
  const ow = w * fw;
  for (let c = 0; c < channels; c += 1) {
    for (let oy = 0; oy < h * fh; oy += 1) {
      const from = (c * h + Math.floor(oy / fh)) * w;
      const to = (c * h * fh + oy) * ow;
      for (let ox = 0; ox < ow; ox += 1) out[to + ox] = x[from + Math.floor(ox / fw)];
    }
  }
}

// Per output row (or column), its two source positions and the second one's weight, as torch's
// align_corners=False has them: source = (o + 0.5) / factor - 0.5, clamped to the edges.
function bilinearTaps(inSize, factor) {
  const outSize = inSize * factor;
  const taps = { low: new Int32Array(outSize), high: new Int32Array(outSize),
    weight: new Float32Array(outSize) };
  for (let o = 0; o < outSize; o += 1) {
    const source = Math.max((o + 0.5) / factor - 0.5, 0);
    const low = Math.min(Math.floor(source), inSize - 1);
    taps.low[o] = low;
    taps.high[o] = Math.min(low + 1, inSize - 1);
    taps.weight[o] = source - low;
  }
  return taps;
}

function prepareBilinear(step) {
  const [, h, w] = step.inShape;
  const [fh, fw] = step.layer.factor;
  Object.assign(step, { rowTaps: bilinearTaps(h, fh), colTaps: bilinearTaps(w, fw) });
}

function resizeBilinear(step, x, out) {
  const [channels, h, w] = step.inShape;
  const [, oh, ow] = step.outShape;
  const { rowTaps: rows, colTaps: cols } = step;
  for (let c = 0; c < channels; c += 1) {
    for (let oy = 0; oy < oh; oy += 1) {
      const top = (c * h + rows.low[oy]) * w;
      const bottom = (c * h + rows.high[oy]) * w;
      const to = (c * oh + oy) * ow;
      for (let ox = 0; ox < ow; ox += 1) {
        const [left, right, t] = [cols.low[ox], cols.high[ox], cols.weight[ox]];
        const upper = x[top + left] + (x[top + right] - x[top + left]) * t;
        const lower = x[bottom + left] + (x[bottom + right] - x[bottom + left]) * t;
        out[to + ox] = upper + (lower - upper) * rows.weight[oy];
      }
    }
  }
}

// x * scale[c] + shift[c] over each channel (the first axis); either may be absent.
function affine(step, x, out) {
  const { channels } = step.layer;
  const { scale, shift } = step;
  const inner = out.length / channels;
  for (let c = 0; c < channels; c += 1) {
    const [s, t] = [scale ? scale[c] : 1, shift ? shift[c] : 0];
    for (let i = c * inner; i < (c + 1) * inner; i += 1) out[i] = x[i] * s + t;
  }
}

function add(step, x, out, y) {
  for (let i = 0; i < out.length; i += 1) out[i] = x[i] + y[i];
}

function relu(step, x, out) {
  for (let i = 0; i < out.length; i += 1) out[i] = x[i] < 0 ? 0 : x[i];
}

function leakyRelu(step, x, out) {
  const { alpha } = step.layer;
  for (let i = 0; i < out.length; i += 1) out[i] = x[i] < 0 ? alpha * x[i] : x[i];
}

function elu(step, x, out) {
  const { alpha } = step.layer;
  for (let i = 0; i < out.length; i += 1) out[i] = x[i] < 0 ? alpha * Math.expm1(x[i]) : x[i];
}

const sigmoid = (v) => 1 / (1 + Math.exp(-v));

function sigmoidLayer(step, x, out) {
  for (let i = 0; i < out.length; i += 1) out[i] = sigmoid(x[i]);
}

function tanh(step, x, out) {
  for (let i = 0; i < out.length; i += 1) out[i] = Math.tanh(x[i]);
}

// log(1 + e^v), without overflow for large v
function softplus(step, x, out) {
  for (let i = 0; i < out.length; i += 1) {
    const v = x[i];
    out[i] = v > 0 ? v + Math.log1p(Math.exp(-v)) : Math.log1p(Math.exp(v));
  }
}

function silu(step, x, out) {
  for (let i = 0; i < out.length; i += 1) out[i] = x[i] * sigmoid(x[i]);
}

const clamp01 = (v) => Math.min(Math.max(v, 0), 1);

// vae_core/models/heads.py and vae_core/onnx_decoder.py: the same formulas, from the head's
// description.
function applyHead(model, raw) {
  const { head } = model.header;
  const { mean, std } = model;
  const n = mean.length;
  if (head.kind === "mean") {
    for (let i = 0; i < n; i += 1) mean[i] = clamp01(raw[i] * head.scale + head.offset);
  } else if (head.kind === "gaussian" && head.mean === "identity") {
    // An unbounded loc; the image it stands for is within the pixel range, as in Python.
    for (let i = 0; i < n; i += 1) mean[i] = clamp01(raw[i]);
  } else {
    for (let i = 0; i < n; i += 1) mean[i] = sigmoid(raw[i]);
  }
  if (head.kind === "gaussian_fixed") std.fill(head.std);
  if (head.kind === "gaussian") {
    for (let i = 0; i < n; i += 1) {
      std[i] = Math.exp(head.log_min_std + head.log_std_range * sigmoid(raw[n + i]));
    }
  }
}

// z (numbers, latent_dim of them) -> { mean, std, loc }: (C, H, W) arrays, std null for
// Bernoulli and mean heads, loc (the Gaussian's, unclamped) null where it is the mean.
export function decode(model, z) {
  const { steps, values } = model;
  if (z.length !== model.latentDim) throw new Error(`z has ${z.length} values, not ${model.latentDim}`);
  values[0].set(z);
  for (let k = 0; k < steps.length; k += 1) {
    const step = steps[k];
    step.op.run(step, values[step.inputs[0]], values[k + 1], values[step.inputs[1]]);
  }
  applyHead(model, values[values.length - 1]);
  return { mean: model.mean, std: model.std, loc: model.loc };
}
