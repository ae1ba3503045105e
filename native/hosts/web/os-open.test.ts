import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { OPEN_TARGET_ENV, openCommand, osOpen, WINDOWS_OPEN_SCRIPT } from './os-open.js';

/** Library file names that a shell (cmd, sh) would read as commands, variables or redirections. */
const HOSTILE = [
  'C:\\Users\\r\\papers\\a&calc&.pdf',
  'C:\\Users\\r\\papers\\a & calc & b.pdf',
  'C:\\Users\\r\\%COMSPEC%.pdf',
  'C:\\Users\\r\\x^&calc.pdf',
  'C:\\Users\\r\\a|calc.pdf',
  'C:\\Users\\r\\a<b>c.pdf',
  'C:\\Users\\r\\x" & calc & ".pdf',
  'C:\\Users\\r\\[draft] notes (1).pdf',
  'C:\\Users\\r\\$(calc) `calc` $env:PATH.pdf',
  "/home/r/papers/'; touch pwned; '.pdf",
  '/home/r/papers/$(touch pwned).pdf',
  '/home/r/papers/a;b|c&d>e.pdf',
  '/home/r/papers/line\nbreak.pdf',
];

test('Windows: never cmd; the target travels in an environment variable, the command line is the same for every name', () => {
  const baseline = openCommand('C:\\Users\\r\\plain.pdf', 'win32');
  for (const target of HOSTILE) {
    const c = openCommand(target, 'win32');
    assert.doesNotMatch(c.cmd, /^cmd(\.exe)?$/i, `no cmd for ${target}`);
    assert.equal(c.cmd, 'powershell.exe');
    assert.deepEqual(c.args, baseline.args, `the arguments do not depend on the name (${target})`);
    assert.ok(!c.args.some((a) => a.includes(target) || a.includes('calc')), `the name is not on the command line (${target})`);
    assert.deepEqual(c.env, { [OPEN_TARGET_ENV]: target }, 'the exact name is handed over as data');
  }
  assert.ok(baseline.args.includes(WINDOWS_OPEN_SCRIPT), 'the script is a constant');
  assert.match(WINDOWS_OPEN_SCRIPT, /UseShellExecute = \$true/, 'opened through ShellExecute (the default application)');
  assert.doesNotMatch(WINDOWS_OPEN_SCRIPT, /Start-Process|Invoke-Item|Invoke-Expression|iex/, 'no cmdlet that globs or evaluates the name');
});

test('macOS and Linux: the opener gets the name as its one argument, no shell', () => {
  for (const target of HOSTILE) {
    assert.deepEqual(openCommand(target, 'darwin'), { cmd: 'open', args: [target] }, `darwin: ${target}`);
    assert.deepEqual(openCommand(target, 'linux'), { cmd: 'xdg-open', args: [target] }, `linux: ${target}`);
    assert.deepEqual(openCommand(target, 'freebsd'), { cmd: 'xdg-open', args: [target] }, `freebsd: ${target}`);
  }
});

test('osOpen runs the opener with the name as one argv entry: nothing in it is executed', { skip: process.platform === 'win32' ? 'skipped: POSIX opener test' : false }, async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-os-open-'));
  const oldPath = process.env.PATH;
  t.after(() => {
    process.env.PATH = oldPath;
    fs.rmSync(dir, { recursive: true, force: true });
  });
  // a stand-in xdg-open on PATH that records the arguments it was given, one file per call
  const log = path.join(dir, 'calls');
  fs.mkdirSync(log);
  const opener = path.join(dir, 'bin', 'xdg-open');
  fs.mkdirSync(path.dirname(opener));
  fs.writeFileSync(opener, `#!/bin/sh\nprintf '%s\\0' "$#" "$@" > "${log}/$$"\n`, { mode: 0o755 });
  process.env.PATH = `${path.dirname(opener)}${path.delimiter}${oldPath ?? ''}`;
  const targets = HOSTILE.filter((x) => x.startsWith('/')).map((x) => path.join(dir, path.basename(x)));
  for (const target of targets) await osOpen(target, 'linux');
  const deadline = Date.now() + 10_000;
  while (fs.readdirSync(log).length < targets.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  const calls = fs.readdirSync(log).map((f) => fs.readFileSync(path.join(log, f), 'utf8').split('\0').slice(0, -1));
  assert.equal(calls.length, targets.length, 'one opener run per file');
  assert.deepEqual(calls.map((c) => c[0]).sort(), targets.map(() => '1'), 'each got exactly one argument');
  assert.deepEqual(calls.map((c) => c[1]).sort(), [...targets].sort(), 'the exact names');
  assert.ok(!fs.existsSync(path.join(process.cwd(), 'pwned')) && !fs.existsSync(path.join(dir, 'pwned')), 'nothing in a name ran');
});
