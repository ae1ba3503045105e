import { randomInt } from 'node:crypto';
import { TandemError, toWire, type WireError } from '../common/errors.js';
import type { DeviceReport, DeviceRequest } from '../inference/device.js';
import type { Variant } from '../models/catalog.js';
import type { ChatMessage } from './chat-template.js';
import { runGeneration, type FinishReason } from './generate-loop.js';
import { findGenerator, LoadedGenerator } from './generator-model.js';
import { JsonGrammar } from './json-grammar.js';
import { checkSamplingParams } from './sampling.js';

export const DEFAULT_MAX_TOKENS = 256;

/** One generation job: a prompt or a batch of prompts for the same model and settings. */
export interface GenerateRequest {
  model: string;
  variant?: Variant;
  device?: DeviceRequest;
  allowFallback?: boolean;
  threads?: number;
  /** Each prompt is a user message (under the model's chat template) or raw text (`chat: false`). */
  prompts: string[];
  /** Default: true when the model has a chat template. */
  chat?: boolean;
  /** A system message (chat only; the template's default otherwise). */
  system?: string;
  /** JSON Schema: the output is constrained to valid JSON under it. */
  schema?: object;
  /** Decode a schema whose keywords the grammar cannot all enforce without them, checking them on the output (default: refuse it, naming the keyword). */
  lenient?: boolean;
  maxTokens?: number;
  /** 0 / absent: greedy. */
  temperature?: number;
  topK?: number;
  topP?: number;
  /** Absent: a random seed, reported in the result. */
  seed?: number;
  stop?: string[];
  /** false: no KV cache, the whole sequence is recomputed every step (benchmarks). */
  useCache?: boolean;
  /** Never end at an EOS token: exactly max tokens (benchmarks). */
  ignoreEos?: boolean;
  /** false: no prompt-lookup drafts under greedy decoding (benchmarks; the output is the same). */
  lookup?: boolean;
}

export interface GenerateOutput {
  text: string;
  /** Parsed JSON (with a schema), else null. */
  output: unknown;
  finishReason: FinishReason;
  promptTokens: number;
  completionTokens: number;
  /** With a schema: max tokens ran low and the decoder steered to the shortest valid end (tokens the schema allows were masked). */
  budgetForcedClose?: boolean;
  error?: WireError;
}

export interface GenerateResult {
  model: string;
  variant: Variant;
  device: DeviceReport;
  /** Model load time paid by this request (0 when it was already loaded). */
  loadMs: number;
  /** Prefill + decode. */
  inferenceMs: number;
  /**
   * Constrained decoding's preparation paid by this request: the schema's compile (0 when this engine
   * compiled it already) and, on the first constrained request of a model, its vocabulary index and
   * the grammar warm-up. Absent without a schema.
   */
  grammarMs?: number;
  prefillMs: number;
  seed: number;
  /** Model calls after the prefill, and positions fed per call (prefill first): the cache at work. */
  steps: number;
  fedPerCall: number[];
  /** Lenient decoding: the schema's keywords the grammar does not enforce (checked on the output), with their JSON pointers. */
  checkedAfter?: Array<{ keyword: string; pointer: string }>;
  /** Keywords enforced on a subset of their values (some valid values are never written), with their JSON pointers. */
  narrowed?: Array<{ keyword: string; pointer: string }>;
  /** Greedy, one prompt: prompt-lookup draft tokens checked by the model, and how many it kept. */
  drafted: number;
  draftKept: number;
  outputs: GenerateOutput[];
}

export interface GenerateControl {
  signal?: AbortSignal;
  onText?: (row: number, text: string) => void;
}

const GRAMMAR_CACHE = 16;

/**
 * The generation engine a worker hosts: keeps the last model loaded (and its vocabulary index and
 * compiled schemas) between requests, so only the first request pays the load.
 */
export class GenerateEngine {
  private loaded: { key: string; gen: LoadedGenerator } | undefined;
  private readonly grammars = new Map<string, JsonGrammar>();

  /**
   * Warm the grammar code up when a model's vocabulary index is built (json-warmup.ts: about 1 s
   * once, then no first-use mask runs unoptimized). On unless TANDEM_GRAMMAR_WARMUP=0, which the
   * one-shot CLI sets (createEngine, host 'cli'): a process that generates once would pay more than
   * its masks gain.
   */
  private readonly warmUp: boolean;

  constructor(private readonly env: NodeJS.ProcessEnv = process.env) {
    this.warmUp = env.TANDEM_GRAMMAR_WARMUP !== '0';
  }

  /** Load (or reuse) the request's model. */
  async preload(req: Omit<GenerateRequest, 'prompts'>): Promise<{ gen: LoadedGenerator; loadMs: number }> {
    const found = findGenerator(req.model, this.env);
    const variant = req.variant ?? found.defaultVariant;
    const key = JSON.stringify([found.dir, variant, req.device ?? 'auto', req.allowFallback ?? true, req.threads ?? 0]);
    if (this.loaded?.key === key) return { gen: this.loaded.gen, loadMs: 0 };
    if (this.loaded) {
      await this.loaded.gen.dispose();
      this.loaded = undefined;
      this.grammars.clear();
    }
    const t0 = performance.now();
    const gen = await LoadedGenerator.load(found, {
      variant,
      ...(req.device ? { device: req.device } : {}),
      ...(req.allowFallback !== undefined ? { allowFallback: req.allowFallback } : {}),
      ...(req.threads ? { threads: req.threads } : {}),
    });
    this.loaded = { key, gen };
    return { gen, loadMs: performance.now() - t0 };
  }

  private grammarFor(gen: LoadedGenerator, schema: object, lenient: boolean): JsonGrammar {
    const key = `${lenient ? 'lenient' : 'strict'}:${JSON.stringify(schema)}`;
    const hit = this.grammars.get(key);
    if (hit) return hit;
    const g = new JsonGrammar(schema, gen.tokenIndex(this.warmUp), { lenient });
    this.grammars.set(key, g);
    if (this.grammars.size > GRAMMAR_CACHE) this.grammars.delete(this.grammars.keys().next().value!);
    return g;
  }

  /** The prompt's token ids: a user turn under the chat template, or the raw text. */
  promptIds(gen: LoadedGenerator, prompt: string, req: Pick<GenerateRequest, 'chat' | 'system'>): number[] {
    const chat = req.chat ?? gen.chat !== undefined;
    if (chat && !gen.chat) throw new TandemError('INVALID_ARGUMENT', `model ${gen.id} has no chat template; pass the prompt as raw text (chat: false / --raw)`);
    if (chat && gen.chat) {
      const messages: ChatMessage[] = [...(req.system !== undefined ? [{ role: 'system', content: req.system }] : []), { role: 'user', content: prompt }];
      return gen.vocab.encode(gen.chat.render(messages, true), false);
    }
    return gen.vocab.encode(prompt, true);
  }

  async generate(req: GenerateRequest, ctl: GenerateControl = {}): Promise<GenerateResult> {
    if (!Array.isArray(req.prompts) || req.prompts.length === 0) throw new TandemError('INVALID_ARGUMENT', 'give at least one prompt');
    for (const p of req.prompts) if (typeof p !== 'string') throw new TandemError('INVALID_ARGUMENT', 'prompts must be strings');
    const sampling = { ...(req.temperature !== undefined ? { temperature: req.temperature } : {}), ...(req.topK !== undefined ? { topK: req.topK } : {}), ...(req.topP !== undefined ? { topP: req.topP } : {}) };
    checkSamplingParams(sampling);
    const maxTokens = req.maxTokens ?? DEFAULT_MAX_TOKENS;
    if (!Number.isInteger(maxTokens) || maxTokens < 1) throw new TandemError('INVALID_ARGUMENT', `max tokens must be a positive integer, got ${maxTokens}`);
    if (req.seed !== undefined && (!Number.isSafeInteger(req.seed) || req.seed < 0)) throw new TandemError('INVALID_ARGUMENT', `seed must be a non-negative integer, got ${req.seed}`);
    if (req.schema !== undefined && (typeof req.schema !== 'object' || req.schema === null || Array.isArray(req.schema))) throw new TandemError('INVALID_ARGUMENT', 'schema must be a JSON Schema object');
    const { gen, loadMs } = await this.preload(req);
    const g0 = performance.now();
    const grammar = req.schema ? this.grammarFor(gen, req.schema, req.lenient === true) : undefined;
    const grammarMs = performance.now() - g0;
    const prompts = req.prompts.map((p) => this.promptIds(gen, p, req));
    for (const p of prompts) if (p.length === 0) throw new TandemError('INVALID_INPUT', 'the prompt is empty');
    const seed = req.seed ?? randomInt(0, 2 ** 31);
    const t0 = performance.now();
    const r = await runGeneration(gen.lm, gen.vocab, prompts, {
      maxTokens,
      sampling,
      seed,
      eosIds: req.ignoreEos ? [] : gen.eosIds,
      ...(req.stop ? { stop: req.stop } : {}),
      ...(grammar ? { grammar } : {}),
      ...(ctl.signal ? { signal: ctl.signal } : {}),
      ...(ctl.onText ? { onText: ctl.onText } : {}),
      ...(req.useCache !== undefined ? { useCache: req.useCache } : {}),
      ...(req.lookup !== undefined ? { lookup: req.lookup } : {}),
    });
    return {
      model: gen.id,
      variant: gen.variant,
      device: gen.lm.device,
      loadMs,
      inferenceMs: performance.now() - t0,
      ...(grammar ? { grammarMs } : {}),
      prefillMs: r.prefillMs,
      seed,
      steps: r.steps,
      fedPerCall: r.fedPerCall,
      drafted: r.drafted,
      draftKept: r.draftKept,
      ...(grammar && grammar.checkedAfter.length ? { checkedAfter: grammar.checkedAfter.map((d) => ({ keyword: d.keyword, pointer: d.pointer })) } : {}),
      ...(grammar && grammar.narrowed.length ? { narrowed: grammar.narrowed.map((d) => ({ keyword: d.keyword, pointer: d.pointer })) } : {}),
      outputs: r.rows.map((row) => {
        const o: GenerateOutput = { text: row.text, output: row.output ?? null, finishReason: row.finishReason, promptTokens: row.promptTokens, completionTokens: row.tokens.length };
        if (row.budgetForcedClose) o.budgetForcedClose = true;
        if (row.error) o.error = toWire(row.error);
        return o;
      }),
    };
  }

  async dispose(): Promise<void> {
    await this.loaded?.gen.dispose();
    this.loaded = undefined;
    this.grammars.clear();
  }
}
