import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startEmulator, type EmulatorOptions, type RunningEmulator } from '../../cloud-emulator/index.js';
import { JobQueue, JobRunners } from '../engine/jobs/job-queue.js';
import { JobStore } from '../engine/jobs/job-store.js';
import { openDatabase, storePath, type Db } from '../engine/store/database.js';
import { CloudService, type CloudServiceDeps } from '../engine/cloud/cloud-service.js';

/** Test harness: a temp TANDEM_HOME, a real emulator on 127.0.0.1, a real store and a CloudService wired to both. */
export interface CloudRig {
  home: string;
  emu: RunningEmulator;
  env: NodeJS.ProcessEnv;
  db: Db;
  store: JobStore;
  svc: CloudService;
  queue: JobQueue;
  token: string;
  close(): Promise<void>;
}

export const TEST_TOKEN = 'tok-SECRET-9f8e7d6c5b4a';

/** Fast retries and timeouts so faults resolve in milliseconds. */
export const FAST_TUNING: CloudServiceDeps['tuning'] = { connectTimeoutMs: 2000, firstByteTimeoutMs: 1500, retry: { maxAttempts: 8, baseDelayMs: 5, maxDelayMs: 40 } };

export async function cloudRig(opts: { emulator?: EmulatorOptions; deps?: Partial<CloudServiceDeps>; env?: NodeJS.ProcessEnv; concurrency?: { modal?: number; 'cloud-run'?: number } } = {}): Promise<CloudRig> {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-cloudrig-'));
  const emu = await startEmulator({ port: 0, timeScale: 0.001, retryAfterS: 0, token: TEST_TOKEN, ...opts.emulator });
  const env: NodeJS.ProcessEnv = {
    TANDEM_HOME: home,
    TANDEM_MODAL_URL_TEMPLATE: emu.modalTemplate,
    TANDEM_CLOUDRUN_URL: emu.cloudRunUrl,
    TANDEM_MODAL_TOKEN: TEST_TOKEN,
    TANDEM_CLOUDRUN_TOKEN: TEST_TOKEN,
    ...opts.env,
  };
  const db = openDatabase(storePath(home));
  const store = new JobStore(db);
  const svc = new CloudService({ env, db, store, tuning: FAST_TUNING, pollIntervalMs: 10, ...opts.deps });
  const runners = new JobRunners();
  svc.registerRunners(runners);
  const queue = new JobQueue(store, { runners, ...(opts.concurrency ? { concurrency: opts.concurrency } : {}) });
  return {
    home,
    emu,
    env,
    db,
    store,
    svc,
    queue,
    token: TEST_TOKEN,
    close: async () => {
      await queue.onIdle();
      db.close();
      await emu.close();
      fs.rmSync(home, { recursive: true, force: true });
    },
  };
}

/** Every file under `dir` (recursively) that contains `needle` as bytes. */
export function filesContaining(dir: string, needle: string): string[] {
  const hits: string[] = [];
  const want = Buffer.from(needle);
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (fs.readFileSync(p).includes(want)) hits.push(p);
    }
  };
  walk(dir);
  return hits;
}

export const PROTEIN = 'MKTAYIAKQRQISFVKSHFSRQLEERLGLIEVQAPILSRVGDGTQDNLSGAEKAVQVKVKALPDAQFEVVHSLAKWKRQTLGQHDFSAGEGLYTHMKALRPDEDRLSPLHSVYVDQWDWERVMGDGERQFSTLKSTVEAIWAGIKATEAAVSEEFGLAPFLPDQIHFVHSQELLSRYPDLDAKGRERAIAKDLGAVFLVGIGGKLSDGHRHDVRAPDYDDWUAEY'.replace('U', 'S');

export const LIGANDS = ['CCO', 'c1ccccc1O', 'CC(=O)Oc1ccccc1C(=O)O', 'CN1C=NC2=C1C(=O)N(C(=O)N2C)C', 'OC(=O)CCC(=O)O', 'CCN(CC)CC'];
