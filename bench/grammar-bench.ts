/**
 * npm run bench:grammar [-- --json] [-- --suite-limit N] [-- --passes 1|2] [-- --no-warm-up]
 *
 * Constrained decoding's cost on the Qwen2.5 vocabulary (151,665 tokens; ../shared/models/Qwen/
 * Qwen2.5-0.5B-Instruct's tokenizer, skipped with a message when absent):
 *  - compile: JsonGrammar construction (JSON Schema -> grammar nodes, shortest completions, ajv)
 *  - mask: computing the allowed-token mask at each state of a forced walk of a valid instance
 *    (the instance tokenized by the real tokenizer; every token fed in turn, a mask computed before
 *    each, with the grammar's per-state cache as in generation: a fresh grammar per schema)
 * over (a) every schema of the JSON Schema Test Suite (../shared/datasets/json-schema-test-suite,
 * draft4/draft7/draft2020-12) that compiles, walking its `valid: true` instances the automaton
 * accepts, and (b) large real-world-like schemas written here (deep nesting, a 500-value enum,
 * 50 optional properties, patterns and formats, a recursive tree).
 * Two passes over the same schemas in one process (--passes 1: the first only):
 *  1. first use: the process's first masks after the engine's own preparation of a vocabulary index:
 *     the index, then the grammar warm-up (json-warmup.ts: random walks under its own small schemas,
 *     none of the measured ones, so V8 has compiled the grammar code; --no-warm-up: without it, the
 *     code unoptimized at first); every measured schema's per-vocabulary tables (string tails and
 *     scans, class tries, unique tails) are built by its compile or the mask that first needs them;
 *  2. steady state: a NEW vocabulary index (every per-vocabulary table built again, inside the masks
 *     and compiles that need it), the patterns' DFAs compiled again and a fresh grammar per schema,
 *     in a process whose code is warm, as in the engine after its first generation (which also keeps
 *     the index, the patterns' DFAs and a grammar per schema, so its masks are cheaper still). Kept
 *     from the first pass: only the code and the dialects' meta-schema checkers (ajv-for-schema.ts).
 * The tables are for the steady state; a summary line gives the first pass's figures beside them.
 * Targets (issue 21): mask p99 <= 1 ms, compile p95 <= 100 ms (steady state). Each mask is also timed in process CPU
 * time (process.cpuUsage: user + system of every thread, so GC and JIT threads count): on a shared,
 * loaded machine wall time mostly measures waiting for a core, and the CPU columns say what the
 * masks cost (the load average is printed with the table). The masks over 1 ms are also told apart:
 * those with a garbage-collector pause inside (perf_hooks 'gc' entries), those during which the
 * process was preempted (involuntary context switches, process.resourceUsage()), and the rest.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PerformanceObserver, type PerformanceEntry } from 'node:perf_hooks';
import { JsonGrammar, TokenIndex } from '../native/engine/generate/json-grammar.js';
import { clearCompiledPatterns } from '../native/engine/generate/json-regex.js';
import { WARM_SCHEMAS, warmUpGrammar } from '../native/engine/generate/json-warmup.js';
import { HfVocab } from '../native/engine/generate/vocab.js';
import { sharedDir } from '../native/testing/shared.js';
import { LARGE, type Case } from './grammar-bench-schemas.js';

const args = process.argv.slice(2);
const asJson = args.includes('--json');
const limitAt = args.indexOf('--suite-limit');
const passesAt = args.indexOf('--passes');
const passes = passesAt >= 0 ? Math.max(1, Math.min(2, Number(args[passesAt + 1]))) : 2;
const warm = !args.includes('--no-warm-up');
const suiteLimit = limitAt >= 0 ? Number(args[limitAt + 1]) : Infinity;

const shared = sharedDir();
const qwen = shared ? path.join(shared, 'models', 'Qwen', 'Qwen2.5-0.5B-Instruct') : '';
if (!shared || !fs.existsSync(path.join(qwen, 'tokenizer.json'))) {
  console.log('bench:grammar skipped: ../shared/models/Qwen/Qwen2.5-0.5B-Instruct (the Qwen2.5 tokenizer) is absent on this machine');
  process.exit(0);
}

// ---- the JSON Schema Test Suite ----------------------------------------------------------------
function suiteCases(): Case[] {
  const root = path.join(shared!, 'datasets', 'json-schema-test-suite');
  if (!fs.existsSync(root)) {
    console.log('(the JSON Schema Test Suite is absent: only the large schemas are measured)');
    return [];
  }
  const out: Case[] = [];
  const metas: Record<string, string> = { draft4: 'http://json-schema.org/draft-04/schema#', draft7: 'http://json-schema.org/draft-07/schema#', 'draft2020-12': 'https://json-schema.org/draft/2020-12/schema' };
  for (const draft of Object.keys(metas)) {
    const dir = path.join(root, draft);
    for (const f of fs.readdirSync(dir).sort()) {
      if (!f.endsWith('.json') || f === 'refRemote.json') continue;
      const groups = JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')) as Array<{ description: string; schema: unknown; tests: Array<{ data: unknown; valid: boolean }> }>;
      for (const g of groups) {
        if (out.length >= suiteLimit) return out;
        const schema = g.schema && typeof g.schema === 'object' && !('$schema' in g.schema) ? { $schema: metas[draft], ...g.schema } : typeof g.schema === 'boolean' ? { $schema: metas[draft], allOf: [g.schema] } : g.schema;
        out.push({ set: draft, name: `${f}: ${g.description}`, schema: schema as object, instances: g.tests.filter((t) => t.valid).map((t) => t.data) });
      }
    }
  }
  return out;
}

// ---- measuring ---------------------------------------------------------------------------------
// The warm-up must not have seen what is measured (its tables and type feedback would be the measured schemas' own).
const warmed = new Set(WARM_SCHEMAS.map((s) => JSON.stringify(s)));
const cases = [...LARGE, ...suiteCases()];
const seen = cases.filter((c) => warmed.has(JSON.stringify(c.schema)));
if (seen.length) throw new Error(`bench:grammar: the grammar warm-up walks measured schemas: ${seen.map((c) => c.name).join(', ')}`);
const vocab = HfVocab.load(qwen);
const enc = new TextEncoder();

interface Stats {
  compileMs: number[];
  maskMs: number[];
  maskCpuMs: number[];
  schemas: number;
  compiled: number;
  walked: number;
  tokens: number;
}
interface CaseRow {
  set: string;
  name: string;
  compileMs: number;
  maskMaxMs: number;
  maskP50Ms: number;
  maskP99Ms: number;
  cpuP50Ms: number;
  cpuP99Ms: number;
  masks: number;
  over1: number;
  cpuOver1: number;
}
interface Pass {
  indexMs: number;
  /** The grammar warm-up after the index (json-warmup.ts; 0 with --no-warm-up). */
  warmMs: number;
  stats: Map<string, Stats>;
  slowest: CaseRow[];
  /** Every mask's [start, end] on the performance timeline (which slow masks had a garbage-collector pause inside). */
  spans: number[];
  /** Involuntary context switches of the process during each mask (the kernel gave the core to another process). */
  switched: number[];
}
const gcs: PerformanceEntry[] = [];
const gcObserver = new PerformanceObserver((list) => gcs.push(...list.getEntries()));
gcObserver.observe({ entryTypes: ['gc'] });

function runPass(): Pass {
  clearCompiledPatterns();
  const index = new TokenIndex(vocab.bytes);
  // As a long-lived host's engine does when it builds a vocabulary index (LoadedGenerator.tokenIndex).
  const warmMs = warm ? warmUpGrammar(index).ms : 0;
  const pass: Pass = { indexMs: index.buildMs, warmMs, stats: new Map(), slowest: [], spans: [], switched: [] };
  const { stats, slowest, spans, switched } = pass;
  for (const c of cases) {
    const s = stats.get(c.set) ?? { compileMs: [], maskMs: [], maskCpuMs: [], schemas: 0, compiled: 0, walked: 0, tokens: 0 };
    stats.set(c.set, s);
    s.schemas++;
    let g: JsonGrammar;
    const t0 = performance.now();
    try {
      g = new JsonGrammar(c.schema, index);
    } catch (e) {
      if (c.set === 'large') console.log(`large schema "${c.name}" refused: ${(e as Error).message}`);
      continue;
    }
    const compileMs = performance.now() - t0;
    s.compiled++;
    s.compileMs.push(compileMs);
    let maskMax = 0;
    const caseMs: number[] = [];
    const caseCpu: number[] = [];
    for (const inst of c.instances) {
      const text = JSON.stringify(inst);
      if (g.advance(g.initial(), enc.encode(text)).length === 0) {
        if (c.set === 'large') console.log(`large schema "${c.name}": its instance is not accepted by the automaton`);
        continue;
      }
      s.walked++;
      let st = g.initial();
      for (const id of vocab.encode(text)) {
        const c0 = process.cpuUsage();
        const v0 = process.resourceUsage().involuntaryContextSwitches;
        const m0 = performance.now();
        const mask = g.mask(st);
        const m1 = performance.now();
        const ms = m1 - m0;
        spans.push(m0, m1);
        switched.push(process.resourceUsage().involuntaryContextSwitches - v0);
        const cpu = process.cpuUsage(c0);
        s.maskMs.push(ms);
        caseMs.push(ms);
        s.maskCpuMs.push((cpu.user + cpu.system) / 1000);
        caseCpu.push((cpu.user + cpu.system) / 1000);
        if (ms > maskMax) maskMax = ms;
        s.tokens++;
        if (((mask[id >>> 5]! >>> (id & 31)) & 1) === 0) throw new Error(`${c.set} ${c.name}: token ${id} of ${text} not allowed by the mask (a grammar bug)`);
        st = g.advance(st, vocab.bytes[id]!);
      }
    }
    slowest.push({ set: c.set, name: c.name, compileMs, maskMaxMs: maskMax, maskP50Ms: pct(caseMs, 50), maskP99Ms: pct(caseMs, 99), cpuP50Ms: pct(caseCpu, 50), cpuP99Ms: pct(caseCpu, 99), masks: caseMs.length, over1: caseMs.filter((x) => x > 1).length, cpuOver1: caseCpu.filter((x) => x > 1).length });
  }
  return pass;
}

const runs: Pass[] = [];
for (let p = 0; p < passes; p++) runs.push(runPass());
const first = runs[0]!;
const steady = runs[runs.length - 1]!;
console.log(`Qwen2.5 vocabulary: ${vocab.size} tokens; index built in ${first.indexMs.toFixed(0)} ms (first pass)${passes > 1 ? `, ${steady.indexMs.toFixed(0)} ms (steady state)` : ''}`);
const { stats, slowest } = steady;

function pct(xs: number[], p: number): number {
  if (xs.length === 0) return NaN;
  const a = [...xs].sort((x, y) => x - y);
  return a[Math.min(a.length - 1, Math.ceil((p / 100) * a.length) - 1)]!;
}
const r = (x: number): number => Number(x.toFixed(3));
const rows = [...stats].map(([set, s]) => ({
  set,
  schemas: s.schemas,
  compiled: s.compiled,
  'compile p50 ms': r(pct(s.compileMs, 50)),
  'compile p95 ms': r(pct(s.compileMs, 95)),
  'compile max ms': r(Math.max(...s.compileMs)),
  'instances walked': s.walked,
  tokens: s.tokens,
  'mask p50 ms': r(pct(s.maskMs, 50)),
  'mask p95 ms': r(pct(s.maskMs, 95)),
  'mask p99 ms': r(pct(s.maskMs, 99)),
  'mask max ms': r(Math.max(...s.maskMs)),
  'mask p99 cpu ms': r(pct(s.maskCpuMs, 99)),
}));
const all = [...stats.values()];
const allCompile = all.flatMap((s) => s.compileMs);
const allMask = all.flatMap((s) => s.maskMs);
const allMaskCpu = all.flatMap((s) => s.maskCpuMs);
rows.push({
  set: 'all',
  schemas: all.reduce((a, s) => a + s.schemas, 0),
  compiled: all.reduce((a, s) => a + s.compiled, 0),
  'compile p50 ms': r(pct(allCompile, 50)),
  'compile p95 ms': r(pct(allCompile, 95)),
  'compile max ms': r(Math.max(...allCompile)),
  'instances walked': all.reduce((a, s) => a + s.walked, 0),
  tokens: all.reduce((a, s) => a + s.tokens, 0),
  'mask p50 ms': r(pct(allMask, 50)),
  'mask p95 ms': r(pct(allMask, 95)),
  'mask p99 ms': r(pct(allMask, 99)),
  'mask max ms': r(Math.max(...allMask)),
  'mask p99 cpu ms': r(pct(allMaskCpu, 99)),
});
// Masks over 1 ms with a garbage-collector pause inside them (pauses are delivered asynchronously: wait for the last ones).
await new Promise((r) => setTimeout(r, 50));
gcObserver.disconnect();
const pauses = gcs.map((e) => [e.startTime, e.startTime + e.duration] as const).sort((a, b) => a[0] - b[0]);
/** A pass's masks over 1 ms: all, with a garbage-collector pause inside, preempted, neither. */
function overOne(p: Pass): { over1: number; gc: number; switched: number; clean: number } {
  const o = { over1: 0, gc: 0, switched: 0, clean: 0 };
  for (let i = 0, j = 0; i < p.spans.length; i += 2) {
    const [a, b] = [p.spans[i]!, p.spans[i + 1]!];
    if (b - a <= 1) continue;
    o.over1++;
    while (j < pauses.length && pauses[j]![1] < a) j++;
    const gc = j < pauses.length && pauses[j]![0] <= b;
    if (gc) o.gc++;
    if (p.switched[i / 2]! > 0) o.switched++;
    if (!gc && p.switched[i / 2] === 0) o.clean++;
  }
  return o;
}
const { over1, gc: over1Gc, switched: over1Switched, clean: over1Clean } = overOne(steady);
const passRows = runs.map((p, i) => {
  const masks = [...p.stats.values()].flatMap((s) => s.maskMs);
  const compiles = [...p.stats.values()].flatMap((s) => s.compileMs);
  const o = overOne(p);
  return {
    pass: i === 0 ? 'first use' : 'steady state',
    'index ms': r(p.indexMs),
    'warm-up ms': r(p.warmMs),
    'compile p95 ms': r(pct(compiles, 95)),
    'compile max ms': r(Math.max(...compiles)),
    'mask p50 ms': r(pct(masks, 50)),
    'mask p95 ms': r(pct(masks, 95)),
    'mask p99 ms': r(pct(masks, 99)),
    'mask max ms': r(Math.max(...masks)),
    masks: masks.length,
    'over 1 ms': o.over1,
    'with gc pause': o.gc,
    preempted: o.switched,
  };
});
const steadyPauses = pauses.filter(([a]) => a >= (steady.spans[0] ?? 0));
const gcPauseMs = steadyPauses.reduce((t, [a, b]) => t + (b - a), 0);
const load = os.loadavg().map((x) => x.toFixed(2)).join(' ');
if (asJson) console.log(JSON.stringify({ load, over1, over1Gc, over1Switched, over1Clean, gcPauses: steadyPauses.length, gcPauseMs, passes: passRows, rows, slowest: slowest.sort((a, b) => b.maskMaxMs - a.maskMaxMs).slice(0, 10) }, null, 2));
else {
  console.log(`steady state (pass ${runs.length} of ${runs.length}; every table below is of this pass):`);
  console.table(rows);
  console.log('large schemas (compile ms, mask p50 / p99 wall and CPU, slowest ms):');
  console.table(slowest.filter((x) => x.set === 'large').map((x) => ({ schema: x.name, 'compile ms': r(x.compileMs), 'mask p50 ms': r(x.maskP50Ms), 'mask p99 ms': r(x.maskP99Ms), 'cpu p50 ms': r(x.cpuP50Ms), 'cpu p99 ms': r(x.cpuP99Ms), 'slowest mask ms': r(x.maskMaxMs), masks: x.masks, 'over 1 ms': x.over1, 'over 1 ms cpu': x.cpuOver1 })));
  console.log('slowest masks overall:');
  console.table(slowest.sort((a, b) => b.maskMaxMs - a.maskMaxMs).slice(0, 8).map((x) => ({ set: x.set, schema: x.name.slice(0, 70), 'slowest mask ms': r(x.maskMaxMs) })));
  const p99 = pct(allMask, 99);
  const c95 = pct(allCompile, 95);
  console.log(`targets: mask p99 ${r(p99)} ms (<= 1 ms: ${p99 <= 1 ? 'met' : 'NOT met'}), compile p95 ${r(c95)} ms (<= 100 ms: ${c95 <= 100 ? 'met' : 'NOT met'})`);
  console.log(`mask p99 in CPU time ${r(pct(allMaskCpu, 99))} ms (every thread of the process: the garbage collector's and compiler's too); load average ${load} on ${os.cpus().length} cores`);
  console.log(`masks over 1 ms: ${over1} of ${allMask.length} (p99 allows ${Math.floor(allMask.length / 100)}), ${over1Gc} of them with a garbage-collector pause inside, ${over1Switched} preempted (an involuntary context switch inside), ${over1Clean} with neither; ${steadyPauses.length} pauses, ${r(gcPauseMs)} ms in all`);
  console.log('each pass (first use: a fresh process, nothing warm; steady state: a new index and fresh grammars in a warm process):');
  console.table(passRows);
}
