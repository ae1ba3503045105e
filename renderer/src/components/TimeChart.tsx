import { useEffect, useRef } from 'react';
import uPlot from 'uplot';

export interface Series {
  label: string;
  /** A CSS color. */
  stroke: string;
  values: Array<number | null>;
  format: (v: number) => string;
  points?: boolean;
}

/** Width in CSS pixels for y-axis labels: the widest label measured in the axis font, plus the tick and gap. */
function yAxisWidth(u: uPlot, values: string[] | null): number {
  if (!values || values.length === 0) return 50;
  const ctx = u.ctx;
  ctx.save();
  ctx.font = `${12 * devicePixelRatio}px system-ui, -apple-system, 'Segoe UI', sans-serif`;
  const widest = Math.max(...values.map((v) => ctx.measureText(v).width)) / devicePixelRatio;
  ctx.restore();
  return Math.ceil(widest) + 22;
}

/** A small uPlot time chart (x: unix seconds). Resizes with its container. */
export function TimeChart({ title, x, series, height = 200 }: { title: string; x: number[]; series: Series[]; height?: number }) {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = box.current;
    if (!el || x.length === 0) return;
    const css = getComputedStyle(document.documentElement);
    const axisColor = css.getPropertyValue('--muted').trim() || '#666';
    const gridColor = css.getPropertyValue('--border').trim() || '#ddd';
    const axis = { stroke: axisColor, grid: { stroke: gridColor, width: 1 }, ticks: { stroke: gridColor, width: 1 } };
    const opts: uPlot.Options = {
      title,
      width: Math.max(240, el.clientWidth),
      height,
      scales: { x: { time: true } },
      // The y axis is as wide as its longest label (uPlot clips labels wider than `size`).
      axes: [axis, { ...axis, size: (u, values) => yAxisWidth(u, values), values: (_u, ticks) => ticks.map((t) => series[0]?.format(t) ?? String(t)) }],
      series: [
        {},
        ...series.map((s) => ({
          label: s.label,
          stroke: s.stroke,
          width: 2,
          points: { show: s.points ?? true, size: 5 },
          value: (_u: uPlot, v: number | null) => (v === null ? '–' : s.format(v)),
        })),
      ],
    };
    const plot = new uPlot(opts, [x, ...series.map((s) => s.values)] as uPlot.AlignedData, el);
    const ro = new ResizeObserver(() => plot.setSize({ width: Math.max(240, el.clientWidth), height }));
    ro.observe(el);
    return () => {
      ro.disconnect();
      plot.destroy();
    };
  }, [title, x, series, height]);
  return <div className="chart" ref={box} role="img" aria-label={title} />;
}
