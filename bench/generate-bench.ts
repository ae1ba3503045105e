/**
 * npm run bench:generate [-- --json] [-- --repeat N] [-- --prompt-tokens P] [-- --new-tokens N]
 *                        [-- --model ID ...] [-- --models-dir DIR]
 *
 * Greedy decoding of a P-token prompt plus N new tokens (EOS ignored) at batch 1, per model:
 *  (a) tandem-kv          Tandem's generation engine as it runs by default: the KV cache (prefill once,
 *                         then new positions only) and prompt-lookup drafts checked by the model
 *                         (native/engine/generate/prompt-lookup.ts: the same greedy tokens in fewer calls)
 *  (b) tandem-kv-nolookup the same engine without the drafts: one model call per token
 *  (c) tandem-recompute   the same engine without the cache (the whole sequence every step)
 *  (d) transformers.js    @huggingface/transformers' text-generation pipeline on the same ONNX file (the peer)
 * How many draft tokens the model kept is printed: the drafts' gain depends on how much the output
 * repeats its context (random-weight models repeat a lot; extraction into JSON copies a lot).
 * Prompt processing (prefill) tokens/s, time to first token, decode tokens/s, cold load, peak RSS;
 * each system runs in its own child process, the systems interleaved over N rounds (default 3).
 * Default model: ../shared's fixtures/tiny-decoder-random.
 * A decoder of Qwen2.5-0.5B's size: make it with ../shared/tools/make_tiny_decoder.py (see its usage
 * line) into DIR/local/qwen05b-size/onnx/model.onnx with the fixture's tokenizer and config beside
 * it, then `-- --models-dir DIR --model local/qwen05b-size`.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { GenerateEngine } from '../native/engine/generate/generate-engine.js';
import { HfVocab } from '../native/engine/generate/vocab.js';
import { sharedDir } from '../native/testing/shared.js';

type System = 'tandem-kv' | 'tandem-kv-nolookup' | 'tandem-recompute' | 'transformers.js';
const SYSTEMS: System[] = ['tandem-kv', 'tandem-kv-nolookup', 'tandem-recompute', 'transformers.js'];

interface Row {
  model: string;
  system: System;
  promptTokens: number;
  newTokens: number;
  coldLoadMs: number;
  /** Prompt tokens per second of the prefill (best of the repeats). */
  prefillTokensPerSec: number;
  /** Time to first token (median), ms. */
  ttftMs: number;
  /** Decode tokens per second after the first token (best / median of the repeats). */
  decodeTokensPerSec: number;
  medianDecodeTokensPerSec: number;
  peakRssMiB: number;
  /** tandem-kv: draft tokens checked, and kept (summed over the repeats). */
  drafted?: number;
  draftKept?: number;
  error?: string;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function arg(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
}

/** A raw-text prompt of exactly `n` tokens for this tokenizer. */
function promptOf(vocab: HfVocab, n: number): string {
  const words = 'the protein binds a small ligand near the active site while researchers measure affinity and structure'.split(' ');
  let text = '';
  for (let i = 0; vocab.encode(text, true).length < n; i++) text += (i ? ' ' : '') + words[i % words.length];
  while (vocab.encode(text, true).length > n) text = text.slice(0, -1);
  return text;
}

async function measure(system: System, model: string, modelsDir: string, promptTokens: number, newTokens: number, repeat: number): Promise<Row> {
  const dir = path.join(modelsDir, model);
  const vocab = HfVocab.load(dir);
  const prompt = promptOf(vocab, promptTokens);
  const actualPrompt = vocab.encode(prompt, true).length;
  const prefill: number[] = [];
  const ttft: number[] = [];
  const decode: number[] = [];
  let coldLoadMs = 0;
  let drafted = 0;
  let draftKept = 0;
  if (system !== 'transformers.js') {
    const engine = new GenerateEngine({ TANDEM_MODELS_DIR: modelsDir, TANDEM_HOME: fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-bench-')) });
    const t0 = performance.now();
    await engine.preload({ model, device: 'cpu' });
    coldLoadMs = performance.now() - t0;
    const useCache = system !== 'tandem-recompute';
    const lookup = system === 'tandem-kv';
    await engine.generate({ model, device: 'cpu', prompts: [prompt], chat: false, maxTokens: 4, ignoreEos: true, useCache }); // warm-up
    for (let i = 0; i < repeat; i++) {
      let first = 0;
      const start = performance.now();
      const r = await engine.generate(
        { model, device: 'cpu', prompts: [prompt], chat: false, maxTokens: newTokens, ignoreEos: true, useCache, lookup, seed: 0 },
        { onText: () => (first ||= performance.now()) },
      );
      const end = performance.now();
      const n = r.outputs[0]!.completionTokens;
      drafted += r.drafted;
      draftKept += r.draftKept;
      prefill.push((actualPrompt / r.prefillMs) * 1000);
      ttft.push((first || end) - start);
      decode.push(((n - 1) / (end - (first || end))) * 1000);
    }
    await engine.dispose();
  } else {
    const tf = await import('@huggingface/transformers');
    tf.env.allowRemoteModels = false;
    tf.env.localModelPath = modelsDir + '/';
    const t0 = performance.now();
    const pipe = await tf.pipeline('text-generation', model, { dtype: 'fp32', device: 'cpu' });
    coldLoadMs = performance.now() - t0;
    const times: number[] = [];
    class Clock extends tf.BaseStreamer {
      override put(): void {
        times.push(performance.now());
      }
      override end(): void {}
    }
    // A plain BaseStreamer: put() per step is all the clock needs (the pipeline's type wants a TextStreamer).
    const streamer = new Clock() as unknown as InstanceType<typeof tf.TextStreamer>;
    const opts = { max_new_tokens: newTokens, min_new_tokens: newTokens, do_sample: false, streamer };
    await pipe(prompt, { ...opts, max_new_tokens: 4, min_new_tokens: 4 }); // warm-up
    for (let i = 0; i < repeat; i++) {
      times.length = 0;
      const start = performance.now();
      await pipe(prompt, opts);
      const end = performance.now();
      // put #0 is the prompt; put #1 the first new token.
      const first = times[1] ?? end;
      ttft.push(first - start);
      prefill.push((actualPrompt / (first - start)) * 1000);
      decode.push(((times.length - 2) / (end - first)) * 1000);
    }
  }
  return {
    model,
    system,
    promptTokens: actualPrompt,
    newTokens,
    coldLoadMs: Math.round(coldLoadMs),
    prefillTokensPerSec: Math.round(Math.max(...prefill)),
    ttftMs: +median(ttft).toFixed(1),
    decodeTokensPerSec: +Math.max(...decode).toFixed(1),
    medianDecodeTokensPerSec: +median(decode).toFixed(1),
    peakRssMiB: Math.round(process.resourceUsage().maxRSS / 1024),
    ...(system === 'tandem-kv' ? { drafted, draftKept } : {}),
  };
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const shared = sharedDir();
  const modelsDir = arg(args, '--models-dir') ?? (shared ? path.join(shared, 'models') : undefined);
  if (!modelsDir) {
    console.log('bench:generate skipped: ../shared (the tiny decoder fixture) is absent and no --models-dir was given');
    return;
  }
  const repeat = Number(arg(args, '--repeat')) || 3;
  const promptTokens = Number(arg(args, '--prompt-tokens')) || 64;
  const newTokens = Number(arg(args, '--new-tokens')) || 64;
  const one = args.indexOf('--one');
  if (one >= 0) {
    const row = await measure(args[one + 1] as System, args[one + 2]!, modelsDir, promptTokens, newTokens, repeat);
    process.stdout.write(JSON.stringify(row) + '\n');
    return;
  }
  const models = args.flatMap((a, i) => (a === '--model' ? [args[i + 1]!] : []));
  if (models.length === 0) models.push('fixtures/tiny-decoder-random');
  const self = fileURLToPath(import.meta.url);
  // Rounds interleave the systems (one child process per system per round, one run each), so a
  // shared machine's drifting load hits every system alike; best and median are over the rounds.
  const runs = new Map<string, Row[]>();
  const failures = new Map<string, string>();
  for (let round = 0; round < repeat; round++) {
    for (const model of models) {
      for (const system of SYSTEMS) {
        const key = `${model}\t${system}`;
        if (failures.has(key)) continue;
        const r = spawnSync(process.execPath, ['--import', 'tsx', self, '--one', system, model, '--models-dir', modelsDir, '--repeat', '1', '--prompt-tokens', String(promptTokens), '--new-tokens', String(newTokens)], {
          encoding: 'utf8',
          maxBuffer: 1 << 24,
        });
        const last = r.stdout.trim().split('\n').pop() ?? '';
        if (r.status === 0 && last.startsWith('{')) runs.set(key, [...(runs.get(key) ?? []), JSON.parse(last) as Row]);
        else failures.set(key, (r.stderr || r.stdout).trim().split('\n').slice(-3).join(' '));
      }
    }
  }
  const rows: Row[] = [];
  for (const model of models) {
    for (const system of SYSTEMS) {
      const key = `${model}\t${system}`;
      const rs = runs.get(key) ?? [];
      if (rs.length === 0) {
        rows.push({ model, system, promptTokens, newTokens, coldLoadMs: 0, prefillTokensPerSec: 0, ttftMs: 0, decodeTokensPerSec: 0, medianDecodeTokensPerSec: 0, peakRssMiB: 0, error: failures.get(key) ?? 'no run' });
        continue;
      }
      const decode = rs.map((r) => r.decodeTokensPerSec);
      rows.push({
        model,
        system,
        promptTokens: rs[0]!.promptTokens,
        newTokens,
        coldLoadMs: Math.round(median(rs.map((r) => r.coldLoadMs))),
        prefillTokensPerSec: Math.max(...rs.map((r) => r.prefillTokensPerSec)),
        ttftMs: +median(rs.map((r) => r.ttftMs)).toFixed(1),
        decodeTokensPerSec: Math.max(...decode),
        medianDecodeTokensPerSec: +median(decode).toFixed(1),
        peakRssMiB: Math.max(...rs.map((r) => r.peakRssMiB)),
        ...(system === 'tandem-kv' ? { drafted: rs.reduce((a, r) => a + (r.drafted ?? 0), 0), draftKept: rs.reduce((a, r) => a + (r.draftKept ?? 0), 0) } : {}),
      });
    }
  }
  const summary = models.map((model) => {
    const get = (s: System) => rows.find((r) => r.model === model && r.system === s && !r.error);
    const kv = get('tandem-kv');
    const plain = get('tandem-kv-nolookup');
    const re = get('tandem-recompute');
    const tf = get('transformers.js');
    return {
      model,
      noLookupVsTransformersJs: plain && tf ? +(plain.decodeTokensPerSec / tf.decodeTokensPerSec).toFixed(2) : null,
      kvVsRecompute: kv && re ? +(kv.decodeTokensPerSec / re.decodeTokensPerSec).toFixed(2) : null,
      kvVsTransformersJs: kv && tf ? +(kv.decodeTokensPerSec / tf.decodeTokensPerSec).toFixed(2) : null,
      kvVsTransformersJsMedian: kv && tf ? +(kv.medianDecodeTokensPerSec / tf.medianDecodeTokensPerSec).toFixed(2) : null,
    };
  });
  if (args.includes('--json')) {
    console.log(JSON.stringify({ cpus: os.availableParallelism(), repeat, promptTokens, newTokens, rows, summary }, null, 2));
    return;
  }
  console.log(`bench:generate  greedy, batch 1, ${promptTokens}-token prompt + ${newTokens} new tokens, best/median of ${repeat} interleaved rounds, ${os.availableParallelism()} CPUs`);
  console.log('model                          system             prefill tok/s  TTFT ms  decode tok/s best  median  cold load ms  peak RSS MiB  drafts kept');
  for (const r of rows) {
    if (r.error) {
      console.log(`${r.model.padEnd(30)} ${r.system.padEnd(18)} failed: ${r.error}`);
      continue;
    }
    console.log(
      `${r.model.padEnd(30)} ${r.system.padEnd(18)} ${String(r.prefillTokensPerSec).padStart(13)} ${r.ttftMs.toFixed(1).padStart(8)} ${r.decodeTokensPerSec.toFixed(1).padStart(17)} ${r.medianDecodeTokensPerSec.toFixed(1).padStart(7)} ${String(r.coldLoadMs).padStart(13)} ${String(r.peakRssMiB).padStart(13)}${r.drafted !== undefined ? `  ${r.draftKept}/${r.drafted}` : ''}`,
    );
  }
  for (const s of summary) {
    console.log(
      `${s.model}: KV cache = ${s.kvVsRecompute ?? 'n/a'}x recompute; decode ${s.kvVsTransformersJs ?? 'n/a'}x transformers.js best-to-best, ${s.kvVsTransformersJsMedian ?? 'n/a'}x median-to-median (target >= 1.3); without the drafts ${s.noLookupVsTransformersJs ?? 'n/a'}x`,
    );
  }
}

await main();
