/** Human formatting for job records: durations, money, times, aligned tables. */

/** 850 ms, 12.3 s, 4m 05s, 2h 03m, 3d 04h; null -> '-'. */
export function formatDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '-';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 59_950) return `${(ms / 1000).toFixed(1)} s`;
  const s = Math.round(ms / 1000);
  if (s < 3600) return `${Math.floor(s / 60)}m ${pad2(s % 60)}s`;
  const m = Math.round(s / 60);
  if (m < 24 * 60) return `${Math.floor(m / 60)}h ${pad2(m % 60)}m`;
  const h = Math.round(m / 60);
  return `${Math.floor(h / 24)}d ${pad2(h % 24)}h`;
}

/** $0, $0.0012, $1.25. */
export function formatUsd(usd: number): string {
  if (usd === 0) return '$0';
  return Math.abs(usd) < 1 ? `$${usd.toFixed(4)}` : `$${usd.toFixed(2)}`;
}

/** An ISO time as local 'YYYY-MM-DD HH:MM:SS'; null -> '-'. */
export function formatWhen(iso: string | null): string {
  if (!iso) return '-';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())} ${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}`;
}

export function formatPercent(rate: number | null): string {
  return rate === null ? 'n/a' : `${(rate * 100).toFixed(1)}%`;
}

/** Columns padded to their widest cell; `right` lists columns aligned right (numbers). */
export function formatTable(headers: readonly string[], rows: readonly (readonly string[])[], right: readonly number[] = []): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (right.includes(i) ? c.padStart(widths[i]!) : i === cells.length - 1 ? c : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(headers), ...rows.map(line)].join('\n') + '\n';
}

/** Cut a text to one line of at most `max` characters. */
export function oneLine(s: string, max: number): string {
  const flat = s.replace(/\s+/g, ' ').trim();
  return flat.length <= max ? flat : `${flat.slice(0, max - 1)}…`;
}

function pad2(n: number): string {
  return String(n).padStart(2, '0');
}

/**
 * A JSON value as indented text, in full (never cut): objects as `key: value` lines, nested
 * values indented two spaces, arrays as `- item` lines (short arrays of scalars on one line).
 * Strings print bare unless they would read ambiguously (empty, padded, multi-line, or looking like
 * a number, boolean or null), then as JSON strings.
 */
export function formatTree(value: unknown, indent = ''): string {
  const lines: string[] = [];
  tree(value, indent, lines);
  return lines.join('\n') + '\n';
}

function scalar(v: unknown): string | null {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (typeof v === 'string') return /^$|^\s|\s$|[\n\r\t]|^(true|false|null|-?\d[\d.eE+-]*)$|^[-[{]/.test(v) ? JSON.stringify(v) : v;
  if (Array.isArray(v) && v.length === 0) return '[]';
  if (typeof v === 'object' && Object.keys(v as object).length === 0) return '{}';
  return null;
}

function tree(v: unknown, indent: string, out: string[]): void {
  const s = scalar(v);
  if (s !== null) return void out.push(`${indent}${s}`);
  if (Array.isArray(v)) {
    const row = scalarRow(v);
    if (row !== null) return void out.push(`${indent}${row}`);
    for (const item of v) {
      const one = scalar(item);
      if (one !== null) {
        out.push(`${indent}- ${one}`);
        continue;
      }
      const sub: string[] = [];
      tree(item, `${indent}  `, sub);
      out.push(`${indent}- ${sub[0]!.slice(indent.length + 2)}`, ...sub.slice(1));
    }
    return;
  }
  for (const [k, val] of Object.entries(v as Record<string, unknown>)) {
    const one = scalar(val);
    if (one !== null) out.push(`${indent}${k}: ${one}`);
    else if (Array.isArray(val) && scalarRow(val)) out.push(`${indent}${k}: ${scalarRow(val)}`);
    else {
      out.push(`${indent}${k}:`);
      tree(val, `${indent}  `, out);
    }
  }
}

/** A short array of scalars on one line, or null. */
function scalarRow(v: unknown[]): string | null {
  const flat = v.map(scalar);
  if (flat.some((x) => x === null) || v.some((x) => typeof x === 'string' && x.includes(','))) return null;
  const row = `[${flat.join(', ')}]`;
  return row.length <= 82 ? row : null;
}
