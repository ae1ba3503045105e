/** Progress with rate and ETA on stderr: a live line on a terminal, a line every few seconds otherwise. */
export class ProgressLine {
  private readonly t0 = performance.now();
  private lastPrint = 0;
  private printed = false;

  constructor(
    private readonly label: string,
    private readonly stream: NodeJS.WriteStream = process.stderr,
    private readonly quiet = false,
  ) {}

  update(done: number, total: number): void {
    if (this.quiet) return;
    const now = performance.now();
    const tty = this.stream.isTTY === true;
    if (done < total && now - this.lastPrint < (tty ? 100 : 5000)) return;
    this.lastPrint = now;
    const secs = (now - this.t0) / 1000;
    const rate = secs > 0 ? done / secs : 0;
    const eta = rate > 0 ? (total - done) / rate : 0;
    const pct = total ? ((100 * done) / total).toFixed(1) : '100.0';
    const line = `${this.label}: ${done}/${total} (${pct}%) ${rate.toFixed(0)}/s, ETA ${formatSecs(eta)}`;
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
