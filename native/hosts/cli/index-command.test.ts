import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { runTandem } from '../../testing/cli-run.js';
import { sharedOrSkip } from '../../testing/shared.js';

const { shared, skip } = sharedOrSkip();
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-index-cli-'));
const MODEL = 'minishlab/potion-base-2M';
const BINARY = Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3, 0, 0x3e, 0, 1, 0, 0, 0, 0x10, 0x6b]);

function env(name: string): NodeJS.ProcessEnv {
  return { ...process.env, TANDEM_HOME: path.join(tmp, `${name}-home`), TANDEM_MODELS_DIR: shared ? path.join(shared, 'models') : '' };
}

function tree(name: string, files: Record<string, string | Buffer>): string {
  const root = path.join(tmp, name);
  for (const [rel, content] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
    fs.writeFileSync(path.join(root, rel), content);
  }
  return root;
}

const index = (args: string[], e: NodeJS.ProcessEnv) => runTandem(['index', ...args, '--model', MODEL, '--quiet'], e, { timeoutMs: 120_000 });

interface Summary {
  job: string;
  filesIndexed: number;
  filesSkipped: number;
  filesNotIndexed: number;
  skipped: Array<{ path: string; reason: string }>;
  errors: Array<{ path: string; reason: string }>;
  byReason: Record<string, number>;
}

test('index: extension-less and UTF-16 text is indexed; every skip has its reason in --json, in the job record and the summary; exit 3', { skip }, async () => {
  const root = tree('mixed', {
    'GPL-3': 'GNU GENERAL PUBLIC LICENSE. Version 3. The licenses for most software are designed to take away your freedom to share and change it.\n',
    'copyright': 'Format: machine-readable. Upstream-Name: zebrafish-tools. Files: * Copyright: 2024 The Archibald Project\n',
    'NOTES-UTF16': Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('Windows notes about the quokka colony census.\r\n', 'utf16le')]),
    'core': BINARY,
    'photo.png': BINARY,
    '.env': 'SECRET=1\n',
    '.gitignore': 'drafts/\n',
    'drafts/d.md': 'draft',
    'paper.pdf': '%PDF-1.7 this is not really a pdf',
  });
  const e = env('mixed');
  const r = await index([root, '--collection', 'mixed', '--json'], e);
  assert.equal(r.status, 3, `refused and failed files exit 3\n${r.stderr}`);
  const s = JSON.parse(r.stdout) as Summary;
  assert.equal(s.filesIndexed, 3, 'GPL-3, copyright and the UTF-16 notes');
  const reasons = Object.fromEntries([...s.skipped, ...s.errors].map((k) => [path.relative(root, k.path), k.reason]));
  assert.deepEqual(Object.keys(reasons).sort(), ['.env', 'core', 'drafts', 'paper.pdf', 'photo.png'], 'every path not indexed, each once');
  assert.equal(reasons['.env'], 'hidden');
  assert.equal(reasons['drafts'], 'ignored by .gitignore');
  assert.equal(reasons['core'], 'binary');
  assert.equal(reasons['photo.png'], 'unsupported type .png');
  assert.match(reasons['paper.pdf']!, /^corrupt PDF: /);
  assert.deepEqual(s.byReason, { 'binary': 1, 'corrupt PDF': 1, 'hidden': 1, 'ignored by .gitignore': 1, 'unsupported type .png': 1 });
  assert.equal(s.filesNotIndexed, 3, 'core, photo.png and paper.pdf: hidden and ignored do not count');
  assert.match(r.stderr, /not indexed: .*1 binary/);
  assert.match(r.stderr, /skipped as asked: .*1 hidden/);

  const show = await runTandem(['jobs', 'show', s.job, '--json'], e);
  assert.equal(show.status, 0, show.stderr);
  const rec = JSON.parse(show.stdout) as { job: { result: Summary } };
  assert.deepEqual(rec.job.result.skipped.map((k) => k.reason).sort(), ['binary', 'hidden', 'ignored by .gitignore', 'unsupported type .png'], 'the job record keeps the reasons');
  assert.match(rec.job.result.errors[0]!.reason, /^corrupt PDF: /);

  // The sniffed files are searchable, the UTF-16 one decoded.
  for (const [q, file] of [['quokka census', 'NOTES-UTF16'], ['Archibald zebrafish', 'copyright'], ['freedom to share', 'GPL-3']] as const) {
    const hit = await runTandem(['search', q, '--collection', 'mixed', '--mode', 'lexical', '--json'], e);
    assert.equal(hit.status, 0, hit.stderr);
    assert.match(hit.stdout, new RegExp(file), `${q} finds ${file}`);
  }

  const verbose = await index([root, '--collection', 'mixed', '--verbose'], e);
  assert.equal(verbose.status, 3, 'still not indexed on the next run');
  assert.match(verbose.stderr, new RegExp(`${path.join(root, 'core').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: binary`), verbose.stderr);
});

test('index: a file named explicitly is indexed or refused with a reason (a binary: "binary", exit 3); a folder with only hidden and ignored skips exits 0', { skip }, async () => {
  const root = tree('explicit', { 'LICENSE-MIT': 'Permission is hereby granted, free of charge, to any person obtaining a copy.\n', 'core': BINARY, '.hidden.md': 'h', 'ok.md': '# ok\n\nfine' });
  const e = env('explicit');
  const bin = await index([path.join(root, 'core'), '--collection', 'x', '--json'], e);
  assert.equal(bin.status, 3, bin.stderr);
  const s = JSON.parse(bin.stdout) as Summary;
  assert.deepEqual(s.skipped, [{ path: path.join(root, 'core'), reason: 'binary' }]);
  assert.match(bin.stderr, /not indexed: 1 binary/);

  const lic = await index([path.join(root, 'LICENSE-MIT'), '--collection', 'x', '--json'], e);
  assert.equal(lic.status, 0, lic.stderr);
  assert.equal((JSON.parse(lic.stdout) as Summary).filesIndexed, 1);

  const folder = await index([root, '--collection', 'y'], e);
  assert.equal(folder.status, 3, 'core is refused in the folder too');
  fs.rmSync(path.join(root, 'core'));
  const clean = await index([root, '--collection', 'y'], e);
  assert.equal(clean.status, 0, `a hidden file is an expected skip\n${clean.stderr}`);
  assert.match(clean.stderr, /skipped as asked: 1 hidden/);
});
