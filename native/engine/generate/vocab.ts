import fs from 'node:fs';
import path from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import { TandemError } from '../common/errors.js';

/**
 * What generation needs from a tokenizer: prompt ids, and the exact bytes each id stands for
 * (streaming decodes these bytes as UTF-8; constrained decoding matches them against a grammar).
 */
export interface TokenVocab {
  /** Ids 0..size-1 may have a token; the model's logits may be wider (those ids are never generated). */
  readonly size: number;
  /** Bytes of each id, or null for special tokens and ids without a token (never emitted as text). */
  readonly bytes: ReadonlyArray<Uint8Array | null>;
  /** Ids of special tokens (end of turn, padding, control tokens). */
  readonly special: ReadonlySet<number>;
  /** End-of-sequence ids the tokenizer declares (the model's generation_config may add more). */
  readonly eosIds: readonly number[];
  readonly padId: number;
  /** Token ids of a text; `special` applies the tokenizer's post-processor (e.g. a BOS token). */
  encode(text: string, special?: boolean): number[];
  /** The reference decoding (skipping special tokens), for tests and diagnostics. */
  decode(ids: readonly number[]): string;
}

/** GPT-2's byte <-> printable-char table used by byte-level BPE (`bytes_to_unicode`). */
function byteLevelDecoder(): Map<number, number> {
  const bs: number[] = [];
  for (let b = 0x21; b <= 0x7e; b++) bs.push(b);
  for (let b = 0xa1; b <= 0xac; b++) bs.push(b);
  for (let b = 0xae; b <= 0xff; b++) bs.push(b);
  const cs = [...bs];
  let n = 0;
  for (let b = 0; b < 256; b++) {
    if (!bs.includes(b)) {
      bs.push(b);
      cs.push(256 + n);
      n++;
    }
  }
  const charToByte = new Map<number, number>();
  bs.forEach((b, i) => charToByte.set(cs[i]!, b));
  return charToByte;
}

type DecoderKind = 'byte-level' | 'sentencepiece' | 'plain';

function decoderKind(json: Record<string, unknown>): DecoderKind {
  const types: string[] = [];
  const visit = (d: unknown): void => {
    if (!d || typeof d !== 'object') return;
    const o = d as { type?: unknown; decoders?: unknown };
    if (typeof o.type === 'string') types.push(o.type);
    if (Array.isArray(o.decoders)) o.decoders.forEach(visit);
  };
  visit(json.decoder);
  if (types.includes('ByteLevel')) return 'byte-level';
  if (types.includes('ByteFallback') || types.includes('Metaspace') || types.includes('Replace')) return 'sentencepiece';
  return 'plain';
}

const utf8 = new TextEncoder();

/** Bytes of one vocabulary entry under the tokenizer's decoder. */
function tokenToBytes(token: string, kind: DecoderKind, table: Map<number, number>): Uint8Array {
  if (kind === 'byte-level') {
    const out = new Uint8Array(token.length);
    let n = 0;
    for (const ch of token) {
      const b = table.get(ch.codePointAt(0)!);
      if (b === undefined) return utf8.encode(token); // not byte-level encoded (should not happen)
      out[n++] = b;
    }
    return out.subarray(0, n);
  }
  if (kind === 'sentencepiece') {
    const m = /^<0x([0-9A-Fa-f]{2})>$/.exec(token);
    if (m) return Uint8Array.of(parseInt(m[1]!, 16));
    return utf8.encode(token.replaceAll('\u2581', ' '));
  }
  return utf8.encode(token);
}

function readJson(file: string, required: boolean): Record<string, unknown> {
  if (!fs.existsSync(file)) {
    if (required) throw new TandemError('MODEL_INVALID', `${path.dirname(file)} has no ${path.basename(file)}`);
    return {};
  }
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
  } catch (e) {
    throw new TandemError('MODEL_INVALID', `${file} is not valid JSON: ${(e as Error).message}`, { cause: e });
  }
}

/** A token named in tokenizer_config.json: a string or an AddedToken object. */
export function configToken(config: Record<string, unknown>, key: string): string | undefined {
  const v = config[key];
  if (typeof v === 'string' && v) return v;
  if (v && typeof v === 'object' && typeof (v as { content?: unknown }).content === 'string') return (v as { content: string }).content;
  return undefined;
}

/** A Hugging Face `tokenizer.json` (byte-level BPE for Qwen2.5 and SmolLM2) through @huggingface/tokenizers. */
export class HfVocab implements TokenVocab {
  readonly size: number;
  readonly bytes: ReadonlyArray<Uint8Array | null>;
  readonly special: ReadonlySet<number>;
  readonly eosIds: readonly number[];
  readonly padId: number;
  /** tokenizer_config.json as read (chat_template, special token names). */
  readonly config: Record<string, unknown>;
  private readonly tok: Tokenizer;

  private constructor(tok: Tokenizer, json: Record<string, unknown>, config: Record<string, unknown>) {
    this.tok = tok;
    this.config = config;
    const kind = decoderKind(json);
    const table = byteLevelDecoder();
    const model = (json.model ?? {}) as { vocab?: unknown };
    const entries: Array<[string, number]> = [];
    if (model.vocab && typeof model.vocab === 'object' && !Array.isArray(model.vocab)) {
      for (const [t, id] of Object.entries(model.vocab as Record<string, number>)) entries.push([t, id]);
    } else if (Array.isArray(model.vocab)) {
      // Unigram: [[piece, score], ...] with the index as id.
      (model.vocab as Array<[string, number]>).forEach(([t], i) => entries.push([t, i]));
    }
    const added = Array.isArray(json.added_tokens) ? (json.added_tokens as Array<{ id: number; content: string; special?: boolean }>) : [];
    let size = 0;
    for (const [, id] of entries) size = Math.max(size, id + 1);
    for (const a of added) size = Math.max(size, a.id + 1);
    const bytes: Array<Uint8Array | null> = new Array<Uint8Array | null>(size).fill(null);
    for (const [t, id] of entries) bytes[id] = tokenToBytes(t, kind, table);
    const special = new Set<number>();
    for (const a of added) {
      if (a.special) {
        special.add(a.id);
        bytes[a.id] = null;
      } else bytes[a.id] = utf8.encode(a.content);
    }
    this.size = size;
    this.bytes = bytes;
    this.special = special;
    const idOf = (key: string): number | undefined => {
      const t = configToken(config, key);
      return t === undefined ? undefined : tok.token_to_id(t);
    };
    const eos = idOf('eos_token');
    this.eosIds = eos === undefined ? [] : [eos];
    this.padId = idOf('pad_token') ?? eos ?? 0;
  }

  static load(dir: string): HfVocab {
    const json = readJson(path.join(dir, 'tokenizer.json'), true);
    const config = readJson(path.join(dir, 'tokenizer_config.json'), false);
    let tok: Tokenizer;
    try {
      tok = new Tokenizer(json, config);
    } catch (e) {
      throw new TandemError('MODEL_INVALID', `cannot build a tokenizer from ${dir}/tokenizer.json: ${(e as Error).message}`, { cause: e });
    }
    return new HfVocab(tok, json, config);
  }

  encode(text: string, special = false): number[] {
    return this.tok.encode(text, { add_special_tokens: special }).ids;
  }

  decode(ids: readonly number[]): string {
    if (ids.length === 0) return '';
    return this.tok.decode([...ids], { skip_special_tokens: true });
  }

  idOf(token: string): number | undefined {
    return this.tok.token_to_id(token);
  }
}

/** A character vocabulary (`{"a": 4, ...}`), e.g. the char-level LSTM's `vocab.fixed.json`. */
export class CharVocab implements TokenVocab {
  readonly size: number;
  readonly bytes: ReadonlyArray<Uint8Array | null>;
  readonly special: ReadonlySet<number> = new Set();
  readonly eosIds: readonly number[] = [];
  readonly padId = 0;
  private readonly ids = new Map<string, number>();

  constructor(map: Record<string, number>) {
    let size = 0;
    for (const [ch, id] of Object.entries(map)) {
      if ([...ch].length !== 1) throw new TandemError('MODEL_INVALID', `char vocabulary entry ${JSON.stringify(ch)} is not one character`);
      this.ids.set(ch, id);
      size = Math.max(size, id + 1);
    }
    const bytes: Array<Uint8Array | null> = new Array<Uint8Array | null>(size).fill(null);
    for (const [ch, id] of this.ids) bytes[id] = utf8.encode(ch);
    this.size = size;
    this.bytes = bytes;
  }

  static load(file: string): CharVocab {
    return new CharVocab(readJson(file, true) as Record<string, number>);
  }

  encode(text: string): number[] {
    const out: number[] = [];
    for (const ch of text) {
      const id = this.ids.get(ch);
      if (id === undefined) throw new TandemError('INVALID_INPUT', `the character ${JSON.stringify(ch)} is not in this model's vocabulary`);
      out.push(id);
    }
    return out;
  }

  decode(ids: readonly number[]): string {
    const dec = new TextDecoder();
    return ids.map((i) => (this.bytes[i] ? dec.decode(this.bytes[i]!) : '')).join('');
  }
}
