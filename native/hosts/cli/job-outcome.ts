import { TandemError } from '../../engine/common/errors.js';
import type { ApiJob } from '../../engine/common/api-contract.js';

/**
 * A CLI command's job must have succeeded: otherwise its own error (code and message, with the job
 * id to look it up), CANCELLED for a cancelled job, INTERNAL for any other end.
 */
export function requireSucceeded<J extends Pick<ApiJob, 'id' | 'status' | 'error'>>(job: J): J {
  if (job.status === 'succeeded') return job;
  const err = job.error ?? { code: 'INTERNAL' as const, message: `job ended ${job.status}` };
  throw new TandemError(job.status === 'cancelled' ? 'CANCELLED' : err.code, `${err.message} (job ${job.id})`);
}
