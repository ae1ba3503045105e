import fs from 'node:fs';
import path from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import { TandemError } from '../common/errors.js';

/** One text, tokenized: ids with the model's special tokens (when asked), and whether it was cut. */
export interface Encoded {
  ids: number[];
  truncated: boolean;
}

/** A text pair (query, document), tokenized for a cross-encoder. */
export interface EncodedPair {
  ids: number[];
  /** Segment of each token: 0 for the first text and its specials, 1 for the second (per the post-processor). */
  typeIds: number[];
  truncated: boolean;
}

/** Texts longer than this (characters) are cut before tokenizing a pair. */
export const MAX_PAIR_TEXT_CHARS = 1_000_000;

/**
 * Lengths (without special tokens) the two texts of a pair keep under Hugging Face's
 * `longest_first` truncation to `budget` tokens, exactly as the Rust `tokenizers` crate computes
 * them (what every fast tokenizer and sentence-transformers' CrossEncoder use): when only the
 * longer text must shrink it is cut to what the shorter leaves; when both must, the first gets
 * floor(budget / 2) and the second the rest, except that the longer one (if any) gets the larger half.
 */
export function longestFirstLengths(n1: number, n2: number, budget: number): [number, number] {
  if (budget <= 0) return [0, 0];
  if (n1 + n2 <= budget) return [n1, n2];
  const swap = n1 > n2;
  let short = swap ? n2 : n1;
  let long: number;
  if (short > budget) long = short;
  else long = Math.max(short, budget - short);
  if (short + long > budget) {
    short = Math.floor(budget / 2);
    long = short + (budget % 2);
  }
  return swap ? [long, short] : [short, long];
}

/** Safety margin (tokens) when tokenizing a character prefix of a very long text: a word yields at most ~100 pieces. */
const PREFIX_MARGIN_TOKENS = 128;
/** Characters tokenized per allowed token before falling back to the whole text. */
const CHARS_PER_TOKEN_PREFIX = 24;

/**
 * A Hugging Face `tokenizer.json` tokenizer (WordPiece, BPE, Unigram: whatever the file says),
 * via the maintained @huggingface/tokenizers implementation, plus truncation the way Python's
 * `tokenizers` does it: the sequence is cut, the special tokens of the template are kept.
 */
/** Find the fixed ids a post-processor adds around a single sequence (see TextTokenizer.specialWrap). */
function probeWrap(tok: Tokenizer): { before: number[]; after: number[] } | undefined {
  const empty = tok.encode('', { add_special_tokens: true }).ids as number[];
  let found: { before: number[]; after: number[] } | undefined;
  for (const probe of ['a', 'the end', '1 2 3']) {
    const raw = tok.encode(probe, { add_special_tokens: false }).ids as number[];
    const full = tok.encode(probe, { add_special_tokens: true }).ids as number[];
    if (raw.length === 0 || full.length !== raw.length + empty.length) return undefined;
    let match: { before: number[]; after: number[] } | undefined;
    for (let i = 0; i <= empty.length && !match; i++) {
      const before = full.slice(0, i);
      const after = full.slice(i + raw.length);
      if (raw.every((id, k) => full[i + k] === id) && [...before, ...after].every((id, k) => id === empty[k])) match = { before, after };
    }
    if (!match || (found && (found.before.join() !== match.before.join() || found.after.join() !== match.after.join()))) return undefined;
    found = match;
  }
  return found;
}

export class TextTokenizer {
  readonly padId: number;
  /** The unknown token's id, when the tokenizer config names one. */
  readonly unkId: number | undefined;
  /** Number of special tokens the post-processor adds around one sequence. */
  readonly specialCount: number;
  /** Number of special tokens the post-processor adds around a pair ([CLS] a [SEP] b [SEP]: 3). */
  readonly pairSpecialCount: number;
  private readonly tok: Tokenizer;
  /** Added tokens (specials) by content: they map to their own ids before the vocabulary, as in HF's encode. */
  private readonly addedIds = new Map<string, number>();
  /**
   * The ids the post-processor puts around one sequence ([CLS] ... [SEP]), when it only adds fixed
   * ids before and after the text's own ids; undefined otherwise.
   */
  readonly specialWrap: { before: number[]; after: number[] } | undefined;

  private constructor(tok: Tokenizer, padId: number, unkId: number | undefined) {
    this.tok = tok;
    this.padId = padId;
    this.unkId = unkId;
    this.specialCount = tok.encode('', { add_special_tokens: true }).ids.length;
    for (const [id, t] of tok.get_added_tokens_decoder()) this.addedIds.set(t.content, id);
    this.pairSpecialCount = this.postProcessPair([], []).tokens.length;
    this.specialWrap = probeWrap(tok);
  }

  static load(dir: string): TextTokenizer {
    const read = (name: string, required: boolean): Record<string, unknown> => {
      const file = path.join(dir, name);
      if (!fs.existsSync(file)) {
        if (required) throw new TandemError('MODEL_INVALID', `model folder ${dir} has no ${name}`);
        return {};
      }
      try {
        return JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
      } catch (e) {
        throw new TandemError('MODEL_INVALID', `${file} is not valid JSON: ${(e as Error).message}`, { cause: e });
      }
    };
    const json = read('tokenizer.json', true);
    const config = read('tokenizer_config.json', false);
    let tok: Tokenizer;
    try {
      tok = new Tokenizer(json, config);
    } catch (e) {
      throw new TandemError('MODEL_INVALID', `cannot build a tokenizer from ${dir}/tokenizer.json: ${(e as Error).message}`, { cause: e });
    }
    const padToken = typeof config.pad_token === 'string' ? config.pad_token : undefined;
    const padId = (padToken !== undefined ? tok.token_to_id(padToken) : undefined) ?? 0;
    const unkToken = typeof config.unk_token === 'string' ? config.unk_token : undefined;
    return new TextTokenizer(tok, padId, unkToken !== undefined ? tok.token_to_id(unkToken) : undefined);
  }

  /**
   * Encode one text to at most `maxLength` ids (special tokens included when `special`).
   * Very long texts are tokenized on a character prefix that provably covers the kept tokens.
   */
  encode(text: string, maxLength: number, special = true): Encoded {
    const keep = special ? maxLength - this.specialCount : maxLength;
    if (keep < 1) throw new TandemError('INVALID_ARGUMENT', `max length ${maxLength} leaves no room for text`);
    const prefixChars = (keep + PREFIX_MARGIN_TOKENS) * CHARS_PER_TOKEN_PREFIX;
    if (text.length > prefixChars) {
      const head = this.tok.tokenize(text.slice(0, prefixChars), { add_special_tokens: false });
      if (head.length >= keep + PREFIX_MARGIN_TOKENS) return { ids: this.finish(head.slice(0, keep), special), truncated: true };
    }
    const enc = this.tok.encode(text, { add_special_tokens: special });
    if (enc.ids.length <= (special ? maxLength : keep)) return { ids: enc.ids, truncated: false };
    const tokens = this.tok.tokenize(text, { add_special_tokens: false });
    return { ids: this.finish(tokens.slice(0, keep), special), truncated: true };
  }

  /** Apply the template's special tokens to already-cut tokens and map them to ids. */
  private finish(tokens: string[], special: boolean): number[] {
    const pp = this.tok.post_processor;
    const withSpecial: string[] = special && pp ? (pp(tokens, null, { add_special_tokens: true }) as { tokens: string[] }).tokens : tokens;
    return withSpecial.map((t: string) => {
      const id = this.tok.token_to_id(t);
      if (id === undefined) throw new TandemError('INTERNAL', `token ${JSON.stringify(t)} has no id`);
      return id;
    });
  }

  /** The post-processor's pair template over already-cut tokens: tokens and their segment ids. */
  private postProcessPair(a: string[], b: string[]): { tokens: string[]; typeIds: number[] } {
    const pp = this.tok.post_processor;
    if (!pp) return { tokens: [...a, ...b], typeIds: [...a.map(() => 0), ...b.map(() => 1)] };
    const out = pp(a, b, true) as { tokens: string[]; token_type_ids?: number[] };
    return { tokens: out.tokens, typeIds: out.token_type_ids ?? out.tokens.map(() => 0) };
  }

  /**
   * Encode a (first, second) text pair the way Hugging Face does for cross-encoders:
   * `[CLS] first [SEP] second [SEP]` (or the model's own pair template), segment ids 0/1, and
   * `longest_first` truncation to `maxLength` tokens in all (see {@link longestFirstLengths}).
   */
  encodePair(first: string, second: string, maxLength: number): EncodedPair {
    const budget = maxLength - this.pairSpecialCount;
    if (budget < 2) throw new TandemError('INVALID_ARGUMENT', `max length ${maxLength} leaves no room for a text pair`);
    const a = this.tok.tokenize(first.length > MAX_PAIR_TEXT_CHARS ? first.slice(0, MAX_PAIR_TEXT_CHARS) : first, { add_special_tokens: false });
    const b = this.tok.tokenize(second.length > MAX_PAIR_TEXT_CHARS ? second.slice(0, MAX_PAIR_TEXT_CHARS) : second, { add_special_tokens: false });
    const [n1, n2] = longestFirstLengths(a.length, b.length, budget);
    const truncated = n1 < a.length || n2 < b.length || first.length > MAX_PAIR_TEXT_CHARS || second.length > MAX_PAIR_TEXT_CHARS;
    const { tokens, typeIds } = this.postProcessPair(n1 < a.length ? a.slice(0, n1) : a, n2 < b.length ? b.slice(0, n2) : b);
    return { ids: tokens.map((t) => this.tokenId(t)), typeIds, truncated };
  }

  /** A token string's id the way HF's encode maps it: added tokens, then the vocabulary, then the unknown token. */
  private tokenId(t: string): number {
    const id = this.addedIds.get(t) ?? this.tok.token_to_id(t) ?? this.unkId;
    if (id === undefined) throw new TandemError('INTERNAL', `token ${JSON.stringify(t)} has no id and the tokenizer has no unknown token`);
    return id;
  }

  /** Number of tokens of a text without special tokens (cheaper than encode: no ids, no mask). */
  countTokens(text: string): number {
    return this.tok.tokenize(text, { add_special_tokens: false }).length;
  }

  /** Id of a token string (e.g. the unknown token), if the vocabulary has it. */
  idOf(token: string): number | undefined {
    return this.tok.token_to_id(token);
  }

  /** Plain HF-style encode with no truncation (for parity tests and diagnostics). */
  rawEncode(text: string, special = true): number[] {
    return this.tok.encode(text, { add_special_tokens: special }).ids;
  }
}
