import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { CloudService } from '../../engine/cloud/cloud-service.js';
import { lazyLocalGenerator, localEmbedder } from '../../engine/cloud/local-engines.js';
import type { CloudFlags } from '../../engine/cloud/cloud-config.js';
import type { WaitStatus } from '../../engine/cloud/wait-status.js';
import { tandemHome } from '../../engine/node/paths.js';
import { EmbedClient } from '../../engine/inference/embed-client.js';
import type { JobRunners } from '../../engine/jobs/job-queue.js';
import { JobStore } from '../../engine/jobs/job-store.js';
import { openDatabase, storePath, type Db } from '../../engine/store/database.js';
import type { CliContext } from './cli-context.js';

/** The cloud service as the CLI hosts it: its own store connection and a lazy local embedder. */
export interface CliCloud {
  svc: CloudService;
  store: JobStore;
  db: Db;
  close(): Promise<void>;
}

/** `adopt`: mark jobs of dead processes interrupted (not when a queue of this process already runs jobs). */
export function openCloud(ctx: CliContext, flags: CloudFlags = {}, opts: { adopt?: boolean; onStream?: (jobId: string, text: string) => void; onWait?: (status: WaitStatus) => void } = {}): CliCloud {
  const db = openDatabase(storePath(tandemHome(ctx.env)));
  const store = new JobStore(db);
  if (opts.adopt !== false) store.markInterrupted();
  // Neither worker starts until a job needs it.
  const client = new EmbedClient(ctx.env);
  const generator = lazyLocalGenerator(ctx.env);
  const svc = new CloudService({ env: ctx.env, db, store, flags, localEmbed: localEmbedder(client), localGenerate: generator.generate, ...(opts.onStream ? { onStream: opts.onStream } : {}), ...(opts.onWait ? { onWait: opts.onWait } : {}) });
  return {
    svc,
    store,
    db,
    close: async () => {
      await client.close();
      await generator.close();
      db.close();
    },
  };
}

/**
 * Cloud runners for commands that re-run jobs by kind (`tandem jobs retry|resume`): the service is
 * opened on first use and stays open for the life of the process.
 */
export function registerCloudRunners(runners: JobRunners, ctx: CliContext): void {
  let cloud: CliCloud | undefined;
  for (const kind of CloudService.KINDS) {
    runners.register(kind, (run) => {
      cloud ??= openCloud(ctx, {}, { adopt: false });
      return cloud.svc.run(kind, run);
    });
  }
}

/**
 * Run a recorded job in a detached `tandem jobs resume ID` process, so `tandem submit` without
 * --wait returns at once and the job still runs to the end. Its output goes to
 * $TANDEM_HOME/logs/<job>.log. Returns false when this process was not started as the CLI.
 */
export function runInBackground(ctx: CliContext, jobId: string): string | null {
  const entry = process.argv[1];
  if (!entry || !/(tandem(\.js)?|cli\.js|bin\.ts)$/.test(entry)) return null;
  const logs = path.join(tandemHome(ctx.env), 'logs');
  fs.mkdirSync(logs, { recursive: true });
  const log = path.join(logs, `${jobId}.log`);
  const fd = fs.openSync(log, 'a');
  try {
    const child = spawn(process.execPath, [...process.execArgv, entry, 'jobs', 'resume', jobId], { detached: true, stdio: ['ignore', fd, fd], env: ctx.env });
    child.unref();
  } finally {
    fs.closeSync(fd);
  }
  return log;
}
