/** Progress with rate and ETA on stderr: a live line on a terminal, a line every few seconds otherwise. */
export class ProgressLine {
  private t0 = performance.now();
  private lastPrint = 0;
  private printed = false;

  constructor(
    private readonly label: string,
    private readonly stream: NodeJS.WriteStream = process.stderr,
    private readonly quiet = false,
  ) {}

  /** Measure the rate (and ETA) from now on: when the work counted starts after a set-up phase (walk, model load). */
  start(): void {
    this.t0 = performance.now();
  }

  /**
   * `done` of `total` units, the rate and the ETA from it; `opts.unit` names the units
   * (`1200/5400 chunks`), `opts.extra` is shown beside them (`12/40 files read`). The percentage
   * never shows 100 before done reaches total.
   */
  update(done: number, total: number, opts: { unit?: string; extra?: string } = {}): void {
    if (this.quiet) return;
    const now = performance.now();
    const tty = this.stream.isTTY === true;
    if (done < total && now - this.lastPrint < (tty ? 100 : 5000)) return;
    this.lastPrint = now;
    const secs = (now - this.t0) / 1000;
    const rate = secs > 0 ? done / secs : 0;
    // No rate measured yet: the ETA is unknown, not 0.
    const eta = rate > 0 ? (total - done) / rate : done < total ? Infinity : 0;
    const pct = total ? (done < total ? Math.min(99.9, Math.floor((1000 * done) / total) / 10) : 100).toFixed(1) : '100.0';
    const unit = opts.unit ? ` ${opts.unit}` : '';
    const line = `${this.label}: ${done}/${total}${unit} (${pct}%) ${rate.toFixed(0)}${unit}/s, ETA ${formatSecs(eta)}${opts.extra ? ` · ${opts.extra}` : ''}`;
    if (tty) {
      this.stream.write(`\r\x1b[K${line}`);
      this.printed = true;
    } else this.stream.write(`${line}\n`);
  }

  end(): void {
    if (this.printed && this.stream.isTTY) this.stream.write('\r\x1b[K');
  }
}

export function formatSecs(s: number): string {
  if (!Number.isFinite(s)) return '?';
  if (s < 60) return `${s.toFixed(0)}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(Math.round(s % 60)).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.round((s % 3600) / 60)).padStart(2, '0')}m`;
}
