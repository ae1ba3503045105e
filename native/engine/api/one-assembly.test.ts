/**
 * One assembly (issue 19): outside tests and the store/jobs packages, only createEngine opens the
 * store or builds a job queue; the hosts and the moved CLI commands go through it. A grep over
 * native/. CLI commands not yet moved onto the API are listed by name: moving one removes it here.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { repoRoot } from '../../testing/cli-run.js';

const WIRING = /new JobQueue\(|new JobStore\(|openDatabase\(|openStoreForReading\(|new LibraryStore\(/;

/** The engine's own: the assembly, and the map worker that reads the store read-only. */
const ENGINE = ['native/engine/api/create-engine.ts', 'native/engine/map/map-compute.ts'];
/** CLI code that still wires the engine itself (issue 19: to move onto the API). */
const STILL_WIRING: string[] = [
];

function sources(dir: string): string[] {
  return fs.readdirSync(path.join(repoRoot, dir), { withFileTypes: true }).flatMap((e) => {
    const rel = `${dir}/${e.name}`;
    if (e.isDirectory()) return e.name === 'node_modules' || e.name === 'build' ? [] : sources(rel);
    return /\.(ts|mts|mjs)$/.test(e.name) && !/\.test\.ts$/.test(e.name) ? [rel] : [];
  });
}

const read = (rel: string): string => fs.readFileSync(path.join(repoRoot, rel), 'utf8');

test('only createEngine (and CLI commands not yet moved) open the store or build a job queue', () => {
  const owners = sources('native').filter((f) => !/^native\/(engine\/store|engine\/jobs|testing)\//.test(f) && WIRING.test(read(f)));
  assert.deepEqual(owners.sort(), [...ENGINE, ...STILL_WIRING].sort());
});

test('the web host and Electron\'s utility entry are clients of createEngine', () => {
  for (const f of ['native/hosts/electron-utility/utility-entry.ts', 'native/hosts/cli/commands/serve-command.ts']) {
    const text = read(f);
    assert.match(text, /createEngine\(/, f);
    assert.doesNotMatch(text, /createApiService|from '(\.\.\/)+engine\/(store|jobs|library|inference)\//, f);
  }
  for (const f of sources('native/hosts/web')) assert.doesNotMatch(read(f), WIRING, f);
});

/** The text of `.command('<name>...')` up to the next `.command(`. */
function action(file: string, name: string): string {
  const text = read(file);
  const at = text.indexOf(`.command('${name}`);
  assert.ok(at >= 0, `${file}: no command ${name}`);
  const next = text.indexOf('.command(', at + 1);
  return text.slice(at, next < 0 ? undefined : next);
}

test('moved CLI commands only call the API (withEngine) and print', () => {
  const moved: Array<[string, string]> = [
    ['native/hosts/cli/commands/collections-command.ts', 'list'],
    ['native/hosts/cli/commands/collections-command.ts', 'show <name>'],
    ['native/hosts/cli/commands/jobs-command.ts', 'show <id>'],
    ['native/hosts/cli/commands/jobs-command.ts', 'stats'],
    ['native/hosts/cli/commands/search-command.ts', 'search [query]'],
    ['native/hosts/cli/commands/jobs-command.ts', 'export'],
    ['native/hosts/cli/commands/models-command.ts', 'inspect <path>'],
    ['native/hosts/cli/commands/models-command.ts', 'list'],
    ['native/hosts/cli/commands/models-command.ts', 'import <folder>'],
    ['native/hosts/cli/commands/models-command.ts', 'verify <id>'],
    ['native/hosts/cli/commands/doctor-command.ts', 'doctor'],
    ['native/hosts/cli/commands/embed-command.ts', 'embed'],
    ['native/hosts/cli/commands/cloud-command.ts', 'costs'],
  ];
  for (const [file, name] of moved) {
    const body = action(file, name);
    assert.match(body, /withEngine\(ctx, \{ readOnly: true \}/, `${file} ${name}`);
    assert.doesNotMatch(body, /openLibrary|withReadStore|withStore|new (Searcher|EmbedClient)|\bstore\./, `${file} ${name}`);
    assert.doesNotMatch(body, WIRING, `${file} ${name}`);
  }
  // Commands that write: the engine opened read-write.
  const writing: Array<[string, string]> = [
    ['native/hosts/cli/commands/collections-command.ts', 'remove <name>'],
    ['native/hosts/cli/commands/jobs-command.ts', 'cancel <id>'],
    ['native/hosts/cli/commands/eval-command.ts', 'eval'],
    ['native/hosts/cli/commands/collections-command.ts', 'upgrade <name>'],
    ['native/hosts/cli/commands/jobs-command.ts', 'retry <id>'],
    ['native/hosts/cli/commands/jobs-command.ts', 'resume [ids...]'],
    ['native/hosts/cli/commands/index-command.ts', 'index <path>'],
    ['native/hosts/cli/commands/models-command.ts', 'pull <id>'],
    ['native/hosts/cli/commands/run-onnx-command.ts', 'run-onnx'],
    ['native/hosts/cli/commands/generate-command.ts', 'generate'],
  ];
  for (const [file, name] of writing) {
    const body = action(file, name);
    assert.match(body, /withEngine\(ctx, \{\}/, `${file} ${name}`);
    assert.doesNotMatch(body, /openLibrary|withReadStore|withStore|new (Searcher|EmbedClient)|\bstore\./, `${file} ${name}`);
    assert.doesNotMatch(body, WIRING, `${file} ${name}`);
  }
  // jobs list: its command is built by addFilters(jobs.command('list')...)
  const jobs = read('native/hosts/cli/commands/jobs-command.ts');
  const list = jobs.slice(jobs.indexOf("jobs.command('list')"), jobs.indexOf(".command('show <id>')"));
  assert.match(list, /withEngine\(ctx, \{ readOnly: true \}[\s\S]*engine\.api\['jobs\.list'\]/);
  assert.doesNotMatch(list, /withReadStore|withStore|\bstore\./);
});
