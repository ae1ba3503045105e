/** A job's record, timings and events, kept live by job.updated / job.event (one fetch in flight at a time). */
import { useEffect, useRef, useState } from 'react';
import type { ApiOutput } from '../../../../native/engine/common/api-contract';
import type { TandemError } from '../../../../native/engine/common/errors';
import { asTandemError, useApi, useApiEvent } from '../../api/hooks';

export type JobDetail = ApiOutput<'jobs.show'>;

export function useJobDetail(id: string | null): { detail: JobDetail | undefined; error: TandemError | undefined } {
  const api = useApi();
  const [detail, setDetail] = useState<JobDetail>();
  const [error, setError] = useState<TandemError>();
  const state = useRef<{ id: string | null; inFlight: boolean; again: boolean }>({ id, inFlight: false, again: false });

  const fetchNow = (want: string) => {
    const s = state.current;
    if (s.inFlight) {
      s.again = true;
      return;
    }
    s.inFlight = true;
    api.call('jobs.show', { id: want }).then(
      (d) => {
        if (state.current.id === want) {
          setDetail(d);
          setError(undefined);
        }
      },
      (e: unknown) => {
        if (state.current.id === want) setError(asTandemError(e));
      },
    ).finally(() => {
      s.inFlight = false;
      if (s.again && state.current.id) {
        s.again = false;
        fetchNow(state.current.id);
      }
    });
  };

  useEffect(() => {
    state.current.id = id;
    setDetail(undefined);
    setError(undefined);
    if (id) fetchNow(id);
  }, [id]);

  useApiEvent('job.updated', (e) => {
    if (id && e.job.id === id) fetchNow(id);
  });
  useApiEvent('job.event', (e) => {
    if (id && e.jobId === id) fetchNow(id);
  });
  return { detail, error };
}

export const FINISHED = ['succeeded', 'failed', 'cancelled'];
