import type { ApiJob } from '../../../../native/engine/common/api-contract';

const FINAL: ReadonlySet<ApiJob['status']> = new Set(['succeeded', 'failed', 'cancelled']);

/**
 * The rows to show when a `jobs.list` answer arrives. The answer is a snapshot taken when the
 * request reached the host; `job.updated` events received meanwhile may be newer. A job's last
 * event is its final state (no event follows it), so a final state seen in an event is never
 * replaced by an older running one from the snapshot (a row then stayed "running" for good), and a
 * job created after the snapshot and seen only by its events is kept when it passes the filters.
 * Non-final states heal by themselves with the next event.
 */
export function mergeJobList(listed: readonly ApiJob[], seen: ReadonlyMap<string, ApiJob>, keep: (j: ApiJob) => boolean): ApiJob[] {
  // `listed` is newest first: jobs.list orders by id, and ids sort by creation.
  const ids = new Set(listed.map((j) => j.id));
  const newer = [...seen.values()].filter((j) => !ids.has(j.id) && keep(j) && (listed.length === 0 || j.id > listed[0]!.id));
  newer.sort((a, b) => (a.id < b.id ? 1 : -1));
  const rows = listed.flatMap((j) => {
    const e = seen.get(j.id);
    if (!e || !FINAL.has(e.status) || FINAL.has(j.status)) return [j];
    return keep(e) ? [e] : [];
  });
  return [...newer, ...rows];
}
