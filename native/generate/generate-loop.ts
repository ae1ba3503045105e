import { TandemError } from '../engine/common/errors.js';
import type { GrammarState, JsonGrammar } from './json-grammar.js';
import type { CausalLm } from './lm.js';
import { Rng, Sampler, type SamplingParams } from './sampling.js';
import { StopText, Utf8Stream } from './text-stream.js';
import { newMask, setBit } from './token-trie.js';
import type { TokenVocab } from './vocab.js';

export type FinishReason = 'eos' | 'stop' | 'length' | 'grammar';

export interface LoopOptions {
  maxTokens: number;
  sampling: SamplingParams;
  /** Each row gets its own generator seeded with this: a prompt's text does not depend on its batch-mates. */
  seed: number;
  /** Visible text ends before the first of these (ignored under a grammar: it would cut the JSON). */
  stop?: readonly string[];
  eosIds: readonly number[];
  /** JSON-Schema-constrained decoding. */
  grammar?: JsonGrammar;
  signal?: AbortSignal;
  /** Text as it is generated (whole UTF-8 characters, never a prefix of a stop string). */
  onText?: (row: number, text: string) => void;
  /** false: recompute the whole sequence every step (benchmarks and tests only). */
  useCache?: boolean;
}

export interface RowOutput {
  /** Generated ids (an ending EOS included). */
  tokens: number[];
  text: string;
  finishReason: FinishReason;
  promptTokens: number;
  /** The parsed, validated JSON under a grammar. */
  output?: unknown;
  error?: TandemError;
}

export interface LoopResult {
  rows: RowOutput[];
  prefillMs: number;
  decodeMs: number;
  /** Model calls after the prefill. */
  steps: number;
  /** Positions fed per model call, per row (the prefill first). */
  fedPerCall: number[];
}

interface RowState {
  tokens: number[];
  rng: Rng;
  utf8: Utf8Stream;
  text: StopText;
  grammar: GrammarState | undefined;
  finish: FinishReason | undefined;
  error?: TandemError;
}

function cancelled(): TandemError {
  return new TandemError('CANCELLED', 'generation cancelled');
}

/** Let queued messages (a cancel) in between steps. */
const breathe = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export function truncatedError(maxTokens: number, generated: number): TandemError {
  return new TandemError('INVALID_INPUT', `truncated: max tokens (${maxTokens}) ran out before the JSON value was complete (${generated} tokens generated); raise max tokens or ask for less`, {
    data: { reason: 'truncated', maxTokens },
  });
}

/**
 * Generate continuations for a batch of tokenized prompts: one prefill, then one token per row per
 * step through the model's cache. Rows that finish keep a filler token until the batch ends.
 */
export async function runGeneration(lm: CausalLm, vocab: TokenVocab, prompts: readonly number[][], opts: LoopOptions): Promise<LoopResult> {
  if (!Number.isInteger(opts.maxTokens) || opts.maxTokens < 1) throw new TandemError('INVALID_ARGUMENT', `max tokens must be a positive integer, got ${opts.maxTokens}`);
  if (opts.signal?.aborted) throw cancelled();
  const limit = Math.min(lm.vocabSize, vocab.size);
  const eos = opts.eosIds.filter((id) => id < lm.vocabSize);
  // Text tokens plus EOS: special and vocabulary-less ids are never generated.
  const free = newMask(lm.vocabSize);
  for (let id = 0; id < limit; id++) if (vocab.bytes[id]) setBit(free, id);
  for (const id of eos) setBit(free, id);
  const eosSet = new Set(eos);
  const stops = (opts.grammar ? [] : (opts.stop ?? [])).filter((s) => s.length > 0);
  const rows: RowState[] = prompts.map(() => ({
    tokens: [],
    rng: new Rng(opts.seed),
    utf8: new Utf8Stream(),
    text: new StopText(stops),
    grammar: opts.grammar?.initial(),
    finish: undefined,
  }));
  const sampler = new Sampler();
  const t0 = performance.now();
  const batch = await lm.start(prompts, { useCache: opts.useCache ?? true });
  const prefillMs = performance.now() - t0;
  let steps = 0;
  try {
    for (let generated = 0; ; generated++) {
      if (opts.signal?.aborted) throw cancelled();
      const next: number[] = new Array<number>(rows.length).fill(vocab.padId);
      for (let r = 0; r < rows.length; r++) {
        const row = rows[r]!;
        if (row.finish) continue;
        if (generated >= opts.maxTokens) {
          row.finish = 'length';
          continue;
        }
        const logits = batch.logits.subarray(r * lm.vocabSize, (r + 1) * lm.vocabSize);
        let mask = free;
        if (opts.grammar && row.grammar) {
          mask = opts.grammar.mask(row.grammar);
          if (eos.length && opts.grammar.canEnd(row.grammar)) {
            mask = mask.slice();
            for (const id of eos) setBit(mask, id);
          }
        }
        const id = sampler.pick(logits, lm.vocabSize, mask, opts.sampling, row.rng);
        if (id < 0) {
          row.finish = 'grammar';
          row.error = new TandemError('INTERNAL', 'constrained decoding reached a state where no token is allowed');
          continue;
        }
        row.tokens.push(id);
        next[r] = id;
        if (eosSet.has(id)) {
          row.finish = 'eos';
          continue;
        }
        const bytes = vocab.bytes[id];
        if (!bytes) continue;
        const shown = row.text.append(row.utf8.push(bytes));
        if (shown) opts.onText?.(r, shown);
        if (row.text.stopped) row.finish = 'stop';
        if (opts.grammar && row.grammar) {
          row.grammar = opts.grammar.advance(row.grammar, bytes);
          if (opts.grammar.isDone(row.grammar)) row.finish = 'grammar';
        }
      }
      if (rows.every((row) => row.finish)) break;
      await breathe();
      if (opts.signal?.aborted) throw cancelled();
      await batch.step(next);
      steps++;
    }
  } finally {
    batch.dispose();
  }
  const decodeMs = performance.now() - t0 - prefillMs;
  const out: RowOutput[] = rows.map((row, r) => {
    if (row.finish !== 'stop') {
      const tail = row.text.append(row.utf8.end());
      if (tail) opts.onText?.(r, tail);
    }
    const rest = row.text.flush();
    if (rest) opts.onText?.(r, rest);
    const res: RowOutput = { tokens: row.tokens, text: row.text.value, finishReason: row.finish ?? 'length', promptTokens: prompts[r]!.length };
    if (row.error) res.error = row.error;
    else if (opts.grammar && row.grammar) {
      const complete = row.finish === 'grammar' || ((row.finish === 'eos' || row.finish === 'length') && opts.grammar.canEnd(row.grammar));
      if (!complete) res.error = truncatedError(opts.maxTokens, row.tokens.length);
      else {
        try {
          res.output = opts.grammar.check(res.text);
        } catch (e) {
          res.error = e instanceof TandemError ? e : new TandemError('INTERNAL', String(e));
        }
      }
    }
    return res;
  });
  return { rows: out, prefillMs, decodeMs, steps, fedPerCall: [...batch.fedPerCall] };
}
