/**
 * The engine under a plain Node binary, started exactly as the desktop app starts it when the app
 * ships one (electron/main/engine-channel.ts forkNodeEngine: child_process.fork of
 * out/main/engine-host.js with execPath = that binary, the engine protocol over the IPC channel).
 * Here the binary is this test's own Node. Why the app does this: electron/README.md, "Where the
 * engine runs". Builds the desktop bundle first unless TANDEM_DESKTOP_SKIP_BUILD=1 (npm test).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ENGINE_NODE_DIR, engineNodeName, forkNodeEngine, resolveEngineNode, type EngineLink, type Envelope } from './main/engine-channel.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const entry = path.join(root, 'out', 'main', 'engine-host.js');
const MODEL = 'minishlab/potion-base-2M';

type Job = { id: string; status: string; error: unknown };

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

async function until(what: string, ok: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('resolveEngineNode', () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-engine-node-'));
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('takes resources/engine-node/node[.exe] of the packaged app, else says what is missing', () => {
    assert.equal(engineNodeName('win32'), 'node.exe');
    assert.equal(engineNodeName('linux'), 'node');
    const missing = resolveEngineNode({ resourcesPath: tmp, env: {}, platform: 'linux' });
    assert.equal(missing.path, null);
    assert.match(missing.why, /engine-node.node is missing/);
    fs.mkdirSync(path.join(tmp, ENGINE_NODE_DIR));
    fs.writeFileSync(path.join(tmp, ENGINE_NODE_DIR, 'node.exe'), '');
    assert.equal(resolveEngineNode({ resourcesPath: tmp, env: {}, platform: 'win32' }).path, path.join(tmp, ENGINE_NODE_DIR, 'node.exe'));
  });

  it('TANDEM_ENGINE_NODE wins (development); not a file: null with the reason; development without it: null', () => {
    assert.equal(resolveEngineNode({ env: { TANDEM_ENGINE_NODE: process.execPath } }).path, process.execPath);
    const bad = resolveEngineNode({ resourcesPath: tmp, env: { TANDEM_ENGINE_NODE: path.join(tmp, 'nope') } });
    assert.equal(bad.path, null);
    assert.match(bad.why, /is not a file/);
    assert.match(resolveEngineNode({ env: {} }).why, /TANDEM_ENGINE_NODE/);
  });
});

describe('the engine host under plain Node over the IPC channel (as the app starts it)', () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-engine-node-'));
  const log: string[] = [];
  const jobs = new Map<string, Job>();
  let engine: EngineLink & { pid: number | undefined };

  const start = (): EngineLink & { pid: number | undefined } =>
    forkNodeEngine({
      entry,
      nodePath: process.execPath,
      env: { PATH: process.env.PATH, TANDEM_HOME: path.join(tmp, 'home'), TANDEM_MODELS_DIR: '', TANDEM_HF_ENDPOINT: 'http://127.0.0.1:9' },
      tokens: { TANDEM_MODAL_TOKEN: 'tok-not-logged' },
      log: (line) => log.push(line),
      openFile: async () => '',
      onEvent: (name, data) => {
        if (name !== 'job.updated') return;
        const job = (data as { job: Job }).job;
        jobs.set(job.id, job);
      },
    });

  before(() => {
    if (process.env.TANDEM_DESKTOP_SKIP_BUILD !== '1') {
      const r = spawnSync(process.execPath, [path.join(root, 'node_modules', 'electron-vite', 'bin', 'electron-vite.js'), 'build'], { cwd: root, encoding: 'utf8' });
      assert.equal(r.status, 0, `electron-vite build failed:\n${r.stdout}\n${r.stderr}`);
    }
    fs.mkdirSync(path.join(tmp, 'home'));
    engine = start();
  });

  after(async () => {
    await engine?.close(5_000);
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  const ok = (e: Envelope): unknown => {
    assert.ok('result' in e, `a result: ${JSON.stringify(e)}`);
    return e.result;
  };

  it('answers app.info as the electron host; a bad call is an error envelope', async () => {
    const info = ok(await engine.call('app.info', {})) as { host?: string };
    assert.equal(info.host, 'electron');
    const bad = await engine.call('no.such.method', {});
    assert.ok('error' in bad && typeof bad.error.code === 'string', JSON.stringify(bad));
  });

  it('indexes a folder (the embedding worker under plain Node) and finds it, events included', async () => {
    const dir = path.join(tmp, 'docs');
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, 'zebra.txt'), 'The zebra named Archibald jumps fences.');
    fs.writeFileSync(path.join(dir, 'pasta.txt'), 'Pasta needs salted boiling water.');
    const { jobIds } = ok(await engine.call('library.index', { paths: [dir], collection: 'docs', model: MODEL })) as { jobIds: string[] };
    const id = jobIds[0]!;
    await until('the index job to finish', () => ['succeeded', 'failed', 'cancelled', 'interrupted'].includes(jobs.get(id)?.status ?? ''), 60_000);
    assert.equal(jobs.get(id)!.status, 'succeeded', JSON.stringify(jobs.get(id)!.error));
    const r = ok(await engine.call('search.query', { query: 'zebra Archibald', collection: 'docs', mode: 'hybrid', k: 1 })) as { hits: Array<{ path: string }> };
    assert.equal(path.basename(r.hits[0]?.path ?? ''), 'zebra.txt');
    assert.ok(!log.join('\n').includes('tok-not-logged'), 'the token is never logged');
  });

  it('close() stops the process (exit 0 within the grace period); calls after it are refused', async () => {
    const pid = engine.pid!;
    assert.ok(alive(pid));
    const t0 = Date.now();
    await engine.close(10_000);
    await until('the engine process to exit', () => !alive(pid));
    assert.ok(Date.now() - t0 < 10_000, 'stopped before the grace period ran out');
    assert.ok(!log.some((l) => l.includes('killing it')), `not killed: ${log.join(' | ')}`);
    assert.ok(log.some((l) => l.includes('exit code 0')), `exit code 0: ${log.join(' | ')}`);
    const after = await engine.call('app.info', {});
    assert.ok('error' in after);
  });

  it('an engine killed by a signal (as SIGTRAP would) fails pending and later calls naming the signal', async () => {
    const e = start();
    ok(await e.call('app.info', {}));
    process.kill(e.pid!, 'SIGKILL');
    await until('the exit to be seen', () => log.some((l) => l.includes('killed by SIGKILL')));
    const r = await e.call('app.info', {});
    assert.ok('error' in r && r.error.code === 'INTERNAL' && /killed by SIGKILL; restart Tandem/.test(r.error.message), JSON.stringify(r));
  });
});

describe('forge.config.ts ships the engine Node', () => {
  it('lists out/engine-node as an extraResource outside the asar, keeps the addons built for Node, and prePackage stages the binary', async () => {
    type Hook = (config: unknown, platform: string, arch: string) => Promise<void>;
    const forge = (await import(path.join(root, 'forge.config.ts'))) as {
      default: { packagerConfig: { extraResource?: string[]; ignore?: RegExp[] }; rebuildConfig?: { onlyModules?: string[] }; hooks: { prePackage: Hook } };
    };
    const cfg = forge.default;
    assert.deepEqual(cfg.packagerConfig.extraResource, ['out/engine-node']);
    assert.ok(cfg.packagerConfig.ignore?.some((re) => re.test('/out/engine-node/node')), 'not inside app.asar as well');
    assert.deepEqual(cfg.rebuildConfig?.onlyModules, [], 'no addon rebuilt for Electron');
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-engine-node-'));
    const fake = path.join(tmp, 'node-for-target');
    fs.writeFileSync(fake, 'a node binary');
    const saved = process.env.TANDEM_ENGINE_NODE;
    const cwd = process.cwd();
    try {
      process.chdir(root);
      process.env.TANDEM_ENGINE_NODE = fake;
      await cfg.hooks.prePackage({}, 'win32', 'x64');
      assert.equal(fs.readFileSync(path.join(root, 'out', 'engine-node', 'node.exe'), 'utf8'), 'a node binary');
      delete process.env.TANDEM_ENGINE_NODE;
      await assert.rejects(cfg.hooks.prePackage({}, process.platform === 'win32' ? 'linux' : 'win32', 'x64'), /set TANDEM_ENGINE_NODE/);
    } finally {
      if (saved === undefined) delete process.env.TANDEM_ENGINE_NODE;
      else process.env.TANDEM_ENGINE_NODE = saved;
      process.chdir(cwd);
      fs.rmSync(path.join(root, 'out', 'engine-node'), { recursive: true, force: true });
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });
});
