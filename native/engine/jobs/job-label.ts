import path from 'node:path';
import type { JsonValue } from '../common/errors.js';
import type { JsonObject } from './job-types.js';

/**
 * What a job worked on, in a few words: the one place that turns a job's kind and params (and,
 * when it is created, its input) into the label stored with it and shown by `tandem jobs list`,
 * the Jobs page and the exports. Rows written before labels were stored get theirs from the same
 * function at read time (without the input: counts that only the input knew are left out).
 *
 *   index          papers ← /home/ana/papers, minishlab/potion-base-2M
 *   eval           nfcorpus, queries test.jsonl (323 queries)
 *   embed          Xenova/bge-small-en-v1.5, texts.jsonl, 120 texts
 *   generate-local onnx-community/Qwen2.5-0.5B-Instruct: "Summarise the abstract in two …"
 *   generate       qwen-32b: "Extract the compounds named in …"
 *   boltz2         t4-l99a: chain A (164 aa); ligand BNZ (c1ccccc1)
 *   boltz2-batch   screen-1: 24 ligands vs chain A (164 aa)
 *   upgrade        papers: minishlab/potion-base-2M → Xenova/bge-small-en-v1.5
 *   run-onnx       mlp.onnx, inputs.json
 */
export function jobLabel(kind: string, params: JsonObject, input?: unknown): string {
  const p = params as Record<string, unknown>;
  switch (kind) {
    case 'index': {
      const what = p.lexicalOnly === true ? 'lexical only' : str(p.model);
      return join(`${str(p.collection) ?? '?'}${str(p.root) ? ` ← ${str(p.root)}` : ''}`, what);
    }
    case 'eval': {
      const file = str(p.queriesFile);
      const n = lineCount(field(input, 'queries'));
      const count = n === null ? null : plural(n, 'query', 'queries');
      const queries = file ? `queries ${path.basename(file)}${count ? ` (${count})` : ''}` : count ? `${count} (uploaded)` : null;
      return join(str(p.collection) ?? '?', queries, rerankOf(p.rerank));
    }
    case 'embed': {
      const file = str(p.inputFile) ?? str(p.input);
      const n = num(p.count) ?? (Array.isArray(input) ? input.length : null);
      return join(str(p.model), file ? path.basename(file) : null, n === null ? null : plural(n, 'text'));
    }
    case 'generate-local':
      return join(`${str(p.model) ?? '?'}: ${firstWords(str(p.prompt))}`);
    case 'model-pull':
      return join(`${str(p.id) ?? '?'}${str(p.variant) ? ` (${str(p.variant)})` : ''}`);
    case 'upgrade': {
      const from = 'from' in p ? (p.from === null ? 'lexical only' : str(p.from)) : null;
      return `${str(p.collection) ?? '?'}: ${from ? `${from} → ` : '→ '}${str(p.model) ?? '?'}${str(p.variant) ? ` (${str(p.variant)})` : ''}`;
    }
    case 'run-onnx': {
      const model = str(p.model);
      return join(model ? path.basename(model) : '?', str(p.inputs) ? path.basename(str(p.inputs)!) : null);
    }
    case 'warmup':
      return join(str(p.backend), str(p.function));
    case 'embed-remote':
    case 'generate':
    case 'boltz2':
    case 'boltz2-batch':
      return cloudLabel(p.request);
    default:
      return join(str(p.name) ?? str(p.collection), str(p.model));
  }
}

/** A cloud job's params hold its request (`{request: {kind, ...}, route}`). */
function cloudLabel(request: unknown): string {
  if (!request || typeof request !== 'object') return '';
  const r = request as Record<string, unknown>;
  switch (r.kind) {
    case 'generate':
      return `${str(r.model) ?? '?'}: ${firstWords(str(r.prompt))}`;
    case 'embed-remote': {
      const n = Array.isArray(r.texts) ? r.texts.length : null;
      return join(n === null ? null : plural(n, 'text'), str(r.instruction) ? firstWords(str(r.instruction), 5) : null);
    }
    case 'boltz2': {
      const chains = proteins(r.proteins);
      const ligs = Array.isArray(r.ligands) ? r.ligands.map(ligand) : [];
      const parts = [chains, ligs.length ? `${ligs.length === 1 ? 'ligand' : 'ligands'} ${ligs.join(', ')}` : null].filter((x): x is string => !!x);
      return `${str(r.name) ?? '?'}: ${parts.join('; ') || 'no chains'}${r.affinity === true ? ' (affinity)' : ''}`;
    }
    case 'boltz2-batch': {
      const n = Array.isArray(r.ligands) ? r.ligands.length : 0;
      const chains = proteins(r.proteins);
      return `${str(r.name) ?? '?'}: ${plural(n, 'ligand')}${chains ? ` vs ${chains}` : ''}${r.affinity === true ? ' (affinity)' : ''}`;
    }
    default:
      return '';
  }
}

function proteins(v: unknown): string | null {
  if (!Array.isArray(v) || v.length === 0) return null;
  const each = v.map((c: unknown) => {
    const o = (c ?? {}) as Record<string, unknown>;
    const seq = str(o.sequence);
    return `${str(o.id) ?? '?'}${seq ? ` (${seq.replace(/\s+/g, '').length} aa)` : ''}`;
  });
  return `${each.length === 1 ? 'chain' : 'chains'} ${each.join(', ')}`;
}

function ligand(v: unknown): string {
  const o = (v ?? {}) as Record<string, unknown>;
  const id = str(o.id) ?? '?';
  const ccd = str(o.ccd);
  if (ccd) return `${id} (CCD ${ccd})`;
  const smiles = str(o.smiles);
  return smiles ? `${id} (${smiles.length > 40 ? `${smiles.slice(0, 39)}…` : smiles})` : id;
}

function rerankOf(v: unknown): string | null {
  const m = v && typeof v === 'object' ? str((v as Record<string, unknown>).model) : null;
  return m ? `rerank ${m}` : null;
}

/** The first words of a prompt, in quotes, about 40 characters (cut at a word, with …). */
export function firstWords(text: string | null, maxWords = 8, maxChars = 48): string {
  if (!text) return '""';
  const flat = text.replace(/\s+/g, ' ').trim();
  const words = flat.split(' ');
  let out = '';
  let cut = false;
  for (const [i, w] of words.entries()) {
    const next = out ? `${out} ${w}` : w;
    if (i >= maxWords || next.length > maxChars) {
      cut = true;
      break;
    }
    out = next;
  }
  if (!out) {
    out = flat.slice(0, maxChars - 1);
    cut = flat.length > out.length;
  }
  return `"${out}${cut ? ' …' : ''}"`;
}

function lineCount(v: unknown): number | null {
  if (typeof v !== 'string') return null;
  return v.split(/\r?\n/).filter((l) => l.trim().length > 0).length;
}

function field(v: unknown, key: string): JsonValue | undefined {
  return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, JsonValue>)[key] : undefined;
}

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n.toLocaleString('en-US')} ${n === 1 ? one : many}`;
}

function str(v: unknown): string | null {
  return typeof v === 'string' && v.length > 0 ? v : null;
}

function num(v: unknown): number | null {
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

function join(...parts: (string | null | undefined)[]): string {
  return parts.filter((x): x is string => !!x).join(', ');
}
