import type { ApiEvents, ApiJob } from '../../engine/common/api-contract.js';
import type { Engine } from '../../engine/api/create-engine.js';

const ENDED = new Set(['succeeded', 'failed', 'cancelled']);

/**
 * A job the engine runs, to its end, through the events the UI gets: `onUpdate` sees each
 * `job.updated` of it (progress, phase), the promise resolves with its final record.
 */
export function awaitJob(engine: Engine, id: string, onUpdate?: (u: ApiEvents['job.updated']) => void): Promise<ApiJob> {
  return new Promise((resolve, reject) => {
    let settled = false;
    const finish = (job: ApiJob): void => {
      if (settled) return;
      settled = true;
      off();
      resolve(job);
    };
    const off = engine.events.on('job.updated', (u) => {
      if (u.job.id !== id || settled) return;
      onUpdate?.(u);
      if (ENDED.has(u.job.status)) finish(u.job);
    });
    // It may have ended before we listened.
    engine.api['jobs.show']({ id }).then(
      (s) => ENDED.has(s.job.status) && finish(s.job),
      (e: unknown) => {
        if (settled) return;
        settled = true;
        off();
        reject(e);
      },
    );
  });
}
