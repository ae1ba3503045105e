/**
 * Prompt-lookup drafting for greedy decoding (the "prompt lookup decoding" of Hugging Face's
 * `prompt_lookup_num_tokens`): when the text so far ends with an n-gram that occurred earlier (in
 * the prompt or in the output), the tokens that followed it are a cheap guess of what comes next.
 * The model checks a whole guess in one call (the weights are read once for several positions),
 * and the loop keeps exactly the tokens greedy decoding would have picked, so the output is the
 * same; only the number of model calls changes. Extraction into JSON, quoting, code edits and
 * repetitive text copy a lot from the context and gain most; free prose gains little.
 */
export interface LookupOptions {
  /** Longest n-gram matched first (default 3); shorter ones down to `minNgram` are tried next. */
  maxNgram?: number;
  /** Shortest n-gram that counts as a match (default 2: single tokens match too often by chance). */
  minNgram?: number;
  /** Draft length bounds (default 1..10); the length adapts to how much of recent drafts was kept. */
  minDraft?: number;
  maxDraft?: number;
}

export class PromptLookup {
  private readonly maxNgram: number;
  private readonly minNgram: number;
  private readonly minDraft: number;
  private readonly maxDraft: number;
  /** Current draft length: doubled after a fully kept draft, cut to what was kept otherwise. */
  private length: number;
  drafted = 0;
  accepted = 0;

  constructor(opts: LookupOptions = {}) {
    this.maxNgram = opts.maxNgram ?? 3;
    this.minNgram = opts.minNgram ?? 2;
    this.minDraft = opts.minDraft ?? 1;
    this.maxDraft = opts.maxDraft ?? 10;
    this.length = Math.min(4, this.maxDraft);
  }

  /**
   * Up to `limit` tokens that followed the most recent earlier occurrence of the context's last
   * n-gram (longest n first); empty when nothing matches.
   */
  draft(context: readonly number[], limit: number): number[] {
    const want = Math.min(limit, this.length);
    if (want <= 0) return [];
    const len = context.length;
    for (let n = Math.min(this.maxNgram, len - 1); n >= this.minNgram; n--) {
      // Scan right to left for an earlier occurrence of context[len-n .. len-1].
      for (let start = len - n - 1; start >= 0; start--) {
        let k = 0;
        while (k < n && context[start + k] === context[len - n + k]) k++;
        if (k < n) continue;
        // What followed it; past the end of the context the copy continues from its own start
        // (a repeating pattern keeps repeating, as in LZ77).
        const from = start + n;
        const out: number[] = [];
        for (let i = 0; i < want; i++) out.push(from + i < len ? context[from + i]! : out[from + i - len]!);
        return out;
      }
    }
    return [];
  }

  /** Record how many of `drafted` tokens the model agreed with; adapts the next draft's length. */
  record(drafted: number, accepted: number): void {
    this.drafted += drafted;
    this.accepted += accepted;
    if (accepted === drafted) this.length = Math.min(this.maxDraft, this.length * 2);
    else this.length = Math.max(this.minDraft, accepted + 1);
  }
}
