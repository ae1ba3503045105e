import { APP_NAMES, type AppName } from './types.js';
import { abortable, sleep } from './sleep.js';

export interface AppPoolConfig {
  coldStartMs: Record<AppName, number>;
  concurrency: Record<AppName, number>;
  idleMs: number;
}

export interface AppCounters {
  coldStarts: Record<AppName, number>;
  maxInFlight: Record<AppName, number>;
  overConcurrency: Record<AppName, number>;
}

/** What a request learnt from waiting for its app's container. */
export interface WarmWait {
  coldStart: boolean;
  /** The cold start it waited on (the configured one), 0 when the app was warm. */
  modelLoadMs: number;
}

interface AppState {
  phase: 'cold' | 'starting' | 'warm';
  /** Bumped by scale-to-zero, so a start begun before it does not mark the app warm. */
  generation: number;
  starting: Promise<void> | null;
  inFlight: number;
  idleTimer: NodeJS.Timeout | null;
}

/**
 * One container pool per app, the way Modal and Cloud Run scale: cold until a request needs the
 * model; concurrent requests during a cold start share it; back to zero after `idleMs` without
 * work. Also counts executions in flight against the advertised concurrency.
 */
export class AppPool {
  private readonly apps = new Map<AppName, AppState>();

  constructor(
    private readonly config: AppPoolConfig,
    private readonly counters: () => AppCounters,
  ) {
    for (const app of APP_NAMES) this.apps.set(app, { phase: 'cold', generation: 0, starting: null, inFlight: 0, idleTimer: null });
  }

  private state(app: AppName): AppState {
    return this.apps.get(app)!;
  }

  isWarm(app: AppName): boolean {
    return this.state(app).phase === 'warm';
  }

  /** Waits until the app is warm, starting it (once) if it is cold. */
  async ensureWarm(app: AppName, signal?: AbortSignal): Promise<WarmWait> {
    const s = this.state(app);
    if (s.phase === 'warm') return { coldStart: false, modelLoadMs: 0 };
    if (s.phase === 'cold' || !s.starting) {
      const generation = ++s.generation;
      s.phase = 'starting';
      this.counters().coldStarts[app]++;
      s.starting = sleep(this.config.coldStartMs[app]).then(() => {
        if (s.generation === generation) {
          s.phase = 'warm';
          s.starting = null;
          this.armIdle(app);
        }
      });
    }
    const starting = s.starting!;
    await abortable(starting, signal);
    return { coldStart: true, modelLoadMs: this.config.coldStartMs[app] };
  }

  /** An execution starts on `app`; returns the function that ends it. */
  begin(app: AppName): () => void {
    const s = this.state(app);
    const c = this.counters();
    if (s.inFlight >= this.config.concurrency[app]) c.overConcurrency[app]++;
    s.inFlight++;
    c.maxInFlight[app] = Math.max(c.maxInFlight[app], s.inFlight);
    this.touch(app);
    let ended = false;
    return () => {
      if (ended) return;
      ended = true;
      s.inFlight--;
      this.touch(app);
    };
  }

  /** Activity on `app`: the idle countdown starts again. */
  touch(app: AppName): void {
    if (this.state(app).phase === 'warm') this.armIdle(app);
  }

  private armIdle(app: AppName): void {
    const s = this.state(app);
    if (s.idleTimer) clearTimeout(s.idleTimer);
    s.idleTimer = setTimeout(() => {
      s.idleTimer = null;
      if (s.inFlight > 0) this.armIdle(app);
      else if (s.phase === 'warm') s.phase = 'cold';
    }, this.config.idleMs);
    s.idleTimer.unref();
  }

  scaleToZero(app?: AppName): void {
    for (const a of app ? [app] : APP_NAMES) {
      const s = this.state(a);
      s.generation++;
      s.phase = 'cold';
      s.starting = null;
      if (s.idleTimer) clearTimeout(s.idleTimer);
      s.idleTimer = null;
    }
  }

  /** Everything cold and idle timers stopped (reset, close). */
  stop(): void {
    this.scaleToZero();
  }
}
