import { TandemError } from '../native/engine/common/errors.js';
import { checkFaultConfig } from './emulator-config.js';
import { createRng, pick, type Rng } from './seeded-random.js';
import { FAULT_KINDS, type FaultConfig, type FaultKind } from './types.js';

interface Forced {
  fault: FaultKind;
  route: string | undefined;
  remaining: number;
}

/** Chooses the fault (if any) for each protocol request: forced ones first, then random at `rate`. */
export class FaultInjector {
  private random: { rate: number; kinds: readonly FaultKind[]; rng: Rng } | null = null;
  private forced: Forced[] = [];

  constructor(config: FaultConfig | null) {
    this.set(config);
  }

  set(config: FaultConfig | null): void {
    if (!config || config.rate === 0) {
      this.random = null;
      return;
    }
    checkFaultConfig(config);
    this.random = { rate: config.rate, kinds: config.kinds?.length ? [...config.kinds] : FAULT_KINDS, rng: createRng(config.seed ?? 1) };
  }

  /** `route` is matched as a substring of any of the request's route names ("METHOD /path"). */
  forceNext(fault: FaultKind, route?: string, count = 1): void {
    checkFaultConfig({ rate: 0, kinds: [fault] });
    if (!Number.isInteger(count) || count < 1) throw new TandemError('INVALID_ARGUMENT', `injectNext: count must be a positive integer, got ${String(count)}`);
    this.forced.push({ fault, route, remaining: count });
  }

  clear(): void {
    this.random = null;
    this.forced = [];
  }

  /** The fault for a request known by `names` (e.g. its raw and its normalised "METHOD /path"). */
  choose(names: readonly string[]): FaultKind | null {
    const i = this.forced.findIndex((f) => f.route === undefined || names.some((n) => n.includes(f.route!)));
    if (i >= 0) {
      const f = this.forced[i]!;
      if (--f.remaining === 0) this.forced.splice(i, 1);
      return f.fault;
    }
    if (this.random && this.random.rng() < this.random.rate) return pick(this.random.rng, this.random.kinds);
    return null;
  }
}
