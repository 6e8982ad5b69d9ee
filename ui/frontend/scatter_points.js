// What the two canvas scatters share: the notebook's LatentMap (notebook_map.js) and the app's
// picture map (picture_map.js). Points are flat (x0, y0, x1, y1, ...) arrays.

export function tag(name, className) {
  const node = document.createElement(name);
  if (className) node.className = className;
  return node;
}

// [[low x, low y], [high x, high y]] of flat points; a zero span is widened to 1e-9.
export function dataBounds(coords) {
  const low = [Infinity, Infinity];
  const high = [-Infinity, -Infinity];
  for (let i = 0; i < coords.length; i += 1) {
    const axis = i % 2;
    low[axis] = Math.min(low[axis], coords[i]);
    high[axis] = Math.max(high[axis], coords[i]);
  }
  for (const axis of [0, 1]) high[axis] = Math.max(high[axis], low[axis] + 1e-9);
  return [low, high];
}

// The index of the point nearest (x, y), or -1 when none is within `radius` (default: any).
export function nearest(px, x, y, radius = Infinity) {
  let best = -1;
  let bestDistance = radius * radius;
  for (let i = 0; i < px.length; i += 2) {
    const distance = (px[i] - x) ** 2 + (px[i + 1] - y) ** 2;
    if (distance < bestDistance) [best, bestDistance] = [i / 2, distance];
  }
  return best;
}

// A line of coloured squares and names, one per category.
export function legend(names, colours) {
  const box = tag("div", "caption");
  names.forEach((name, k) => {
    const swatch = tag("span");
    swatch.textContent = "■ ";
    swatch.style.color = colours[k % colours.length];
    box.append(swatch, `${name}  `);
  });
  return box;
}
