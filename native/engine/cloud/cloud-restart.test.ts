import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { startEmulator } from '../../../cloud-emulator/index.js';
import { openDatabase, storePath } from '../store/database.js';
import { JobStore } from '../jobs/job-store.js';
import { runTandem } from '../../testing/cli-run.js';
import { filesContaining, LIGANDS, PROTEIN, TEST_TOKEN } from '../../testing/cloud-rig.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const bin = path.join(root, 'native', 'hosts', 'cli', 'bin.ts');
const tandem = runTandem;

/**
 * Issue 4's restart test through the real CLI: a Boltz-2 batch in flight, the process killed with
 * SIGKILL, then restarted: polling resumes from the stored remote job id (no second submission)
 * and every ligand's result arrives.
 */
describe('restart: a batch job survives kill -9', () => {
  it('polling resumes from the stored remote id and the result arrives', async () => {
    const home = fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-restart-'));
    // 8 ligands x 150 ms each: the batch runs ~1.2 s after a 50 ms cold start
    const emu = await startEmulator({ port: 0, timeScale: 0.001, retryAfterS: 0, token: TEST_TOKEN, inferenceMs: { boltz2: 150 }, coldStartMs: { boltz2: 50 } });
    const env = { ...process.env, TANDEM_HOME: home, TANDEM_CLOUDRUN_URL: emu.cloudRunUrl, TANDEM_CLOUDRUN_TOKEN: TEST_TOKEN, TANDEM_CLOUD_POLL_MS: '30' };
    try {
      const batch = path.join(home, 'batch.json');
      const ligands = [...LIGANDS, 'CCCC', 'CCCCC'].map((smiles, i) => ({ id: `lig${i}`, smiles }));
      fs.writeFileSync(batch, JSON.stringify({ name: 'screen', proteins: [{ id: 'A', sequence: PROTEIN.slice(0, 80) }], ligands }));
      const child = spawn(process.execPath, ['--import', 'tsx', bin, 'submit', 'boltz2-batch', '--input', batch, '--wait', '--quiet'], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      const exited = new Promise<number | null>((r) => child.on('exit', (_c, sig) => r(sig ? -1 : _c)));

      // wait until at least one ligand is done (progress recorded), then kill -9
      let jobId = '';
      for (let i = 0; i < 600; i++) {
        await new Promise((r) => setTimeout(r, 50));
        jobId = out.trim().split('\n')[0] ?? '';
        if (!jobId || !fs.existsSync(storePath(home))) continue;
        const db = openDatabase(storePath(home), { readonly: true });
        try {
          const j = new JobStore(db).find(jobId);
          if (j && j.progress.done >= 1 && j.progress.done < ligands.length) break;
        } finally {
          db.close();
        }
      }
      assert.ok(jobId, `the CLI printed a job id: ${out}`);
      child.kill('SIGKILL');
      assert.equal(await exited, -1, 'killed');
      const before = emu.stats();
      assert.equal(before.byRoute['POST /cloud-run/batch'], 1, 'one batch submitted before the kill');

      const r = await tandem(['jobs', 'resume', '--all', '--json'], env);
      assert.equal(r.status, 0, `resume exits 0 (signal ${r.signal}): ${r.stderr} ${r.stdout}`);
      const finals = JSON.parse(r.stdout) as { id: string; status: string; progress: { done: number; total: number }; result: { ligands: { ligandId: string; structure: string }[] } }[];
      const job = finals.find((j) => j.id === jobId);
      assert.ok(job, `the killed job was resumed: ${r.stdout}`);
      assert.equal(job.status, 'succeeded', `succeeded after restart: ${r.stderr} ${JSON.stringify(job)}`);
      assert.deepEqual(job.progress, { done: ligands.length, total: ligands.length }, 'all ligands done');
      assert.equal(job.result.ligands.length, ligands.length, 'every ligand in the result');
      for (const l of job.result.ligands) assert.ok(fs.existsSync(l.structure), `structure file of ${l.ligandId}`);
      const after = emu.stats();
      assert.equal(after.byRoute['POST /cloud-run/batch'], 1, 'the batch was not submitted again');
      assert.deepEqual(Object.values(after.executions).filter((n) => n > 1), [], 'nothing executed twice');

      const show = await tandem(['jobs', 'show', jobId, '--json'], env);
      const events = (JSON.parse(show.stdout) as { events: { type: string; data: { note?: string } }[] }).events;
      assert.ok(events.some((e) => e.type === 'interrupted'), 'the history shows the interruption');
      assert.ok(events.some((e) => /resuming polling of remote batch/.test(e.data.note ?? '')), 'and the resumed polling');
      assert.deepEqual(filesContaining(home, TEST_TOKEN), [], 'no token anywhere in the data dir');
    } finally {
      await emu.close();
      fs.rmSync(home, { recursive: true, force: true });
    }
  });
});
