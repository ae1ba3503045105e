/**
 * The layer rule (scripts/layers.mjs, generated into eslint.config.js) fails on deliberately wrong
 * imports: fixture texts linted with ESLint's Node API at paths inside each layer. The pending list
 * may only shrink: every entry must still be needed. Each layer's README carries its boundary line.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { ESLint } from 'eslint';
import { admits, LAYERS, layerOf, PACKAGES, PENDING, readmeBlock, resolveImport, ROOT } from './layers.mjs';

const eslint = new ESLint({ cwd: ROOT, overrideConfigFile: path.join(ROOT, 'eslint.config.js') });

/** The layer-rule messages ESLint gives `code` placed at the repo-relative `file`. */
async function layerErrors(file: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: path.join(ROOT, file) });
  assert.ok(result, file);
  return result.messages.filter((m) => m.ruleId === 'no-restricted-imports' || m.ruleId === 'no-restricted-syntax').map((m) => m.message);
}

const wrong: Array<[string, string, string, RegExp]> = [
  ['a kernel imports a feature', 'native/engine/search/fixture-wrong.ts', "import { Searcher } from '../library/searcher.js';\nexport const s = Searcher;\n", /native\/engine\/search\/ may not import native\/engine\/library\//],
  ['a kernel imports the assembly', 'native/engine/inference/fixture-wrong.ts', "export { createEngine } from '../api/create-engine.js';\n", /may not import native\/engine\/api\//],
  ['an engine area imports the public entry', 'native/engine/api/handlers/fixture-wrong.ts', "export { createEngine } from '../../index.js';\n", /may not import native\/engine\/ \(the engine entry\)/],
  ['a host imports the store', 'native/hosts/web/fixture-wrong.ts', "import { openDatabase } from '../../engine/store/database.js';\nexport const o = openDatabase;\n", /native\/hosts\/web\/ may not import native\/engine\/store\//],
  ['a CLI command imports the jobs area', 'native/hosts/cli/commands/fixture-wrong.ts', "import type { Job } from '../../../engine/jobs/job-types.js';\nexport type J = Job;\n", /may not import native\/engine\/jobs\//],
  ['the renderer imports node:fs', 'renderer/src/fixture-wrong.ts', "import fs from 'node:fs';\nexport const f = fs;\n", /No Node built-ins/],
  ['the renderer imports fs/promises', 'renderer/src/features/fixture-wrong.ts', "import fs from 'fs/promises';\nexport const f = fs;\n", /No Node built-ins/],
  ['the renderer imports an engine area', 'renderer/src/features/fixture-wrong.ts', "import { tandemHome } from '../../../native/engine/node/paths.js';\nexport const t = tandemHome;\n", /renderer\/ may not import native\/engine\/node\//],
  ['common imports node:fs', 'native/engine/common/fixture-wrong.ts', "import fs from 'node:fs';\nexport const f = fs;\n", /No Node built-ins/],
  ['common imports the node area', 'native/engine/common/contract/fixture-wrong.ts', "import { tandemHome } from '../../node/paths.js';\nexport const t = tandemHome;\n", /native\/engine\/common\/ may not import native\/engine\/node\//],
  ['engine code imports electron', 'native/engine/node/fixture-wrong.ts', "import { app } from 'electron';\nexport const a = app;\n", /Electron code lives in electron\//],
  ['a host imports electron', 'native/hosts/electron-utility/fixture-wrong.ts', "import { app } from 'electron';\nexport const a = app;\n", /Electron code lives in electron\//],
  ['jobs imports better-sqlite3', 'native/engine/jobs/fixture-wrong.ts', "import Database from 'better-sqlite3';\nexport const D = Database;\n", /only code that speaks SQL/],
  ['a feature runs SQL text', 'native/engine/library/fixture-wrong.ts', "export const n = (db: { prepare(s: string): unknown }) => db.prepare('SELECT 1');\n", /only code that speaks SQL/],
  ['Electron main imports an engine area beyond its files', 'electron/main/fixture-wrong.ts', "import { spawnWorker } from '../../native/engine/node/spawn-worker';\nexport const s = spawnWorker;\n", /electron\/ may not import native\/engine\/node\//],
  ['Electron main imports the web host', 'electron/main/fixture-wrong.ts', "import { startWebHost } from '../../native/hosts/web/web-host';\nexport const s = startWebHost;\n", /electron\/ may not import native\/hosts\/web\//],
  ['shipped code imports the test helpers', 'native/engine/library/fixture-wrong.ts', "import { repoRoot } from '../../testing/cli-run.js';\nexport const r = repoRoot;\n", /may not import native\/testing\//],
];

for (const [what, file, code, expected] of wrong) {
  test(`the layer rule fails: ${what}`, async () => {
    const errors = await layerErrors(file, code);
    assert.ok(errors.some((m) => expected.test(m)), `${file}: expected ${expected}, got ${JSON.stringify(errors)}`);
  });
}

const right: Array<[string, string, string]> = [
  ['a kernel imports common and node', 'native/engine/search/fixture-right.ts', "import { TandemError } from '../common/errors.js';\nimport { tandemHome } from '../node/paths.js';\nexport const x = [TandemError, tandemHome];\n"],
  ['generate builds on inference and models', 'native/engine/generate/fixture-right.ts', "import { loadCatalog } from '../models/catalog.js';\nexport { resolveDevice } from '../inference/device.js';\nexport const c = loadCatalog;\n"],
  ['an api handler imports a feature', 'native/engine/api/handlers/fixture-right.ts', "import { Searcher } from '../../library/searcher.js';\nexport const s = Searcher;\n"],
  ['a host imports the entry and common', 'native/hosts/cli/commands/fixture-right.ts', "import { createEngine } from '../../../engine/index.js';\nimport { TandemError } from '../../../engine/common/errors.js';\nexport const x = [createEngine, TandemError];\n"],
  ['the store speaks SQL', 'native/engine/store/fixture-right.ts', "import Database from 'better-sqlite3';\nexport const n = (db: Database.Database) => db.prepare('SELECT 1');\n"],
  ['Electron main imports its listed files', 'electron/main/fixture-right.ts', "import { tandemHome } from '../../native/engine/node/paths';\nimport { CSP } from '../../native/hosts/web/csp';\nimport type { EngineReply } from '../../native/hosts/electron-utility/engine-port';\nexport type R = EngineReply;\nexport const x = [tandemHome, CSP];\n"],
  ['the renderer imports common', 'renderer/src/features/fixture-right.ts', "import type { ApiJob } from '../../../native/engine/common/api-contract';\nexport type J = ApiJob;\n"],
  ['a test reaches across layers', 'native/hosts/web/fixture-right.test.ts', "import { openDatabase } from '../../engine/store/database.js';\nimport Database from 'better-sqlite3';\nexport const x = [openDatabase, Database];\n"],
];

for (const [what, file, code] of right) {
  test(`the layer rule passes: ${what}`, async () => {
    assert.deepEqual(await layerErrors(file, code), [], file);
  });
}

/** Every relative import and package import of a source file (static `import`/`export ... from` only). */
function importsOf(file: string): string[] {
  const text = fs.readFileSync(path.join(ROOT, file), 'utf8');
  return [...text.matchAll(/^\s*(?:import|export)\b[^;]*?\bfrom\s*['"]([^'"]+)['"]|^\s*import\s*['"]([^'"]+)['"]/gm)].map((m) => (m[1] ?? m[2]) as string);
}

test('every pending exception is still needed (the list only shrinks)', () => {
  const stale: string[] = [];
  for (const p of PENDING) {
    if (!fs.existsSync(path.join(ROOT, p.file))) {
      stale.push(`${p.file}: gone`);
      continue;
    }
    const layer = layerOf(p.file);
    assert.ok(layer, `${p.file}: in no layer`);
    const specs = importsOf(p.file);
    const text = fs.readFileSync(path.join(ROOT, p.file), 'utf8');
    for (const a of p.allow) {
      let used: boolean;
      if (a === 'sql') used = /\.(prepare|exec|pragma)\(\s*['"`]/.test(text);
      else if (PACKAGES[a]) used = specs.some((s) => PACKAGES[a]!.names.some((n) => s === n || s.startsWith(`${n}/`)));
      else {
        assert.ok(!admits(layer.may, `${a}/x`), `${p.file}: ${a} is already allowed for ${layer.dir}`);
        used = specs.some((s) => s.startsWith('.') && admits([a], resolveImport(p.file, s)));
      }
      if (!used) stale.push(`${p.file}: ${a}`);
    }
  }
  assert.deepEqual(stale, [], 'no longer needed: remove these from PENDING in scripts/layers.mjs');
});

test("each layer's README states its boundaries as the table does", () => {
  const out: string[] = [];
  for (const l of LAYERS) {
    const file = path.join(ROOT, l.dir, 'README.md');
    if (!fs.existsSync(file)) out.push(`${l.dir}/README.md: missing`);
    else if (!fs.readFileSync(file, 'utf8').includes(readmeBlock(l))) out.push(`${l.dir}/README.md: boundary block out of date`);
  }
  assert.deepEqual(out, [], 'run `node scripts/layers.mjs --readmes`');
});
