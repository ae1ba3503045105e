import { TandemError } from '../common/errors.js';
import type { GrammarState, JsonGrammar } from './json-grammar.js';
import type { CausalLm } from './lm.js';
import { Rng, Sampler, type SamplingParams } from './sampling.js';
import { StopText, Utf8Stream } from './text-stream.js';
import { newMask, setBit } from './token-trie.js';
import { PromptLookup } from './prompt-lookup.js';
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
  /** false: no prompt-lookup drafts under greedy decoding (benchmarks and tests only). */
  lookup?: boolean;
}

export interface RowOutput {
  /** Generated ids (an ending EOS included). */
  tokens: number[];
  text: string;
  finishReason: FinishReason;
  promptTokens: number;
  /** The parsed, validated JSON under a grammar. */
  output?: unknown;
  /** Under a grammar: max tokens ran low and the mask dropped tokens the schema allows, steering to a short valid end. */
  budgetForcedClose?: boolean;
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
  /** Prompt-lookup draft tokens checked, and how many of them greedy decoding kept. */
  drafted: number;
  draftKept: number;
}

interface RowState {
  tokens: number[];
  rng: Rng;
  utf8: Utf8Stream;
  text: StopText;
  grammar: GrammarState | undefined;
  finish: FinishReason | undefined;
  budgetForced: boolean;
  error?: TandemError;
}

function cancelled(): TandemError {
  return new TandemError('CANCELLED', 'generation cancelled');
}

/** Let queued messages (a cancel) in between steps. */
const breathe = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** A schema whose shortest instance cannot fit in max tokens: refused before anything is generated. */
export function budgetTooSmallError(maxTokens: number, minTokens: number): TandemError {
  return new TandemError(
    'INVALID_INPUT',
    `this schema needs at least ${minTokens} tokens (max tokens ${maxTokens}): its shortest instance is ${minTokens} bytes, counted one token per byte; raise max tokens to ${minTokens} or more, or ask for less`,
    { data: { reason: 'budget', maxTokens, minTokens } },
  );
}

export function truncatedError(maxTokens: number, generated: number): TandemError {
  return new TandemError('INVALID_INPUT', `truncated: max tokens (${maxTokens}) ran out before the JSON value was complete (${generated} tokens generated); raise max tokens or ask for less`, {
    data: { reason: 'truncated', maxTokens },
  });
}

/**
 * Generate continuations for a batch of tokenized prompts: one prefill, then one token per row per
 * step through the model's cache (several per step when prompt-lookup drafts are kept). Rows that
 * finish keep a filler token until the batch ends.
 */
export async function runGeneration(lm: CausalLm, vocab: TokenVocab, prompts: readonly number[][], opts: LoopOptions): Promise<LoopResult> {
  if (!Number.isInteger(opts.maxTokens) || opts.maxTokens < 1) throw new TandemError('INVALID_ARGUMENT', `max tokens must be a positive integer, got ${opts.maxTokens}`);
  if (opts.signal?.aborted) throw cancelled();
  // Never start what cannot end valid: the budget mask below keeps every run within reach of an end.
  if (opts.grammar?.budgeted && opts.grammar.minBytes > opts.maxTokens) throw budgetTooSmallError(opts.maxTokens, opts.grammar.minBytes);
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
    budgetForced: false,
  }));
  const sampler = new Sampler();
  /** Scratch for a grammar mask plus EOS (reused at every step). */
  const withEos = newMask(lm.vocabSize);
  /** The row's next token from these logits under its mask (-1: nothing allowed); `left`: tokens allowed from here on, this one included. */
  const choose = (row: RowState, logits: Float32Array, left: number): number => {
    let mask = free;
    if (opts.grammar && row.grammar) {
      // Only tokens after which the shortest completion still fits in the tokens left after them.
      const within = opts.grammar.maskWithin(row.grammar, left - 1);
      mask = within.mask;
      if (within.forced) row.budgetForced = true;
      if (eos.length && opts.grammar.canEnd(row.grammar)) {
        const words = Math.min(mask.length, withEos.length);
        withEos.set(mask.subarray(0, words));
        withEos.fill(0, words);
        for (const id of eos) setBit(withEos, id);
        mask = withEos;
      }
    }
    return sampler.pick(logits, lm.vocabSize, mask, opts.sampling, row.rng);
  };
  /** Take a chosen token: output, streamed text, stop strings, grammar state, end conditions. */
  const accept = (r: number, id: number): void => {
    const row = rows[r]!;
    row.tokens.push(id);
    if (eosSet.has(id)) {
      row.finish = 'eos';
      return;
    }
    const bytes = vocab.bytes[id];
    if (!bytes) return;
    const shown = row.text.append(row.utf8.push(bytes));
    if (shown) opts.onText?.(r, shown);
    if (row.text.stopped) row.finish = 'stop';
    if (opts.grammar && row.grammar) {
      row.grammar = opts.grammar.advance(row.grammar, bytes);
      if (opts.grammar.isDone(row.grammar)) row.finish = 'grammar';
    }
  };
  const t0 = performance.now();
  const useCache = opts.useCache ?? true;
  const batch = await lm.start(prompts, { useCache });
  const prefillMs = performance.now() - t0;
  // Greedy decoding of one prompt checks prompt-lookup drafts (prompt-lookup.ts): same tokens, fewer calls.
  const greedy = (opts.sampling.temperature ?? 0) === 0;
  const lookup = greedy && useCache && prompts.length === 1 && opts.lookup !== false && batch.feedTokens && batch.rewind ? new PromptLookup() : undefined;
  const context = lookup ? [...prompts[0]!] : [];
  const width = lm.vocabSize;
  let steps = 0;
  const next: number[] = new Array<number>(rows.length);
  try {
    for (let generated = 0; ; ) {
      if (opts.signal?.aborted) throw cancelled();
      next.fill(vocab.padId);
      for (let r = 0; r < rows.length; r++) {
        const row = rows[r]!;
        if (row.finish) continue;
        if (generated >= opts.maxTokens) {
          row.finish = 'length';
          continue;
        }
        const id = choose(row, batch.logits.subarray(r * width, (r + 1) * width), opts.maxTokens - generated);
        if (id < 0 && opts.grammar && row.grammar && opts.grammar.canEnd(row.grammar)) {
          // Complete, and no token fits what is left (no EOS to end with): the value ends here.
          row.finish = 'grammar';
          continue;
        }
        if (id < 0) {
          row.finish = 'grammar';
          row.error = new TandemError('INTERNAL', 'constrained decoding reached a state where no token is allowed');
          continue;
        }
        next[r] = id;
        accept(r, id);
      }
      generated++;
      // Out of tokens: no model call for logits nobody will read.
      if (generated >= opts.maxTokens) for (const row of rows) row.finish ??= 'length';
      if (rows.every((row) => row.finish)) break;
      await breathe();
      if (opts.signal?.aborted) throw cancelled();
      // The last token allowed is never fed: drafts stop one short of max tokens.
      if (lookup) context.push(next[0]!);
      const drafts = lookup ? lookup.draft(context, opts.maxTokens - generated - 1) : [];
      if (lookup && drafts.length > 0) {
        // One call for the chosen token and the draft; keep the draft while greedy agrees with it.
        const out = await batch.feedTokens!([next[0]!, ...drafts]);
        steps++;
        const row = rows[0]!;
        let kept = 0;
        while (kept < drafts.length && !row.finish && choose(row, out.subarray(kept * width, (kept + 1) * width), opts.maxTokens - generated) === drafts[kept]) {
          accept(0, drafts[kept]!);
          context.push(drafts[kept]!);
          kept++;
          generated++;
        }
        lookup.record(drafts.length, kept);
        batch.rewind!(drafts.length - kept, out.subarray(kept * width, (kept + 1) * width));
        continue;
      }
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
      if (row.budgetForced) res.budgetForcedClose = true;
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
  return { rows: out, prefillMs, decodeMs, steps, fedPerCall: [...batch.fedPerCall], drafted: lookup?.drafted ?? 0, draftKept: lookup?.accepted ?? 0 };
}
