// Builds the addons in native/addons (build/Release/tandem_search.node: search kernels;
// tandem_io.node: float32-to-text output)
// with node-gyp. Search and output fall back to JavaScript when the addons are missing, so a
// failed build only warns (exit 0) unless --strict is given. Usage:
//   node scripts/build-addon.mjs [--strict] [--debug]
// Finds node-gyp in node_modules, else the copy bundled with npm. Node's headers are taken from
// the local installation (<prefix>/include/node) when present, so no download is needed.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const addonDir = path.join(root, 'native', 'addons');
const strict = process.argv.includes('--strict');
const debug = process.argv.includes('--debug');

function findNodeGyp() {
  const candidates = [];
  try {
    candidates.push(createRequire(path.join(root, 'package.json')).resolve('node-gyp/bin/node-gyp.js'));
  } catch {
    // not a dependency: use npm's
  }
  if (process.env.npm_execpath) candidates.push(path.join(path.dirname(process.env.npm_execpath), '..', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'));
  const prefix = path.dirname(path.dirname(process.execPath));
  candidates.push(path.join(prefix, 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'));
  candidates.push(path.join(path.dirname(process.execPath), 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'));
  return candidates.find((c) => fs.existsSync(c));
}

function fail(msg) {
  console.error(`build-addon: ${msg}`);
  console.error('build-addon: search and embedding output will use JavaScript (slower, same values).');
  process.exit(strict ? 1 : 0);
}

const gyp = findNodeGyp();
if (!gyp) fail('node-gyp not found (neither in node_modules nor bundled with npm)');

const args = [gyp, 'rebuild', '--loglevel=warn'];
if (debug) args.push('--debug');
const prefix = path.dirname(path.dirname(process.execPath));
if (!process.env.npm_config_nodedir && fs.existsSync(path.join(prefix, 'include', 'node', 'node_api.h'))) args.push(`--nodedir=${prefix}`);

const t0 = Date.now();
const r = spawnSync(process.execPath, args, { cwd: addonDir, stdio: ['ignore', 'inherit', 'inherit'] });
if (r.status !== 0) fail(`node-gyp failed (exit ${r.status ?? r.signal})`);

const built = path.join(addonDir, 'build', debug ? 'Debug' : 'Release', 'tandem_search.node');
if (!fs.existsSync(built)) fail(`node-gyp finished but ${built} is missing`);
const io = path.join(path.dirname(built), 'tandem_io.node');
if (!fs.existsSync(io)) fail(`node-gyp finished but ${io} is missing`);
try {
  const addon = createRequire(import.meta.url)(built);
  const ioAddon = createRequire(import.meta.url)(io);
  if (typeof ioAddon.formatF32Rows !== 'function') throw new Error('tandem_io lacks formatF32Rows');
  console.error(`build-addon: built ${path.relative(root, built)} and tandem_io.node in ${((Date.now() - t0) / 1000).toFixed(1)} s (kernel: ${addon.kernel()})`);
} catch (e) {
  fail(`built the addons but they do not load: ${e.message}`);
}
