/** Display helpers (pure). */

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[i]}`;
}

export function formatMs(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '–';
  if (ms < 1) return `${ms.toFixed(2)} ms`;
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(s < 10 ? 2 : 1)} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${Math.round(s - m * 60)} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

export function formatEta(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '';
  if (ms < 1000) return 'less than a second left';
  return `about ${formatMs(ms)} left`;
}

/**
 * Every cost and price in the UI: `$0`; under a cent, two significant digits (`$0.0003`,
 * `$0.00041`: a warm call's cost stays visible); otherwise cents with thousands separators
 * (`$0.41`, `$1,234.50`). Negative amounts keep their sign before the dollar.
 */
export function formatUsd(usd: number): string {
  if (!Number.isFinite(usd)) return '–';
  if (usd === 0) return '$0';
  const sign = usd < 0 ? '-' : '';
  const a = Math.abs(usd);
  if (a < 0.000001) return `${sign}<$0.000001`;
  if (a < 0.01) return `${sign}$${a.toLocaleString('en-US', { maximumSignificantDigits: 2, maximumFractionDigits: 6 })}`;
  return `${sign}$${a.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;
}

/** A price per GPU-hour: `$3.95/h`. */
export function formatRate(usdPerHour: number): string {
  return `${formatUsd(usdPerHour)}/h`;
}

export function formatWhen(iso: string | null): string {
  if (!iso) return '–';
  const d = new Date(iso);
  const today = new Date();
  const time = d.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit' });
  return d.toDateString() === today.toDateString() ? time : `${d.toLocaleDateString()} ${time}`;
}

export function percent(done: number, total: number | null): number | null {
  if (total === null || total <= 0) return null;
  return Math.max(0, Math.min(100, (done / total) * 100));
}
