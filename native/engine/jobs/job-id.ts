import { randomBytes } from 'node:crypto';

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const TIME_CHARS = 10;
const RANDOM_CHARS = 16;

/**
 * ULID-style job ids: 10 characters of millisecond timestamp then 16 random characters, Crockford
 * base32, so ids sort by creation time as plain strings. Monotonic per generator: ids made in the
 * same millisecond (or while the clock steps back) increment the random part, keeping the order.
 */
export class JobIdGenerator {
  private lastMs = -1;
  private lastRandom: number[] = [];

  /**
   * The next id; with `floor` (the greatest id already stored, read inside the inserting
   * transaction) it is also greater than that, so ids from several generators or processes keep
   * creation order even within one millisecond.
   */
  next(nowMs: number, floor?: string | null): string {
    const id = this.fresh(nowMs);
    if (!floor || id > floor) return id;
    const digits = Array.from(floor.slice(TIME_CHARS), (c) => CROCKFORD.indexOf(c));
    if (digits.length !== RANDOM_CHARS || digits.some((d) => d < 0)) return id; // not one of ours
    this.lastMs = decodeTime(floor.slice(0, TIME_CHARS));
    if (!increment(digits)) {
      this.lastMs += 1;
      digits.fill(0);
    }
    this.lastRandom = digits;
    return encodeTime(this.lastMs) + digits.map((d) => CROCKFORD[d]).join('');
  }

  private fresh(nowMs: number): string {
    if (nowMs > this.lastMs) {
      this.lastMs = Math.floor(nowMs);
      const bytes = randomBytes(RANDOM_CHARS);
      this.lastRandom = Array.from(bytes, (b) => b & 31);
    } else if (!increment(this.lastRandom)) {
      this.lastMs += 1; // 2^80 ids in one millisecond: borrow the next one
      this.lastRandom = Array.from(randomBytes(RANDOM_CHARS), (b) => b & 31);
    }
    return encodeTime(this.lastMs) + this.lastRandom.map((d) => CROCKFORD[d]).join('');
  }
}

function increment(digits: number[]): boolean {
  for (let i = digits.length - 1; i >= 0; i--) {
    if (digits[i]! < 31) {
      digits[i] = digits[i]! + 1;
      return true;
    }
    digits[i] = 0;
  }
  return false;
}

function encodeTime(ms: number): string {
  let t = ms;
  let s = '';
  for (let i = 0; i < TIME_CHARS; i++) {
    s = CROCKFORD[t % 32]! + s;
    t = Math.floor(t / 32);
  }
  return s;
}

function decodeTime(s: string): number {
  let t = 0;
  for (const c of s) t = t * 32 + CROCKFORD.indexOf(c);
  return t;
}

export const JOB_ID_PATTERN = /^[0-9A-HJKMNP-TV-Z]{26}$/;
