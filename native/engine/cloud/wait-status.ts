import type { BackendId, FunctionCapability } from '../../../cloud-adapters/contract.js';
import type { CallPhaseEvent } from '../../../cloud-adapters/http/http-client.js';

/**
 * What a remote call is doing while the user waits, in one line the CLI prints every few seconds and
 * the UI shows as the job's phase: "waiting for Modal generate: cold start 0:42 (typical 5-7 min for
 * qwen-32b)". The client cannot see inside the backend, so the phase is what it knows: queued for a
 * concurrency slot, connecting, then (the request is on the server) a cold start while the function
 * was not seen warm within its scale-down window and the wait is within its known cold-start range,
 * else running; 303 polls and retries are counted beside it.
 */

export type WaitPhase = 'queued' | 'connecting' | 'cold start' | 'running' | 'retrying';

export interface WaitStatus {
  jobId: string;
  backend: BackendId;
  function: string;
  phase: WaitPhase;
  /** Time in this phase (queued, connecting, retrying) or since the request reached the server (cold start, running). */
  elapsedMs: number;
  /** Since the wait began (queue included). */
  totalMs: number;
  /** 303 polls so far. */
  polls: number;
  /** What the estimate assumed. */
  expected: 'warm' | 'cold';
  /** The line to print or show. */
  line: string;
}

export const BACKEND_NAMES: Record<BackendId, string> = { modal: 'Modal', 'cloud-run': 'Cloud Run' };

/** 42_000 -> "0:42", 754_000 -> "12:34", 3_725_000 -> "1:02:05". */
export function formatClock(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

/** 600 -> "10 min", 45 -> "45 s", 90 -> "1.5 min". */
export function formatSeconds(s: number): string {
  if (s < 120) return `${Math.round(s * 10) / 10} s`;
  const m = s / 60;
  return `${Number.isInteger(m) ? m : m.toFixed(1)} min`;
}

/** The cold start a function is known to take: "5-7 min", "10-14 s", "45 s". */
export function typicalColdStart(fn: FunctionCapability): string {
  const [lo, hi] = fn.coldStartRangeS ?? [fn.coldStartS, fn.coldStartS];
  if (lo === hi) return formatSeconds(lo);
  if (hi >= 120) return `${Math.round(lo / 60)}-${Math.round(hi / 60)} min`;
  return `${lo}-${hi} s`;
}

/** Longest cold start the function is known to take, ms. */
function coldMaxMs(fn: FunctionCapability): number {
  return (fn.coldStartRangeS?.[1] ?? fn.coldStartS) * 1000;
}

export interface WaitTrackerOptions {
  jobId: string;
  backend: BackendId;
  fn: FunctionCapability;
  /** What was asked for, for the line ("qwen-32b", "Boltz-2", "instructor-xl"). */
  subject: string;
  expected: 'warm' | 'cold';
  emit: (s: WaitStatus) => void;
  /** Between two emissions of the same phase (phase changes are emitted at once). */
  intervalMs: number;
  now?: () => number;
}

/** Follows one job's remote calls (fed with the HTTP client's phase events) and emits its status line. */
export class WaitTracker {
  private readonly now: () => number;
  private readonly startedAt: number;
  private phase: WaitPhase = 'queued';
  private phaseAt: number;
  /** When the current request first reached the server (cold start / running are counted from it). */
  private serverAt: number | null = null;
  private polls = 0;
  private retry: { status: number | null; code: string; attempt: number; until: number } | null = null;
  private timer: NodeJS.Timeout | null = null;
  private lastKey = '';
  private lastEmitAt = 0;
  private slots: { busy: number; cap: number } | null = null;

  constructor(private readonly o: WaitTrackerOptions) {
    this.now = o.now ?? Date.now;
    this.startedAt = this.now();
    this.phaseAt = this.startedAt;
    this.timer = setInterval(() => {
      // a line at least every intervalMs: the timer adds one only when no change said something lately
      if (this.now() - this.lastEmitAt >= o.intervalMs * 0.9) this.emit(true);
    }, Math.max(50, o.intervalMs));
    this.timer.unref();
  }

  /** Waiting for a concurrency slot of the function (busy of cap in flight). */
  queued(busy: number, cap: number): void {
    this.slots = { busy, cap };
    this.set('queued');
  }

  /** A new call begins (after the slot): connecting until the server has it. */
  callStarted(): void {
    this.serverAt = null;
    this.polls = 0;
    this.set('connecting');
  }

  /** The HTTP client's events for the current call. */
  onPhase = (e: CallPhaseEvent): void => {
    const t = this.now();
    if (e.type === 'attempt') {
      if (e.polls === 0 && this.serverAt === null) this.set('connecting');
      return;
    }
    if (e.type === 'connected') {
      this.serverAt ??= t;
      this.retry = null;
      this.set(this.serverPhase(t));
      return;
    }
    if (e.type === 'redirect') {
      this.polls = e.polls;
      this.set(this.serverPhase(t), true);
      return;
    }
    this.retry = { status: e.status, code: e.code, attempt: e.attempt, until: t + e.delayMs };
    this.set('retrying', true);
  };

  /** The call is over: no more lines. */
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** The status now (for tests and the first line). */
  status(): WaitStatus {
    const t = this.now();
    if ((this.phase === 'cold start' || this.phase === 'running') && this.serverAt !== null) this.phase = this.serverPhase(t);
    const since = this.phase === 'cold start' || this.phase === 'running' ? (this.serverAt ?? this.phaseAt) : this.phaseAt;
    const elapsedMs = Math.max(0, t - since);
    return { jobId: this.o.jobId, backend: this.o.backend, function: this.o.fn.name, phase: this.phase, elapsedMs, totalMs: t - this.startedAt, polls: this.polls, expected: this.o.expected, line: this.line(elapsedMs, t) };
  }

  /**
   * On the server: a cold start while the function was expected cold and the wait is within its
   * known cold-start range, or expected warm but already much longer than a warm call (it scaled
   * down earlier than its window); running otherwise.
   */
  private serverPhase(t: number): WaitPhase {
    const waited = t - (this.serverAt ?? t);
    const warmMs = this.o.fn.typicalGpuS * 1000;
    if (this.o.expected === 'cold') return waited < coldMaxMs(this.o.fn) + warmMs ? 'cold start' : 'running';
    return waited > 2 * warmMs + 10_000 && waited < coldMaxMs(this.o.fn) ? 'cold start' : 'running';
  }

  private line(elapsedMs: number, t: number): string {
    const fn = this.o.fn;
    const head = `waiting for ${BACKEND_NAMES[this.o.backend]} ${fn.name}`;
    const clock = formatClock(elapsedMs);
    const polls = this.polls > 0 ? `, 303 poll ${this.polls}` : '';
    switch (this.phase) {
      case 'queued':
        return `${head}: queued ${clock}${this.slots ? ` (${this.slots.busy} of ${this.slots.cap} slots of ${this.o.backend}:${fn.name} busy)` : ''}`;
      case 'connecting':
        return `${head}: connecting ${clock}`;
      case 'retrying': {
        const r = this.retry;
        const why = r ? (r.status !== null ? `HTTP ${r.status}` : r.code) : 'a failed attempt';
        const left = r ? Math.max(0, r.until - t) : 0;
        return `${head}: retrying after ${why} (attempt ${r?.attempt ?? '?'} failed), next attempt in ${formatClock(left)}${polls}`;
      }
      case 'cold start': {
        const surprise = this.o.expected === 'warm' ? 'longer than a warm call: probably scaled down; ' : '';
        return `${head}: cold start ${clock}${polls} (${surprise}typical ${typicalColdStart(fn)} for ${this.o.subject})`;
      }
      case 'running':
        return `${head}: running ${clock}${polls} (${this.o.expected === 'warm' ? 'warm; ' : 'past the typical cold start; '}typical ${formatSeconds(fn.typicalGpuS)} of work for ${this.o.subject})`;
    }
  }

  private set(phase: WaitPhase, force = false): void {
    if (phase !== this.phase) {
      this.phase = phase;
      this.phaseAt = this.now();
      this.emit(true);
      return;
    }
    if (force) this.emit(true);
  }

  private emit(force: boolean): void {
    if (!this.timer) return;
    const s = this.status();
    if (!force && s.line === this.lastKey) return;
    this.lastKey = s.line;
    this.lastEmitAt = this.now();
    try {
      this.o.emit(s);
    } catch {
      // a status line must never break the job
    }
  }
}
