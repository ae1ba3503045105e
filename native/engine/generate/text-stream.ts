/**
 * Incremental UTF-8: byte-level tokens may end in the middle of a character (an emoji is often
 * two or three tokens). Bytes are decoded as they come; an incomplete character waits for the
 * next token, so the text handed out never holds a replacement character that the full decode
 * would not have.
 */
export class Utf8Stream {
  private readonly dec = new TextDecoder('utf-8', { fatal: false });

  push(bytes: Uint8Array): string {
    return this.dec.decode(bytes, { stream: true });
  }

  /** The rest (an incomplete trailing character becomes U+FFFD, as in Hugging Face's decode). */
  end(): string {
    return this.dec.decode();
  }
}

/**
 * The text of one generated sequence with stop strings: `append` returns the part that is safe to
 * show now (nothing that could still turn out to be the start of a stop string), and reports
 * when a stop string has appeared (the text is cut before it).
 */
export class StopText {
  private text = '';
  private emitted = 0;
  stopped = false;

  constructor(private readonly stops: readonly string[]) {}

  /** Add decoded text; returns what can be streamed now. */
  append(piece: string): string {
    if (this.stopped || piece.length === 0) return '';
    const from = Math.max(0, this.text.length - this.maxStop() + 1);
    this.text += piece;
    let cut = -1;
    for (const s of this.stops) {
      const i = this.text.indexOf(s, from);
      if (i >= 0 && (cut < 0 || i < cut)) cut = i;
    }
    if (cut >= 0) {
      this.text = this.text.slice(0, cut);
      this.stopped = true;
      return this.flush();
    }
    const safe = this.text.length - this.heldBack();
    if (safe <= this.emitted) return '';
    const out = this.text.slice(this.emitted, safe);
    this.emitted = safe;
    return out;
  }

  /** Everything not yet streamed (at the end of generation). */
  flush(): string {
    const out = this.text.slice(this.emitted);
    this.emitted = this.text.length;
    return out;
  }

  get value(): string {
    return this.text;
  }

  private maxStop(): number {
    let m = 1;
    for (const s of this.stops) m = Math.max(m, s.length);
    return m;
  }

  /** Length of the longest suffix of the text that is a proper prefix of a stop string. */
  private heldBack(): number {
    let best = 0;
    for (const s of this.stops) {
      for (let k = Math.min(s.length - 1, this.text.length); k > best; k--) {
        if (this.text.endsWith(s.slice(0, k))) {
          best = k;
          break;
        }
      }
    }
    return best;
  }
}
