/**
 * A plain canvas-2D scatter plot for up to 50k points: colour per category, zoom with the wheel
 * (around the cursor), pan by dragging, hover and click on the nearest point, and the same by
 * keyboard (arrows pan, + / - zoom, 0 resets, [ and ] step through the points, Enter opens).
 */
import { useCallback, useEffect, useMemo, useRef, useState, type KeyboardEvent, type PointerEvent, type ReactNode } from 'react';
import { buildGrid, fitView, nearest, panBy, toData, toScreen, zoomAt, type Size, type View } from './scatter';

export interface ScatterProps {
  xs: Float32Array;
  ys: Float32Array;
  /** Per point: its colour index in `colors`. */
  colorOf: Uint16Array;
  colors: readonly string[];
  /** The highlighted point (-1: none). */
  active: number;
  /** The pointer or the keyboard moved onto a point (-1: off every point). */
  onActive: (i: number) => void;
  /** Click or Enter on a point. */
  onOpen: (i: number) => void;
  /** What the tooltip shows for a point. */
  tooltip: (i: number) => ReactNode;
  label: string;
  describedBy?: string;
}

const HIT_PX = 8;
const DRAG_PX = 4;
const ROUND_MAX = 5_000;

function pointRadius(n: number, zoom: number): number {
  const base = n > 20_000 ? 1.2 : n > 5_000 ? 1.8 : n > 500 ? 2.6 : 4;
  return Math.min(8, base * Math.max(1, Math.sqrt(zoom)));
}

export function ScatterCanvas({ xs, ys, colorOf, colors, active, onActive, onOpen, tooltip, label, describedBy }: ScatterProps) {
  const wrap = useRef<HTMLDivElement>(null);
  const canvas = useRef<HTMLCanvasElement>(null);
  const [size, setSize] = useState<Size>({ width: 800, height: 520 });
  const base = useMemo(() => fitView(size), [size]);
  const [view, setView] = useState<View>(base);
  const [drawn, setDrawn] = useState(0);
  const drag = useRef<{ x: number; y: number; moved: boolean; view: View } | null>(null);
  const grid = useMemo(() => buildGrid(xs, ys), [xs, ys]);
  const n = xs.length;
  const byColor = useMemo(() => {
    const lists = colors.map(() => [] as number[]);
    for (let i = 0; i < n; i++) lists[colorOf[i]!]?.push(i);
    return lists;
  }, [colorOf, colors, n]);

  // A new data set or a resize starts from the whole map.
  useEffect(() => setView(base), [base, xs]);

  useEffect(() => {
    const el = wrap.current;
    if (!el) return;
    const ro = new ResizeObserver(([entry]) => {
      if (!entry) return;
      const width = Math.max(200, Math.round(entry.contentRect.width));
      const height = Math.max(240, Math.round(Math.min(640, Math.max(320, window.innerHeight * 0.62))));
      setSize((s) => (s.width === width && s.height === height ? s : { width, height }));
    });
    ro.observe(el);
    return () => ro.disconnect();
  }, []);

  // The canvas paints with the theme's colours: repaint when the theme changes.
  const [theme, setTheme] = useState(0);
  useEffect(() => {
    const bump = () => setTheme((t) => t + 1);
    const mo = new MutationObserver(bump);
    mo.observe(document.documentElement, { attributes: true, attributeFilter: ['data-theme', 'class', 'style'] });
    const mq = window.matchMedia('(prefers-color-scheme: dark)');
    mq.addEventListener('change', bump);
    return () => {
      mo.disconnect();
      mq.removeEventListener('change', bump);
    };
  }, []);

  // Draw on the next frame after any change.
  useEffect(() => {
    const c = canvas.current;
    if (!c) return;
    const frame = requestAnimationFrame(() => {
      const dpr = window.devicePixelRatio || 1;
      if (c.width !== Math.round(size.width * dpr)) c.width = Math.round(size.width * dpr);
      if (c.height !== Math.round(size.height * dpr)) c.height = Math.round(size.height * dpr);
      const ctx = c.getContext('2d');
      if (!ctx) return;
      ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
      const css = getComputedStyle(c);
      ctx.fillStyle = css.getPropertyValue('--surface').trim() || '#ffffff';
      ctx.fillRect(0, 0, size.width, size.height);
      const r = pointRadius(n, view.scale / base.scale);
      // Round dots while there are few; squares (one fillRect each, no path) when there are many.
      const round = n <= ROUND_MAX;
      let count = 0;
      byColor.forEach((list, ci) => {
        ctx.fillStyle = colors[ci] ?? '#888888';
        if (round) ctx.beginPath();
        for (const i of list) {
          const [sx, sy] = toScreen(view, size, xs[i]!, ys[i]!);
          if (sx < -r || sy < -r || sx > size.width + r || sy > size.height + r) continue;
          if (round) {
            ctx.moveTo(sx + r, sy);
            ctx.arc(sx, sy, r, 0, Math.PI * 2);
          } else ctx.fillRect(sx - r, sy - r, 2 * r, 2 * r);
          count++;
        }
        if (round) ctx.fill();
      });
      if (active >= 0 && active < n) {
        const [sx, sy] = toScreen(view, size, xs[active]!, ys[active]!);
        ctx.lineWidth = 2;
        ctx.strokeStyle = css.getPropertyValue('--text').trim() || '#000000';
        ctx.beginPath();
        ctx.arc(sx, sy, r + 5, 0, Math.PI * 2);
        ctx.stroke();
      }
      setDrawn(count);
    });
    return () => cancelAnimationFrame(frame);
  }, [view, size, xs, ys, byColor, colors, active, n, base, theme]);

  // The wheel needs a non-passive listener to keep the page from scrolling.
  useEffect(() => {
    const c = canvas.current;
    if (!c) return;
    const onWheel = (e: WheelEvent) => {
      e.preventDefault();
      const rect = c.getBoundingClientRect();
      setView((v) => zoomAt(v, size, e.clientX - rect.left, e.clientY - rect.top, Math.exp(-e.deltaY * 0.0015), base));
    };
    c.addEventListener('wheel', onWheel, { passive: false });
    return () => c.removeEventListener('wheel', onWheel);
  }, [size, base]);

  const pick = useCallback(
    (e: PointerEvent<HTMLCanvasElement>): number => {
      const rect = e.currentTarget.getBoundingClientRect();
      const [x, y] = toData(view, size, e.clientX - rect.left, e.clientY - rect.top);
      return nearest(grid, x, y, HIT_PX / view.scale);
    },
    [view, size, grid],
  );

  const onPointerDown = (e: PointerEvent<HTMLCanvasElement>) => {
    if (e.button !== 0) return;
    e.currentTarget.setPointerCapture(e.pointerId);
    drag.current = { x: e.clientX, y: e.clientY, moved: false, view };
  };
  const onPointerMove = (e: PointerEvent<HTMLCanvasElement>) => {
    const d = drag.current;
    if (d) {
      const dx = e.clientX - d.x;
      const dy = e.clientY - d.y;
      if (d.moved || Math.hypot(dx, dy) > DRAG_PX) {
        d.moved = true;
        setView(panBy(d.view, dx, dy));
        return;
      }
    }
    const i = pick(e);
    if (i !== active) onActive(i);
  };
  const onPointerUp = (e: PointerEvent<HTMLCanvasElement>) => {
    const d = drag.current;
    drag.current = null;
    if (!d || d.moved) return;
    const i = pick(e);
    if (i >= 0) onOpen(i);
  };

  const step = (delta: number) => {
    if (n === 0) return;
    const i = active < 0 ? (delta > 0 ? 0 : n - 1) : (active + delta + n) % n;
    onActive(i);
    // Keep the chosen point in sight.
    const [sx, sy] = toScreen(view, size, xs[i]!, ys[i]!);
    if (sx < 20 || sy < 20 || sx > size.width - 20 || sy > size.height - 20) setView((v) => ({ ...v, cx: xs[i]!, cy: ys[i]! }));
  };

  const onKeyDown = (e: KeyboardEvent<HTMLCanvasElement>) => {
    const stepPx = e.shiftKey ? 160 : 40;
    const center = (f: number) => setView((v) => zoomAt(v, size, size.width / 2, size.height / 2, f, base));
    const keys: Record<string, () => void> = {
      ArrowLeft: () => setView((v) => panBy(v, stepPx, 0)),
      ArrowRight: () => setView((v) => panBy(v, -stepPx, 0)),
      ArrowUp: () => setView((v) => panBy(v, 0, stepPx)),
      ArrowDown: () => setView((v) => panBy(v, 0, -stepPx)),
      '+': () => center(1.4),
      '=': () => center(1.4),
      '-': () => center(1 / 1.4),
      '0': () => setView(base),
      ']': () => step(1),
      '[': () => step(-1),
      Enter: () => active >= 0 && onOpen(active),
      Escape: () => onActive(-1),
    };
    const f = keys[e.key];
    if (!f || e.ctrlKey || e.metaKey || e.altKey) return;
    e.preventDefault();
    f();
  };

  const tip = active >= 0 && active < n ? toScreen(view, size, xs[active]!, ys[active]!) : null;
  const tipVisible = tip !== null && tip[0] >= 0 && tip[1] >= 0 && tip[0] <= size.width && tip[1] <= size.height;
  return (
    <div className="scatter" ref={wrap}>
      <div className="scatter-tools" role="group" aria-label="Zoom">
        <button type="button" className="btn btn-small" onClick={() => setView((v) => zoomAt(v, size, size.width / 2, size.height / 2, 1.4, base))} aria-label="Zoom in">
          +
        </button>
        <button type="button" className="btn btn-small" onClick={() => setView((v) => zoomAt(v, size, size.width / 2, size.height / 2, 1 / 1.4, base))} aria-label="Zoom out">
          −
        </button>
        <button type="button" className="btn btn-small" onClick={() => setView(base)}>
          Reset view
        </button>
        <span className="muted" aria-live="polite">
          zoom {(view.scale / base.scale).toFixed(1)}×
        </span>
      </div>
      <div className="scatter-stage">
      <canvas
        ref={canvas}
        className="scatter-canvas"
        style={{ width: size.width, height: size.height }}
        tabIndex={0}
        role="img"
        aria-label={label}
        aria-describedby={describedBy}
        data-points={n}
        data-points-drawn={drawn}
        onPointerDown={onPointerDown}
        onPointerMove={onPointerMove}
        onPointerUp={onPointerUp}
        onPointerLeave={() => {
          if (!drag.current) onActive(-1);
        }}
        onKeyDown={onKeyDown}
      />
      {tip && tipVisible ? (
        <div
          className={`scatter-tip${tip[0] > size.width * 0.6 ? ' left' : ''}${tip[1] > size.height * 0.6 ? ' up' : ''}`}
          style={{ left: tip[0], top: tip[1] }}
          data-x={Math.round(tip[0])}
          data-y={Math.round(tip[1])}
          role="tooltip"
        >
          {tooltip(active)}
        </div>
      ) : null}
      </div>
    </div>
  );
}
