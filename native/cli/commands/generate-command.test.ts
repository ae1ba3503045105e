import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { runTandem } from '../../testing/cli-run.js';
import { sharedOrSkip } from '../../testing/shared.js';

const { shared, skip } = sharedOrSkip();

/** `tandem generate` end to end, from sources, in a child process. */
describe('tandem generate', { skip }, () => {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-gencli-'));
  const env: NodeJS.ProcessEnv = { ...process.env, TANDEM_HOME: home, TANDEM_MODELS_DIR: path.join(shared, 'models') };
  after(() => fs.rmSync(home, { recursive: true, force: true }));

  it('streams the char-LSTM greedy text to stdout and records a generate-local job with its device', async () => {
    const ref = JSON.parse(fs.readFileSync(path.join(shared, 'models', 'fixtures', 'charrnn-shakespeare', 'numpy_reference_greedy.json'), 'utf8')) as { prompt: string; greedy_200: string };
    const r = await runTandem(['generate', '--model', 'fixtures/charrnn-shakespeare', '--prompt', ref.prompt, '--max-tokens', '200', '--stream'], env);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, ref.greedy_200 + '\n', 'the streamed text is the reference');
    assert.match(r.stderr, /200 tokens \(length\) after a 7-token prompt, fixtures\/charrnn-shakespeare \(fp32\) on cpu/, 'summary with the device');
    const jobs = await runTandem(['jobs', 'list', '--kind', 'generate-local', '--json'], env);
    assert.equal(jobs.status, 0, jobs.stderr);
    const list = JSON.parse(jobs.stdout) as Array<{ kind: string; status: string; device: string; result: { text: string } | null }>;
    assert.equal(list.length, 1, 'one job');
    assert.equal(list[0]!.status, 'succeeded', 'succeeded');
    assert.equal(list[0]!.device, 'cpu', 'device recorded');
  });

  it('--schema prints JSON valid under the schema; too few --max-tokens fails with the truncated error', async () => {
    const schemaFile = path.join(home, 'schema.json');
    fs.writeFileSync(schemaFile, JSON.stringify({ type: 'object', properties: { label: { enum: ['yes', 'no'] }, score: { type: 'number' } }, required: ['label', 'score'] }));
    const r = await runTandem(['generate', '--model', 'fixtures/tiny-decoder-random', '--prompt', 'Classify', '--schema', schemaFile, '--temperature', '1', '--seed', '7', '--json', '--threads', '1'], env);
    assert.equal(r.status, 0, r.stderr);
    const res = JSON.parse(r.stdout) as { job: string; text: string; output: { label: string; score: number }; finishReason: string; seed: number };
    assert.ok(['yes', 'no'].includes(res.output.label), `label ${res.output.label}`);
    assert.equal(typeof res.output.score, 'number', 'score is a number');
    assert.deepEqual(JSON.parse(res.text), res.output, 'text and output agree');
    assert.equal(res.seed, 7, 'the seed is reported');
    const t = await runTandem(['generate', '--model', 'fixtures/tiny-decoder-random', '--prompt', 'Classify', '--schema', schemaFile, '--max-tokens', '2', '--threads', '1'], env);
    assert.equal(t.status, 1, `exit 1: ${t.stderr}`);
    assert.match(t.stderr, /INVALID_INPUT: truncated: max tokens \(2\)/, 'the truncated error, named');
    assert.equal(t.stdout, '', 'no partial JSON on stdout');
  });

  it('bad arguments exit 2 before anything runs', async () => {
    const r = await runTandem(['generate', '--model', 'fixtures/tiny-decoder-random', '--prompt', 'x', '--top-p', '0'], env);
    assert.equal(r.status, 2, r.stderr);
    const s = await runTandem(['generate', '--model', 'fixtures/tiny-decoder-random', '--prompt', 'x', '--schema', path.join(home, 'missing.json')], env);
    assert.equal(s.status, 1, s.stderr);
    assert.match(s.stderr, /schema file .* not found/, 'names the missing file');
  });
});
