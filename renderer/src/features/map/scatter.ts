/**
 * Pure helpers for the Map page's canvas scatter plot: the view transform (zoom/pan around a
 * point), colour categories with a legend, and a uniform grid for nearest-point lookup, so hover
 * stays O(1) on 50k points. No DOM.
 */

/** The view: which data point is at the canvas centre, and pixels per data unit. */
export interface View {
  cx: number;
  cy: number;
  scale: number;
}

export interface Size {
  width: number;
  height: number;
}

export const MIN_ZOOM = 0.5;
export const MAX_ZOOM = 400;

/** The whole map ([-1, 1] on both axes) in the canvas, with a margin. */
export function fitView(size: Size, margin = 24): View {
  const usable = Math.max(10, Math.min(size.width, size.height) - 2 * margin);
  return { cx: 0, cy: 0, scale: usable / 2 };
}

/** Data -> canvas pixels (y grows upwards in data space, downwards on screen). */
export function toScreen(v: View, size: Size, x: number, y: number): [number, number] {
  return [size.width / 2 + (x - v.cx) * v.scale, size.height / 2 - (y - v.cy) * v.scale];
}

export function toData(v: View, size: Size, sx: number, sy: number): [number, number] {
  return [v.cx + (sx - size.width / 2) / v.scale, v.cy - (sy - size.height / 2) / v.scale];
}

/** Zoom by `factor` keeping the data point under (sx, sy) where it is; clamped to MIN/MAX_ZOOM of `base`. */
export function zoomAt(v: View, size: Size, sx: number, sy: number, factor: number, base: View): View {
  const scale = Math.min(base.scale * MAX_ZOOM, Math.max(base.scale * MIN_ZOOM, v.scale * factor));
  const [dx, dy] = toData(v, size, sx, sy);
  return { scale, cx: dx - (sx - size.width / 2) / scale, cy: dy + (sy - size.height / 2) / scale };
}

/** Move the view by a drag of (dx, dy) pixels. */
export function panBy(v: View, dx: number, dy: number): View {
  return { ...v, cx: v.cx - dx / v.scale, cy: v.cy + dy / v.scale };
}

// ------------------------------------------------------------------------------------------------
// Colours

/** Distinct colours readable on light and dark backgrounds (Tableau 10), then grey for "other". */
export const PALETTE = ['#4e79a7', '#f28e2b', '#e15759', '#76b7b2', '#59a14f', '#edc948', '#b07aa1', '#ff9da7', '#9c755f', '#17becf'];
export const OTHER_COLOR = '#8b949e';

export interface Category {
  label: string;
  count: number;
  color: string;
}

export interface Categories {
  /** Largest first; the last one is "other" when there are more labels than colours. */
  list: Category[];
  /** Per point: its index in `list`. */
  of: Uint16Array;
}

/** Group points by `key`: the most common labels get a colour each, the rest share "other". */
export function categorize<T>(points: readonly T[], key: (p: T) => string, max = PALETTE.length): Categories {
  const counts = new Map<string, number>();
  for (const p of points) counts.set(key(p), (counts.get(key(p)) ?? 0) + 1);
  const sorted = [...counts.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  const many = sorted.length > max;
  const kept = many ? sorted.slice(0, max - 1) : sorted;
  const list: Category[] = kept.map(([label, count], i) => ({ label, count, color: PALETTE[i % PALETTE.length]! }));
  const index = new Map(kept.map(([label], i) => [label, i]));
  if (many) list.push({ label: `other (${sorted.length - kept.length})`, count: sorted.slice(max - 1).reduce((s, [, c]) => s + c, 0), color: OTHER_COLOR });
  const of = new Uint16Array(points.length);
  points.forEach((p, i) => (of[i] = index.get(key(p)) ?? list.length - 1));
  return { list, of };
}

// ------------------------------------------------------------------------------------------------
// Nearest point

export interface Grid {
  cell: number;
  cells: Map<number, number[]>;
  xs: Float32Array;
  ys: Float32Array;
}

const G = 4096; // cells per axis used for the key (data is within [-1, 1], generously padded)

function cellKey(ix: number, iy: number): number {
  return (ix + G / 2) * G + (iy + G / 2);
}

/** A uniform grid over the points (data coordinates), ~2 points per cell on average. */
export function buildGrid(xs: Float32Array, ys: Float32Array): Grid {
  const n = xs.length;
  const cell = Math.max(2 / Math.sqrt(Math.max(1, n / 2)), 2 / (G / 4));
  const cells = new Map<number, number[]>();
  for (let i = 0; i < n; i++) {
    const k = cellKey(Math.floor(xs[i]! / cell), Math.floor(ys[i]! / cell));
    const list = cells.get(k);
    if (list) list.push(i);
    else cells.set(k, [i]);
  }
  return { cell, cells, xs, ys };
}

/** The point nearest to (x, y) within `radius` (data units), or -1. */
export function nearest(g: Grid, x: number, y: number, radius: number): number {
  const r = Math.ceil(radius / g.cell);
  const cx = Math.floor(x / g.cell);
  const cy = Math.floor(y / g.cell);
  let best = -1;
  let bestD = radius * radius;
  if (r > 64) {
    // Zoomed far out: scanning every point is cheaper than thousands of empty cells.
    for (let i = 0; i < g.xs.length; i++) {
      const d = (g.xs[i]! - x) ** 2 + (g.ys[i]! - y) ** 2;
      if (d <= bestD) [best, bestD] = [i, d];
    }
    return best;
  }
  for (let ix = cx - r; ix <= cx + r; ix++)
    for (let iy = cy - r; iy <= cy + r; iy++) {
      for (const i of g.cells.get(cellKey(ix, iy)) ?? []) {
        const d = (g.xs[i]! - x) ** 2 + (g.ys[i]! - y) ** 2;
        if (d <= bestD) [best, bestD] = [i, d];
      }
    }
  return best;
}
