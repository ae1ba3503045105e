// Builds Tandem's built-in embedding model, models/builtin/minishlab/potion-base-2M/, from the real
// potion-base-2M in the shared folder (MIT; the one model that may ship in the project):
//
//   node scripts/build-builtin-model.mjs [SOURCE_DIR]     (default ../shared/models/minishlab/potion-base-2M)
//
// The f32 token table (safetensors tensor `embeddings`, 29,528 x 64) becomes int8 with one float32
// scale per row (scale = max|x| / 127, round to nearest; all-zero rows stay zero): tensor
// `embeddings` (I8) plus `embeddings_scale` (F32, one per row) in model.safetensors, dequantised
// on load (native/engine/inference/safetensors.ts). The build fails unless every row keeps cosine >= 0.9999
// to the f32 original. Tokenizer files are copied byte for byte. The output is deterministic (no
// dates), so rebuilding gives the same bytes; PROVENANCE.md and .tandem-manifest.json record the
// sha256 of every source and output file.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const ID = 'minishlab/potion-base-2M';
const src = path.resolve(process.argv[2] ?? path.join(root, '..', 'shared', 'models', ID));
const out = path.join(root, 'models', 'builtin', ID);
const MIN_COSINE = 0.9999;
const COPIED = ['tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json'];

const sha256 = (buf) => crypto.createHash('sha256').update(buf).digest('hex');
const fail = (msg) => {
  process.stderr.write(`build-builtin-model: ${msg}\n`);
  process.exit(1);
};

if (!fs.existsSync(path.join(src, 'model.safetensors'))) fail(`no model.safetensors in ${src} (pass the potion-base-2M folder as the first argument)`);

// --- read the f32 table ---------------------------------------------------------------------
const sourceBuf = fs.readFileSync(path.join(src, 'model.safetensors'));
const headerLen = Number(sourceBuf.readBigUInt64LE(0));
const header = JSON.parse(sourceBuf.subarray(8, 8 + headerLen).toString('utf8'));
const t = header.embeddings;
if (!t || t.dtype !== 'F32' || t.shape.length !== 2) fail(`expected an F32 2-D tensor "embeddings" in ${src}/model.safetensors`);
const [rows, cols] = t.shape;
const bytes = Buffer.from(sourceBuf.subarray(8 + headerLen + t.data_offsets[0], 8 + headerLen + t.data_offsets[1]));
const f32 = new Float32Array(bytes.buffer, bytes.byteOffset, rows * cols);

// --- quantise per row -------------------------------------------------------------------------
const q = new Int8Array(rows * cols);
const scales = new Float32Array(rows);
let minCos = Infinity;
let maxAbsErr = 0;
let minRow = -1;
let sumCos = 0;
let zeroRows = 0;
for (let r = 0; r < rows; r++) {
  const o = r * cols;
  let max = 0;
  for (let d = 0; d < cols; d++) max = Math.max(max, Math.abs(f32[o + d]));
  if (max === 0) {
    zeroRows++;
    sumCos += 1;
    continue; // q and scale stay 0
  }
  const scale = Math.fround(max / 127);
  scales[r] = scale;
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let d = 0; d < cols; d++) {
    const v = Math.max(-127, Math.min(127, Math.round(f32[o + d] / scale)));
    q[o + d] = v;
    const deq = Math.fround(v * scale);
    maxAbsErr = Math.max(maxAbsErr, Math.abs(deq - f32[o + d]));
    dot += f32[o + d] * deq;
    na += f32[o + d] * f32[o + d];
    nb += deq * deq;
  }
  const cos = dot / Math.sqrt(na * nb);
  sumCos += cos;
  if (cos < minCos) {
    minCos = cos;
    minRow = r;
  }
}
if (minCos < MIN_COSINE) fail(`row ${minRow} keeps cosine ${minCos.toFixed(6)} < ${MIN_COSINE} to the f32 original`);

// --- write ------------------------------------------------------------------------------------
function safetensors(tensors, metadata) {
  const hdr = { __metadata__: metadata };
  let offset = 0;
  for (const [name, { dtype, shape, data }] of tensors) {
    hdr[name] = { dtype, shape, data_offsets: [offset, offset + data.byteLength] };
    offset += data.byteLength;
  }
  let json = JSON.stringify(hdr);
  json += ' '.repeat((8 - ((json.length + 8) % 8)) % 8); // data starts 8-byte aligned
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(Buffer.byteLength(json)));
  return Buffer.concat([len, Buffer.from(json), ...tensors.map(([, { data }]) => Buffer.from(data.buffer, data.byteOffset, data.byteLength))]);
}

const model = safetensors(
  [
    ['embeddings', { dtype: 'I8', shape: [rows, cols], data: q }],
    ['embeddings_scale', { dtype: 'F32', shape: [rows], data: scales }],
  ],
  { format: 'tandem-int8-rows', source: ID, note: 'embeddings[r] = int8 row r * embeddings_scale[r] (scripts/build-builtin-model.mjs)' },
);

const config = {
  model_type: 'bert',
  architectures: ['StaticModel'],
  hidden_size: cols,
  vocab_size: rows,
  normalize: true,
  base_model: ID,
  note: 'Tandem built-in copy: the Model2Vec table as int8 with a float32 scale per row (see PROVENANCE.md)',
};

const sourceFiles = ['model.safetensors', ...COPIED, 'NOTICE.potion-base-2M'].filter((f) => fs.existsSync(path.join(src, f)));
const sourceHashes = sourceFiles.map((f) => {
  const b = fs.readFileSync(path.join(src, f));
  return { path: f, sha256: sha256(b), size: b.length };
});

fs.rmSync(out, { recursive: true, force: true });
fs.mkdirSync(out, { recursive: true });
const written = new Map();
const write = (name, data) => {
  const b = Buffer.isBuffer(data) ? data : Buffer.from(data);
  fs.writeFileSync(path.join(out, name), b);
  written.set(name, b);
};
write('model.safetensors', model);
write('config.json', JSON.stringify(config, null, 2) + '\n');
for (const f of COPIED) write(f, fs.readFileSync(path.join(src, f)));

const upstreamNotice = fs.existsSync(path.join(src, 'NOTICE.potion-base-2M')) ? fs.readFileSync(path.join(src, 'NOTICE.potion-base-2M'), 'utf8').trimEnd() : '';
write(
  'NOTICE',
  `potion-base-2M, built into Tandem
=================================

This folder holds a modified copy (int8 quantisation of the token table) of:

  Model:    minishlab/potion-base-2M (Model2Vec static embeddings, distilled from
            BAAI/bge-base-en-v1.5 with Tokenlearn)
  Source:   https://huggingface.co/minishlab/potion-base-2M
  Authors:  The Minish Lab (MinishLab)
  License:  MIT

The MIT license permits use, copying, modification, merging, publishing,
distribution, sublicensing and sale of the model weights, provided the
copyright and permission notice is kept with every copy:

  Permission is hereby granted, free of charge, to any person obtaining a copy
  of this software and associated documentation files (the "Software"), to deal
  in the Software without restriction, including without limitation the rights
  to use, copy, modify, merge, publish, distribute, sublicense, and/or sell
  copies of the Software, and to permit persons to whom the Software is
  furnished to do so, subject to the following conditions:

  The above copyright notice and this permission notice shall be included in
  all copies or substantial portions of the Software.

  THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR
  IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY,
  FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE
  AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER
  LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,
  OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE
  SOFTWARE.
${upstreamNotice ? `\nThe notice that came with the source copy, verbatim:\n\n${upstreamNotice}\n` : ''}`,
);

const table = (list) => list.map((f) => `| \`${f.path}\` | ${f.size.toLocaleString('en-US')} | \`${f.sha256}\` |`).join('\n');
const outList = () => [...written].map(([p, b]) => ({ path: p, size: b.length, sha256: sha256(b) }));
write(
  'PROVENANCE.md',
  `# Provenance of the built-in potion-base-2M

Tandem's offline default model: [minishlab/potion-base-2M](https://huggingface.co/minishlab/potion-base-2M)
(MIT, see NOTICE), a Model2Vec static model: a ${rows.toLocaleString('en-US')} x ${cols} token table,
mean over a text's tokens, L2-normalised. Built by \`node scripts/build-builtin-model.mjs\` from
the project's shared copy (\`../shared/models/${ID}\`), which is what every test and benchmark of the
project has used.

## Source files

| file | bytes | sha256 |
|---|---|---|
${table(sourceHashes)}

## How it was built

- \`model.safetensors\`: the f32 tensor \`embeddings\` quantised per row: scale = max|x| / 127
  (float32), value = round(x / scale) clamped to [-127, 127]; stored as tensor \`embeddings\` (I8,
  [${rows}, ${cols}]) and \`embeddings_scale\` (F32, [${rows}]). Tandem multiplies back on load
  (\`native/engine/inference/safetensors.ts\`) and runs it exactly like the f32 table. All-zero rows
  would stay zero (scale 0); this table has ${zeroRows}. Tandem skips [UNK] when pooling and adds no
  special tokens, as Model2Vec does.
- Cosine of each dequantised row to its f32 original: minimum ${minCos.toFixed(7)} (row ${minRow}),
  mean ${(sumCos / rows).toFixed(7)} (the build fails below ${MIN_COSINE}); largest absolute
  difference of a value ${maxAbsErr.toExponential(2)}. The shared table is itself the dequantised int8
  conversion its NOTICE describes (scale = max|x| / 127 per token; mean cosine 0.99998 to the upstream
  f32, worst row 0.99992), so this round trip gives back its values to float32 rounding.
- \`tokenizer.json\`, \`tokenizer_config.json\`, \`special_tokens_map.json\`: copied byte for byte.
  \`vocab.txt\` is left out (\`tokenizer.json\` holds the same vocabulary).
- \`config.json\`: written by the script (StaticModel, hidden_size ${cols}, vocab_size ${rows},
  normalize true).

## Output files

| file | bytes | sha256 |
|---|---|---|
${table(outList())}

\`tandem models verify ${ID}\` checks the built-in copy against \`.tandem-manifest.json\` (the same
hashes). Quality (STS-B test Spearman, mean pooling) is checked by
\`native/engine/models/builtin-model.test.ts\` against the shared f32 model's 72.80.
`,
);

const manifest = {
  version: 1,
  id: ID,
  source: 'builtin',
  origin: 'scripts/build-builtin-model.mjs from ../shared/models/minishlab/potion-base-2M',
  updatedAt: '1970-01-01T00:00:00.000Z',
  files: outList()
    .filter((f) => f.path !== 'PROVENANCE.md' && f.path !== 'NOTICE')
    .map((f) => ({ path: f.path, sha256: f.sha256, size: f.size, pinned: true }))
    .sort((a, b) => a.path.localeCompare(b.path)),
};
fs.writeFileSync(path.join(out, '.tandem-manifest.json'), JSON.stringify(manifest, null, 2) + '\n');

const total = outList().reduce((s, f) => s + f.size, 0);
process.stdout.write(
  `built ${path.relative(root, out)}: ${rows} x ${cols} int8 + per-row scales, min row cosine ${minCos.toFixed(7)} (row ${minRow}), mean ${(sumCos / rows).toFixed(7)}, max abs diff ${maxAbsErr.toExponential(2)}, ${zeroRows} zero rows; ${total.toLocaleString('en-US')} bytes in ${written.size} files\n`,
);
