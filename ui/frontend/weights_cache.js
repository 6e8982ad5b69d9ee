// The page decoder's weights file (ui/weights_files.py): fetched by URL once, checked against the
// SHA-256 the server named, then kept in IndexedDB under that hash, so a reload or a new session
// of a known model fetches nothing. IndexedDB, not Cache Storage: shared mode is often plain http
// on a LAN, where the page is no secure context and Cache Storage and crypto.subtle are missing.

const WEIGHTS_DB = "latent-lab-weights";
const BYTES_STORE = "bytes"; // hash -> ArrayBuffer (written once)
const USED_STORE = "used"; // hash -> last use (ms): small records, rewritten on every use
const KEEP_FILES = 8; // a training run makes a new file each epoch: keep the latest ones only
const filesLoading = new Map(); // hash -> promise, so two components share one fetch

// The file's bytes: { bytes: Uint8Array, fetched: bytes over the network (0 from the cache) }.
export function weightsFile({ url, sha256 }) {
  if (!filesLoading.has(sha256)) {
    const load = loadWeightsFile(url, sha256);
    filesLoading.set(sha256, load);
    load.finally(() => filesLoading.delete(sha256)).catch(() => {});
  }
  return filesLoading.get(sha256);
}

async function loadWeightsFile(url, sha256) {
  const db = await openWeightsDb().catch(() => null); // a private window may refuse: no cache
  try {
    const stored = db && await idbRequest(db, BYTES_STORE, "readonly", (s) => s.get(sha256))
      .catch(() => null);
    if (stored) {
      await idbRequest(db, USED_STORE, "readwrite", (s) => s.put(Date.now(), sha256))
        .catch(() => {});
      return { bytes: new Uint8Array(stored), fetched: 0 };
    }
    const bytes = await fetchChecked(url, sha256);
    if (db) await storeFile(db, sha256, bytes).catch(() => {}); // a full disk costs a refetch
    return { bytes, fetched: bytes.length };
  } finally {
    db?.close();
  }
}

async function fetchChecked(url, sha256) {
  const response = await fetch(url, { cache: "force-cache" }); // immutable: named by its hash
  if (!response.ok) {
    throw new Error(`the decoder's weights could not be fetched (HTTP ${response.status})`);
  }
  const bytes = new Uint8Array(await response.arrayBuffer());
  if (sha256Hex(bytes) !== sha256) {
    throw new Error("the decoder's weights arrived damaged (their SHA-256 is not the one the "
      + "server named), so the page does not use them");
  }
  return bytes;
}

function openWeightsDb() {
  return new Promise((resolve, reject) => {
    const open = indexedDB.open(WEIGHTS_DB, 1);
    open.onupgradeneeded = () => {
      open.result.createObjectStore(BYTES_STORE);
      open.result.createObjectStore(USED_STORE);
    };
    open.onsuccess = () => resolve(open.result);
    open.onerror = () => reject(open.error);
  });
}

function idbRequest(db, name, mode, make) {
  return new Promise((resolve, reject) => {
    const req = make(db.transaction(name, mode).objectStore(name));
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

// Store the file and drop the least recently used beyond KEEP_FILES, in one transaction.
function storeFile(db, sha256, bytes) {
  return new Promise((resolve, reject) => {
    const tx = db.transaction([BYTES_STORE, USED_STORE], "readwrite");
    tx.objectStore(BYTES_STORE).put(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset
      + bytes.byteLength), sha256);
    const used = tx.objectStore(USED_STORE);
    used.put(Date.now(), sha256);
    const keys = used.getAllKeys();
    const times = used.getAll();
    times.onsuccess = () => {
      const byAge = keys.result.map((key, i) => [times.result[i], key]).sort((a, b) => b[0] - a[0]);
      for (const [, key] of byAge.slice(KEEP_FILES)) {
        tx.objectStore(BYTES_STORE).delete(key);
        used.delete(key);
      }
    };
    tx.oncomplete = () => resolve();
    tx.onerror = () => reject(tx.error);
  });
}

// SHA-256 (FIPS 180-4) in plain JavaScript: crypto.subtle exists only in secure contexts.
const ROUND_CONSTANTS = new Uint32Array([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
]);

export function sha256Hex(bytes) {
  const padded = new Uint8Array((((bytes.length + 8) >> 6) + 1) << 6); // + 0x80, length, zeros
  padded.set(bytes);
  padded[bytes.length] = 0x80;
  const view = new DataView(padded.buffer);
  view.setUint32(padded.length - 8, Math.floor(bytes.length / 0x20000000)); // length in bits
  view.setUint32(padded.length - 4, (bytes.length * 8) >>> 0);
  const h = new Uint32Array([0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
    0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19]);
  const w = new Uint32Array(64);
  for (let block = 0; block < padded.length; block += 64) {
    for (let t = 0; t < 16; t++) w[t] = view.getUint32(block + 4 * t);
    for (let t = 16; t < 64; t++) {
      const a = w[t - 15];
      const b = w[t - 2];
      const s0 = ((a >>> 7) | (a << 25)) ^ ((a >>> 18) | (a << 14)) ^ (a >>> 3);
      const s1 = ((b >>> 17) | (b << 15)) ^ ((b >>> 19) | (b << 13)) ^ (b >>> 10);
      w[t] = w[t - 16] + s0 + w[t - 7] + s1;
    }
    let [a, b, c, d, e, f, g, hh] = h;
    for (let t = 0; t < 64; t++) {
      const s1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
      const t1 = (hh + s1 + ((e & f) ^ (~e & g)) + ROUND_CONSTANTS[t] + w[t]) | 0;
      const s0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
      const t2 = (s0 + ((a & b) ^ (a & c) ^ (b & c))) | 0;
      hh = g;
      g = f;
      f = e;
      e = (d + t1) | 0;
      d = c;
      c = b;
      b = a;
      a = (t1 + t2) | 0;
    }
    h[0] += a; h[1] += b; h[2] += c; h[3] += d; h[4] += e; h[5] += f; h[6] += g; h[7] += hh;
  }
  return Array.from(h, (x) => x.toString(16).padStart(8, "0")).join("");
}
