/** Shared by the CLI (`tandem jobs show`) and the Jobs page: a job's result as readable text. Pure. */

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
