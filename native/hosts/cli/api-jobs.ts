/**
 * Jobs through the engine's API, for commands that wait on one: its `job.updated` events (the ones
 * the UI gets) drive the command's progress line, Ctrl-C cancels it through `jobs.cancel`, and the
 * command returns when it ends.
 */
import type { ApiEvents } from '../../engine/common/api-contract.js';
import type { Engine } from '../../engine/index.js';

type JobRecord = ApiEvents['job.updated']['job'];
type Update = ApiEvents['job.updated'];

const ENDED = new Set(['succeeded', 'failed', 'cancelled', 'interrupted']);
/** How often a waiting command also reads the records of the jobs it waits for. */
const POLL_MS = 1000;

/** Cancel these jobs on Ctrl-C (the reason recorded says so) while `fn` runs. */
async function cancellingOnSigint<T>(engine: Engine, ids: () => readonly string[], fn: () => Promise<T>): Promise<T> {
  const onSigint = (): void => {
    for (const id of ids()) void engine.api['jobs.cancel']({ id, reason: 'interrupted by Ctrl-C' }).catch(() => {});
  };
  process.once('SIGINT', onSigint);
  try {
    return await fn();
  } finally {
    process.off('SIGINT', onSigint);
  }
}

/**
 * A call that runs a job of `kind` here and resolves when it ends (`search.eval`): `onUpdate` gets
 * that job's updates meanwhile.
 */
export async function callRunningJob<T>(engine: Engine, kind: string, call: () => Promise<T>, onUpdate: (u: Update) => void): Promise<T> {
  let jobId: string | undefined;
  const off = engine.events.on('job.updated', (u) => {
    if (u.job.kind !== kind || (jobId !== undefined && u.job.id !== jobId)) return;
    jobId = u.job.id;
    onUpdate(u);
  });
  try {
    return await cancellingOnSigint(engine, () => (jobId ? [jobId] : []), call);
  } finally {
    off();
  }
}

/**
 * A call that starts jobs (`library.index`, `collections.upgrade`, `jobs.retry`, `jobs.resume`) and
 * answers at once; then wait for those jobs (`ids` picks them from the answer) to end. `onUpdate`
 * gets their updates; the answer and the final records come back.
 */
export async function startAndWait<T>(engine: Engine, call: () => Promise<T>, ids: (answer: T) => readonly string[], onUpdate: (u: Update) => void = () => {}): Promise<{ answer: T; jobs: JobRecord[] }> {
  // Listen before the call: a short job may end before its answer is read.
  const seen: Update[] = [];
  const ended = new Map<string, JobRecord>();
  let wanted: Set<string> | undefined;
  let wake: () => void = () => {};
  const off = engine.events.on('job.updated', (u) => {
    if (!wanted) return void seen.push(u);
    if (!wanted.has(u.job.id)) return;
    onUpdate(u);
    if (ENDED.has(u.job.status)) ended.set(u.job.id, u.job);
    wake();
  });
  try {
    const answer = await call();
    const list = ids(answer);
    wanted = new Set(list);
    for (const u of seen.splice(0)) {
      if (!wanted.has(u.job.id)) continue;
      onUpdate(u);
      if (ENDED.has(u.job.status)) ended.set(u.job.id, u.job);
    }
    // A job already over before this call (nothing left to run) has no update to wait for.
    for (const id of list) {
      if (ended.has(id)) continue;
      const { job } = await engine.api['jobs.show']({ id });
      if (ENDED.has(job.status)) ended.set(id, job);
    }
    await cancellingOnSigint(engine, () => list, async () => {
      while (list.some((id) => !ended.has(id))) {
        // Woken by an update, or after a second to look at the records (a job another process runs sends no events here).
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, POLL_MS);
          wake = () => (clearTimeout(timer), resolve());
        });
        for (const id of list) {
          if (ended.has(id)) continue;
          const { job } = await engine.api['jobs.show']({ id });
          if (ENDED.has(job.status)) ended.set(id, job);
        }
      }
    });
    return { answer, jobs: list.map((id) => ended.get(id)!) };
  } finally {
    off();
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
