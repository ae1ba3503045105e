import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { runTandem } from '../../../testing/cli-run.js';
import { sharedOrSkip } from '../../../testing/shared.js';

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

  it('--schema prints JSON valid under the schema; too few --max-tokens fails up front', async () => {
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
    assert.match(t.stderr, /INVALID_INPUT: this schema needs at least 24 tokens \(max tokens 2\)/, 'refused before generating, the size named');
    assert.equal(t.stdout, '', 'no partial JSON on stdout');
  });

  it('budget (issue 21.3): a schema whose shortest instance is 40 tokens fails up front at --max-tokens 30 and ends valid at 45', async () => {
    const schemaFile = path.join(home, 'schema40.json');
    // Shortest instance: {"label":"no","score":0,"note":"aaaaaa"}, 40 bytes (one token each at worst).
    const schema = { type: 'object', properties: { label: { enum: ['yes', 'no'] }, score: { type: 'number' }, note: { type: 'string', minLength: 6 } }, required: ['label', 'score', 'note'] };
    fs.writeFileSync(schemaFile, JSON.stringify(schema));
    const args = ['generate', '--model', 'fixtures/tiny-decoder-random', '--prompt', 'Classify', '--schema', schemaFile, '--temperature', '1', '--threads', '1'];
    const t = await runTandem([...args, '--max-tokens', '30'], env);
    assert.equal(t.status, 1, `exit 1: ${t.stderr}`);
    assert.match(t.stderr, /INVALID_INPUT: this schema needs at least 40 tokens \(max tokens 30\)/, 'refused before generating');
    assert.equal(t.stdout, '', 'nothing on stdout');
    let forced = 0;
    for (const seed of ['1', '2', '3']) {
      const r = await runTandem([...args, '--max-tokens', '45', '--seed', seed, '--json'], env);
      assert.equal(r.status, 0, `seed ${seed}: ${r.stderr}`);
      const res = JSON.parse(r.stdout) as { text: string; output: { label: string; score: number; note: string }; usage: { completionTokens: number }; budgetForcedClose?: boolean };
      assert.deepEqual(JSON.parse(res.text), res.output, 'valid JSON, the parsed output');
      assert.ok(['yes', 'no'].includes(res.output.label) && typeof res.output.score === 'number' && res.output.note.length >= 6, `seed ${seed}: ${res.text} satisfies the schema`);
      assert.ok(res.usage.completionTokens <= 45, 'within max tokens');
      if (res.budgetForcedClose) {
        forced++;
        assert.match(r.stderr, /max tokens ran low: closed early/, 'the summary says the budget closed it');
      }
    }
    // The random model wanders inside the free string: the budget is what ends it.
    assert.ok(forced > 0, 'at least one run was closed by the budget');
  });

  it('strict by default (issue 21.2): a keyword the grammar cannot enforce is refused by name and pointer; --lenient decodes without it and checks it on the output', async () => {
    const schemaFile = path.join(home, 'unique-objects.json');
    const schema = { type: 'object', properties: { tags: { type: 'array', items: { type: 'object', properties: { k: { type: 'string', minLength: 3, maxLength: 6 } }, required: ['k'] }, uniqueItems: true, minItems: 2, maxItems: 2 } }, required: ['tags'] };
    fs.writeFileSync(schemaFile, JSON.stringify(schema));
    const args = ['generate', '--model', 'fixtures/tiny-decoder-random', '--prompt', 'Tags', '--schema', schemaFile, '--temperature', '1', '--seed', '1', '--threads', '1', '--json'];
    const strict = await runTandem(args, env);
    assert.equal(strict.status, 2, strict.stderr);
    assert.match(strict.stderr, /unsupported keyword "uniqueItems" at \/properties\/tags\/uniqueItems \(items that are objects or arrays .*this array needs 2\).*--lenient/, 'refused up front, keyword and pointer named');
    assert.equal((JSON.parse(strict.stdout) as { error: { code: string } }).error.code, 'INVALID_ARGUMENT', '--json: the error as JSON, nothing generated');
    const lenient = await runTandem([...args, '--lenient'], env);
    assert.equal(lenient.status, 0, lenient.stderr);
    const res = JSON.parse(lenient.stdout) as { output: { tags: Array<{ k: string }> }; checkedAfter: Array<{ keyword: string; pointer: string }> };
    assert.deepEqual(res.checkedAfter, [{ keyword: 'uniqueItems', pointer: '/properties/tags/uniqueItems' }], 'the result names what was checked after decoding');
    assert.notEqual(res.output.tags[0]!.k, res.output.tags[1]!.k, 'and the output passed that check');
    assert.match(lenient.stderr, /--lenient: not enforced while decoding, checked on the output \(passed\): uniqueItems at \/properties\/tags\/uniqueItems/);
    assert.match(lenient.stderr, /load \d+ ms, schema \d+ ms, first token/, 'the summary says what preparing the schema cost');
  });

  it('bad arguments exit 2 before anything runs', async () => {
    const r = await runTandem(['generate', '--model', 'fixtures/tiny-decoder-random', '--prompt', 'x', '--top-p', '0'], env);
    assert.equal(r.status, 2, r.stderr);
    const s = await runTandem(['generate', '--model', 'fixtures/tiny-decoder-random', '--prompt', 'x', '--schema', path.join(home, 'missing.json')], env);
    assert.equal(s.status, 1, s.stderr);
    assert.match(s.stderr, /schema file .* not found/, 'names the missing file');
    const l = await runTandem(['generate', '--model', 'fixtures/tiny-decoder-random', '--prompt', 'x', '--lenient'], env);
    assert.equal(l.status, 2, l.stderr);
    assert.match(l.stderr, /lenient applies to a schema's keywords: give a schema too/, '--lenient without --schema is refused, not ignored');
  });
});
