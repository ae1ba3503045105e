import { TandemError } from '../common/errors.js';
import type { JobParams } from '../common/job-kinds.js';
import { describeDevice } from '../inference/device.js';
import type { EmbedClient } from '../inference/embed-client.js';
import { kindRunner, type JobRunFn } from '../jobs/job-queue.js';
import type { Job } from '../jobs/job-types.js';
import type { Variant } from '../models/catalog.js';
import { resolveModel } from '../models/model-resolver.js';
import { isLiveCollection, modelKey, type LibraryStore } from '../store/library-store.js';

export const UPGRADE_JOB_KIND = 'upgrade';

export interface UpgradeOptions {
  collection: string;
  model: string;
  variant?: Variant;
  /** The live model when the job was created (null: lexical-only), for its label only. */
  from?: string | null;
}

export interface UpgradeProgress {
  /** Chunks with a vector of the new model (those made by an earlier, interrupted run included). */
  done: number;
  total: number;
}

export interface UpgradeSummary {
  collection: string;
  /** The live model before: null for a lexical-only collection. */
  from: { model: string; variant: string } | null;
  to: { model: string; variant: Variant };
  chunks: number;
  /** Chunks embedded by this run; the rest had their new vector from an earlier run. */
  embedded: number;
  /** Chunks longer than the new model's max length (embedded from their first tokens). */
  truncated: number;
  dims: number;
  /** True when the new model was already live (nothing to do). */
  alreadyLive: boolean;
  device: string;
  embedMs: number;
  totalMs: number;
}

export interface UpgradeHooks {
  signal?: AbortSignal;
  /** After each batch of new vectors is durably written. */
  onProgress?: (p: UpgradeProgress) => void;
}

/**
 * Chunks embedded and written per batch (one transaction each, so a kill loses at most one batch):
 * sized to take about UPGRADE_BATCH_MS, so progress moves about once a second with a transformer
 * on a busy CPU (~7 chunks/s of 230 tokens measured for the MiniLM fixture on this 2-core machine)
 * and a static model still writes large batches. First batch 16 chunks; then at most doubled or
 * halved per batch, from 8 to 1024.
 */
export const UPGRADE_BATCH = { first: 16, min: 8, max: 1024, targetMs: 1000 };

/**
 * Re-embed every chunk of a collection with another model while search keeps using the live
 * vectors (or answers lexically). Vectors are keyed by (chunk, model key), so a re-run after a kill
 * embeds only the chunks still lacking one of the new key: never a duplicate. When every chunk has
 * one, one transaction makes the new model live and drops the old vectors (LibraryStore.finishUpgrade).
 */
export async function upgradeCollection(store: LibraryStore, client: EmbedClient, opts: UpgradeOptions, hooks: UpgradeHooks = {}, env: NodeJS.ProcessEnv = process.env): Promise<UpgradeSummary> {
  const t0 = performance.now();
  const before = store.requireCollection(opts.collection);
  const resolved = resolveModel(opts.model, { env }); // MODEL_NOT_FOUND before anything changes
  const variant = opts.variant ?? resolved.defaultVariant;
  if (!resolved.variants[variant]) throw new TandemError('MODEL_NOT_FOUND', `model ${opts.model} has no ${variant} weights on disk (variants here: ${Object.keys(resolved.variants).join(', ') || 'none'})`);
  const key = modelKey(opts.model, variant);
  const from = isLiveCollection(before) ? { model: before.model, variant: before.variant } : null;
  const summary: UpgradeSummary = {
    collection: before.name, from, to: { model: opts.model, variant }, chunks: 0, embedded: 0, truncated: 0, dims: before.dims ?? 0, alreadyLive: false, device: '', embedMs: 0, totalMs: 0,
  };
  const total = () => store.chunkCount(before.id);
  if (from && from.model === opts.model && from.variant === variant) {
    // Already live: an upgrade finished (its switch committed) before the process that ran it died.
    if (before.upgrade) store.beginUpgrade(before.name, opts.model, variant);
    store.finishUpgrade(before.name, before.dims ?? 0);
    return { ...summary, chunks: total(), alreadyLive: true, totalMs: performance.now() - t0 };
  }
  const c = store.beginUpgrade(before.name, opts.model, variant);
  let dims = 0;
  // Pass over the chunks lacking a new vector by id; chunks written meanwhile (an index run) are
  // picked up by the next pass, and the switch happens only once a pass finds none.
  for (;;) {
    let afterId = 0;
    let n = total();
    let done = store.vectorCount(c.id, key);
    let size = UPGRADE_BATCH.first;
    for (;;) {
      if (hooks.signal?.aborted) throw new TandemError('CANCELLED', `upgrade of "${c.name}" cancelled; run the same command again to continue from ${done} of ${n} chunks`);
      const batch = store.chunksWithoutVector(c.id, key, size, afterId);
      if (batch.length === 0) break;
      afterId = batch[batch.length - 1]!.id;
      const tb = performance.now();
      const r = await client.embed({ model: opts.model, variant, inputType: 'passage', texts: batch.map((b) => b.text) }, hooks.signal ? { signal: hooks.signal } : {});
      const ms = Math.max(1, performance.now() - tb);
      if (batch.length === size) size = Math.round(Math.min(UPGRADE_BATCH.max, Math.max(UPGRADE_BATCH.min, size * Math.min(2, Math.max(0.5, UPGRADE_BATCH.targetMs / ms)))));
      dims = r.dims;
      summary.device = describeDevice(r.device);
      summary.embedMs += r.timings.inferenceMs;
      summary.truncated += r.truncated.length;
      const added = store.addVectors(key, batch.map((b) => b.id), r.vectors, r.dims);
      summary.embedded += added;
      done += added;
      n = total();
      hooks.onProgress?.({ done: Math.min(done, n), total: n });
    }
    if (dims === 0) dims = store.storedDims(c.id, key);
    if (store.finishUpgrade(c.name, dims)) break;
  }
  summary.chunks = total();
  summary.dims = dims;
  if (summary.embedded === 0) hooks.onProgress?.({ done: summary.chunks, total: summary.chunks });
  summary.totalMs = performance.now() - t0;
  return summary;
}

/** The job runner for `upgrade` jobs (params: UpgradeOptions), shared by the CLI and the API service. */
export function upgradeJobRunner(lib: LibraryStore, client: EmbedClient, env: NodeJS.ProcessEnv, onProgress?: (p: UpgradeProgress) => void): JobRunFn<'upgrade'> {
  return kindRunner('upgrade', async (run) => {
    const p = run.job.params; // collection, model and variant checked by the kind's schema (common/job-kinds.ts)
    const s = await upgradeCollection(lib, client, p, {
      signal: run.signal,
      onProgress: (pr) => {
        run.progress(pr.done, pr.total);
        onProgress?.(pr);
      },
    }, env);
    run.setDevice(s.device.split(' ')[0] || 'cpu');
    run.setTimings({ inferenceMs: s.embedMs });
    return { ...s };
  });
}

/** Whether `job` upgrades the same collection to the same model and variant: resume it rather than start anew. */
export function sameUpgradeJob(job: Job, p: UpgradeOptions): boolean {
  if (job.kind !== UPGRADE_JOB_KIND) return false;
  const q: Partial<JobParams<'upgrade'>> = job.params;
  return q.collection === p.collection && q.model === p.model && (q.variant ?? null) === (p.variant ?? null);
}
