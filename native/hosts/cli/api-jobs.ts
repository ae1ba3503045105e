/**
 * Jobs through the engine's API, for commands that wait on them: their `job.updated` events (the
 * ones the UI gets) drive the command's progress line, Ctrl-C cancels them through `jobs.cancel`,
 * and the command returns when they end.
 */
import type { ApiEvents, ApiJob } from '../../engine/common/api-contract.js';
import type { Engine } from '../../engine/index.js';

type Update = ApiEvents['job.updated'];

const ENDED = new Set<string>(['succeeded', 'failed', 'cancelled', 'interrupted']);
/** How often a waiting command also reads the records of the jobs it waits for. */
const POLL_MS = 1000;
/** The reason a job cancelled by Ctrl-C records. */
export const CTRL_C_REASON = 'interrupted by Ctrl-C';

/** Ctrl-C (the first; a second one ends the process) cancels the jobs watched, until `off()`. */
export interface CtrlC {
  /** Whether Ctrl-C came. */
  readonly interrupted: boolean;
  /** Cancel this job on Ctrl-C; at once if Ctrl-C came before its id was known. */
  watch(id: string): void;
  off(): void;
}

/** `reason`: what the cancelled event records; null: the engine's own ('cancelled from the command line'). */
export function cancelOnCtrlC(engine: Engine, reason: string | null = CTRL_C_REASON): CtrlC {
  const ids = new Set<string>();
  let interrupted = false;
  const cancel = (id: string): void => void engine.api['jobs.cancel']({ id, ...(reason === null ? {} : { reason }) }).catch(() => {});
  const onSigint = (): void => {
    interrupted = true;
    for (const id of ids) cancel(id);
  };
  process.once('SIGINT', onSigint);
  return {
    get interrupted() {
      return interrupted;
    },
    watch(id) {
      if (ids.has(id)) return;
      ids.add(id);
      if (interrupted) cancel(id);
    },
    off: () => void process.off('SIGINT', onSigint),
  };
}

/**
 * Listens to `job.updated` from now on (so a short job's end is not missed while the call that
 * starts it answers); `until(ids)` then waits for those jobs to end and gives their final records.
 */
function watchJobs(engine: Engine, onUpdate: (u: Update) => void): { until(ids: readonly string[]): Promise<ApiJob[]>; off(): void } {
  const seen: Update[] = [];
  const ended = new Map<string, ApiJob>();
  let wanted: Set<string> | undefined;
  let wake: () => void = () => {};
  const take = (u: Update): void => {
    if (!wanted!.has(u.job.id)) return;
    onUpdate(u);
    if (ENDED.has(u.job.status)) ended.set(u.job.id, u.job);
  };
  const off = engine.events.on('job.updated', (u) => {
    if (!wanted) return void seen.push(u);
    take(u);
    wake();
  });
  /** A job already over (nothing left to run), or run by another process (it sends no events here), ends in its record. */
  const readRecords = async (list: readonly string[]): Promise<void> => {
    for (const id of list) {
      if (ended.has(id)) continue;
      const { job } = await engine.api['jobs.show']({ id });
      if (ENDED.has(job.status) && !ended.has(id)) ended.set(id, job);
    }
  };
  return {
    async until(list) {
      wanted = new Set(list);
      for (const u of seen.splice(0)) take(u);
      await readRecords(list);
      while (list.some((id) => !ended.has(id))) {
        // Woken by an update, or after a second to look at the records.
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, POLL_MS);
          wake = () => (clearTimeout(timer), resolve());
        });
        await readRecords(list);
      }
      return list.map((id) => ended.get(id)!);
    },
    off,
  };
}

/**
 * A job the engine runs, to its end: `onUpdate` sees each `job.updated` of it (progress, phase), the
 * promise resolves with its final record. Ctrl-C is the caller's (`cancelOnCtrlC`).
 */
export async function awaitJob(engine: Engine, id: string, onUpdate: (u: Update) => void = () => {}): Promise<ApiJob> {
  const watch = watchJobs(engine, onUpdate);
  try {
    return (await watch.until([id]))[0]!;
  } finally {
    watch.off();
  }
}

/**
 * A call that runs a job of `kind` here and resolves when it ends (`search.eval`,
 * `inference.runOnnx`, `generate.run`): `onUpdate` gets that job's updates meanwhile (the first
 * update of that kind names the job), and Ctrl-C cancels it, even before its id is known.
 */
export async function callRunningJob<T>(engine: Engine, kind: string, call: () => Promise<T>, onUpdate: (u: Update) => void = () => {}): Promise<T> {
  let jobId: string | undefined;
  const ctrlC = cancelOnCtrlC(engine);
  const off = engine.events.on('job.updated', (u) => {
    if (u.job.kind !== kind || (jobId !== undefined && u.job.id !== jobId)) return;
    jobId = u.job.id;
    ctrlC.watch(jobId);
    onUpdate(u);
  });
  try {
    return await call();
  } finally {
    off();
    ctrlC.off();
  }
}

/**
 * A call that starts jobs (`library.index`, `collections.upgrade`, `jobs.retry`, `jobs.resume`) and
 * answers at once; then wait for those jobs (`ids` picks them from the answer) to end, Ctrl-C
 * cancelling them. `onUpdate` gets their updates; the answer and the final records come back.
 */
export async function startAndWait<T>(engine: Engine, call: () => Promise<T>, ids: (answer: T) => readonly string[], onUpdate: (u: Update) => void = () => {}): Promise<{ answer: T; jobs: ApiJob[] }> {
  // Listen before the call: a short job may end before its answer is read.
  const watch = watchJobs(engine, onUpdate);
  try {
    const answer = await call();
    const list = ids(answer);
    const ctrlC = cancelOnCtrlC(engine);
    for (const id of list) ctrlC.watch(id);
    try {
      return { answer, jobs: await watch.until(list) };
    } finally {
      ctrlC.off();
    }
  } finally {
    watch.off();
  }
}

/**
 * A job's progress from its updates, for a progress line: every new done/total of a running job,
 * and the last one of a job that succeeded (events are throttled, so the end may come with it).
 */
export function progressFromUpdates(update: (done: number, total: number) => void): (u: Update) => void {
  let last = '';
  return ({ job }) => {
    if ((job.status !== 'running' && job.status !== 'succeeded') || job.progress.total === null) return;
    const key = `${job.progress.done}/${job.progress.total}`;
    if (key === last) return;
    last = key;
    update(job.progress.done, job.progress.total);
  };
}
