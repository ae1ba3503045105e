import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { isTandemError } from '../common/errors.js';
import { TextTokenizer } from '../inference/tokenizer.js';
import { readStsb, sharedOrSkip } from '../../testing/shared.js';
import { type Chunk, type ChunkOptions, chunkText, countWords, DEFAULT_MAX_TOKENS, DEFAULT_OVERLAP_TOKENS } from './chunk.js';

/** The invariants every chunking must keep; returns the chunks for further checks. */
function checked(text: string, opts: ChunkOptions): Chunk[] {
  const chunks = chunkText(text, opts);
  const max = opts.maxTokens ?? DEFAULT_MAX_TOKENS;
  let covered = 0; // every non-space character lies in some chunk
  chunks.forEach((c, i) => {
    assert.equal(c.ord, i);
    assert.equal(c.text, text.slice(c.start, c.end), `chunk ${i} text must equal text.slice(start, end)`);
    assert.equal(c.text, c.text.trim(), `chunk ${i} must not start or end with whitespace`);
    assert.ok(c.text.length > 0, `chunk ${i} is empty`);
    assert.equal(c.tokens, opts.countTokens(c.text), `chunk ${i} tokens must be countTokens(text)`);
    assert.ok(c.tokens <= max, `chunk ${i} has ${c.tokens} tokens > ${max}`);
    if (i > 0) assert.ok(c.start > chunks[i - 1]!.start && c.end > chunks[i - 1]!.end, `chunk ${i} must move forward`);
    assert.equal(text.slice(covered, c.start).trim() === '' || c.start <= covered, true, `text before chunk ${i} (from ${covered}) is not covered`);
    covered = Math.max(covered, c.end);
  });
  assert.equal(text.slice(covered).trim(), '', 'the end of the text is not covered');
  return chunks;
}

const para = (n: number, words: number) =>
  Array.from({ length: n }, (_, s) => `Sentence ${s + 1} of this paragraph has ${Array.from({ length: words }, (_, w) => `w${w}`).join(' ')}.`).join(' ');

test('paragraph boundaries win over sentence boundaries when the chunk stays at least half full', () => {
  // Paragraphs of 3 sentences x 10 words = 30 words; 2 paragraphs fit in 70 tokens, 3 do not.
  const paragraphs = Array.from({ length: 6 }, (_, p) => para(3, 4).replace(/Sentence/g, `P${p}`));
  const text = paragraphs.join('\n\n');
  const chunks = checked(text, { maxTokens: 70, overlapTokens: 0, countTokens: countWords });
  assert.equal(chunks.length, 3);
  chunks.forEach((c, i) => assert.equal(c.text, `${paragraphs[2 * i]}\n\n${paragraphs[2 * i + 1]}`, `chunk ${i} must hold two whole paragraphs`));
});

test('sentences are not split at abbreviations, initials or decimals; lines and words are later resorts', () => {
  const text = 'Results vary, e.g. across sites and by Dr. Smith of J. R. R. Labs. The mean was 3.14 units. Done now!';
  const chunks = checked(text, { maxTokens: 16, overlapTokens: 0, countTokens: countWords });
  assert.deepEqual(
    chunks.map((c) => c.text),
    ['Results vary, e.g. across sites and by Dr. Smith of J. R. R. Labs.', 'The mean was 3.14 units. Done now!'],
  );
  // An over-long sentence is cut between words, and a cut at a sentence end would be preferred:
  // so the cut lands after 10 words only if "e.g.", "Dr.", "J." and "2." are not taken as sentence ends.
  for (const fake of ['e.g.', 'Dr.', 'J.', 'approx.']) {
    const s = `one two three four five six ${fake} seven eight nine ten eleven twelve thirteen.`;
    const cut = checked(s, { maxTokens: 10, overlapTokens: 0, countTokens: countWords });
    assert.equal(cut[0]!.tokens, 10, `"${fake}" must not end a sentence: ${JSON.stringify(cut.map((c) => c.text))}`);
  }
  // An initial before a capitalised word (a name) is not a sentence end either; a longer capitalised word is.
  const initial = checked('one two three four five six J. Seven eight nine ten eleven twelve thirteen.', { maxTokens: 10, overlapTokens: 0, countTokens: countWords });
  assert.equal(initial[0]!.tokens, 10, JSON.stringify(initial.map((c) => c.text)));
  const word = checked('one two three four five six Jo. Seven eight nine ten eleven twelve thirteen.', { maxTokens: 10, overlapTokens: 0, countTokens: countWords });
  assert.equal(word[0]!.text, 'one two three four five six Jo.');
  const real = checked('one two three four five six end. Seven eight nine ten eleven twelve thirteen.', { maxTokens: 10, overlapTokens: 0, countTokens: countWords });
  assert.equal(real[0]!.text, 'one two three four five six end.');
  const lines = 'alpha beta gamma delta\nepsilon zeta eta theta\niota kappa lambda mu';
  assert.deepEqual(
    checked(lines, { maxTokens: 9, overlapTokens: 0, countTokens: countWords }).map((c) => c.text),
    ['alpha beta gamma delta\nepsilon zeta eta theta', 'iota kappa lambda mu'],
  );
  const longSentence = Array.from({ length: 30 }, (_, i) => `v${i}`).join(' ');
  const words = checked(longSentence, { maxTokens: 10, overlapTokens: 0, countTokens: countWords });
  assert.deepEqual(words.map((c) => c.tokens), [10, 10, 10]);
  assert.equal(words.map((c) => c.text).join(' '), longSentence);
});

test('CJK sentence ends split without spaces', () => {
  const text = '今日は晴れです。明日は雨でしょう！本当ですか？';
  const chars = (t: string) => t.length;
  const chunks = checked(text, { maxTokens: 10, overlapTokens: 0, countTokens: chars });
  assert.deepEqual(chunks.map((c) => c.text), ['今日は晴れです。', '明日は雨でしょう！', '本当ですか？']);
});

test('consecutive chunks overlap by whole sentences within overlapTokens', () => {
  const text = Array.from({ length: 40 }, (_, i) => `Fact number ${i} is stated here.`).join(' ');
  const chunks = checked(text, { maxTokens: 30, overlapTokens: 10, countTokens: countWords });
  assert.ok(chunks.length > 5, `expected several chunks, got ${chunks.length}`);
  for (let i = 1; i < chunks.length; i++) {
    const prev = chunks[i - 1]!;
    const cur = chunks[i]!;
    assert.ok(cur.start < prev.end, `chunk ${i} should overlap the previous one`);
    const shared = text.slice(cur.start, prev.end);
    assert.match(shared, /^Fact number \d+ is stated here\.$/, `overlap of chunk ${i} should be one whole sentence: ${JSON.stringify(shared)}`);
    assert.ok(countWords(shared) <= 10, `overlap of chunk ${i} is ${countWords(shared)} tokens`);
  }
  // Hard-wrapped prose: the overlap starts at a sentence start, not at the start of a wrapped line.
  const wrapped = Array.from({ length: 30 }, (_, i) => `Claim ${i} holds for all cases.`)
    .join(' ')
    .split(' ')
    .reduce((acc, w, i) => acc + (i === 0 ? '' : i % 5 === 0 ? '\n' : ' ') + w, '');
  const wc = checked(wrapped, { maxTokens: 30, overlapTokens: 9, countTokens: countWords });
  for (let i = 1; i < wc.length; i++) {
    const shared = wrapped.slice(wc[i]!.start, wc[i - 1]!.end);
    assert.match(shared, /^Claim\s\d+\sholds\sfor\sall\scases\.$/, `wrapped overlap of chunk ${i}: ${JSON.stringify(shared)}`);
  }
  // Without whole sentences that fit, trailing words are carried instead.
  const long = Array.from({ length: 100 }, (_, i) => `x${i}`).join(' ') + '.';
  const byWords = checked(long, { maxTokens: 40, overlapTokens: 5, countTokens: countWords });
  for (let i = 1; i < byWords.length; i++) {
    const shared = long.slice(byWords[i]!.start, byWords[i - 1]!.end);
    assert.ok(countWords(shared) > 0 && countWords(shared) <= 5, `word overlap of chunk ${i}: ${JSON.stringify(shared)}`);
  }
});

test('pages: each chunk gets the page holding its start', () => {
  const p1 = para(6, 6);
  const p2 = para(6, 6).replace(/Sentence/g, 'Zeile');
  const text = `${p1}\n\n${p2}`;
  const pages = [
    { page: 1, start: 0, end: p1.length },
    { page: 2, start: p1.length + 2, end: text.length },
  ];
  const chunks = checked(text, { maxTokens: 40, overlapTokens: 8, countTokens: countWords, pages });
  assert.ok(chunks.length >= 4, `expected several chunks, got ${chunks.length}`);
  for (const c of chunks) assert.equal(c.page, c.start < p1.length ? 1 : 2, `chunk ${c.ord} at ${c.start}`);
  assert.ok(chunks.some((c) => c.page === 2), 'some chunk should be on page 2');
  assert.equal(chunkText(text, { countTokens: countWords }).every((c) => c.page === undefined), true);
});

test('a single 50k-character word is cut by characters only as a last resort', () => {
  const word = 'ACGT'.repeat(12_500);
  const text = `Sequence follows.\n\n${word}\n\nThe end.`;
  const quarter = (t: string) => Math.ceil(t.replace(/\s+/g, '').length / 4); // ~4 characters per token
  const chunks = checked(text, { maxTokens: 64, overlapTokens: 8, countTokens: quarter });
  const ws = text.indexOf(word);
  const we = ws + word.length;
  const parts = chunks.filter((c) => c.end > ws && c.start < we).map((c) => text.slice(Math.max(c.start, ws), Math.min(c.end, we)));
  assert.ok(parts.join('') === word, `the word pieces must tile the word exactly: ${parts.join('').length} chars vs ${word.length}`);
  for (const p of parts.slice(0, -1)) assert.equal(p.length, 256, 'word pieces should be packed full (64 tokens of 4 chars)');
  assert.equal(chunks[0]!.text, 'Sequence follows.');
  assert.ok(chunks.at(-1)!.text.endsWith('\n\nThe end.'), 'the tail of the word and the last paragraph share the last chunk');
  // A counter that sees the word as one token still gets chunks bounded by maxChars.
  const byWords = checked(word, { maxTokens: 256, overlapTokens: 32, countTokens: countWords });
  assert.equal(byWords.length, Math.ceil(word.length / (256 * 16)));
  assert.ok(byWords.map((c) => c.text).join('') === word, 'maxChars pieces must tile the word');
});

test('empty and blank text give no chunks; bad options are INVALID_ARGUMENT', () => {
  assert.deepEqual(chunkText('', { countTokens: countWords }), []);
  assert.deepEqual(chunkText(' \n\n\t ', { countTokens: countWords }), []);
  assert.deepEqual(chunkText('Hi.', { countTokens: countWords }).map((c) => [c.text, c.start, c.end, c.tokens]), [['Hi.', 0, 3, 1]]);
  const bad = (o: Partial<ChunkOptions>) => assert.throws(() => chunkText('x', { countTokens: countWords, ...o }), (e) => isTandemError(e, 'INVALID_ARGUMENT'));
  bad({ maxTokens: 0 });
  bad({ maxTokens: 10, overlapTokens: 5 });
  bad({ overlapTokens: -1 });
  bad({ countTokens: () => 300 });
  assert.equal(DEFAULT_MAX_TOKENS, 256);
  assert.equal(DEFAULT_OVERLAP_TOKENS, 32);
});

test('randomised texts never exceed maxTokens and always tile the text', () => {
  let seed = 7;
  const rand = (n: number) => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed % n;
  };
  const vocab = ['the', 'cell', 'e.g.', 'Dr.', '3.5', 'protein', 'binds!', 'why?', 'x'.repeat(300), '数据。', 'end.', '\n', '\n\n', '  '];
  for (let round = 0; round < 40; round++) {
    const text = Array.from({ length: 50 + rand(400) }, () => vocab[rand(vocab.length)]).join(' ');
    const maxTokens = 8 + rand(60);
    const overlapTokens = rand(Math.floor(maxTokens / 2));
    const chars = (t: string) => Math.ceil(t.length / 5);
    checked(text, { maxTokens, overlapTokens, countTokens: round % 2 ? countWords : chars });
  }
});

test('real tokenizer (all-MiniLM-L6-v2): chunks fit 256 tokens including [CLS]/[SEP]', { skip: sharedOrSkip().skip }, () => {
  const { shared } = sharedOrSkip();
  const tok = TextTokenizer.load(path.join(shared, 'models', 'Xenova', 'all-MiniLM-L6-v2'));
  const count = (t: string) => tok.rawEncode(t, true).length;
  const sentences = readStsb(shared).flatMap(([a, b]) => [a, b]).slice(0, 1200);
  const paragraphs: string[] = [];
  for (let i = 0; i < sentences.length; i += 7) paragraphs.push(sentences.slice(i, i + 7).join(' '));
  const text = paragraphs.join('\n\n') + '\n\n' + 'Unbreakable'.repeat(400) + ' 中文句子没有空格。'.repeat(200);
  const chunks = checked(text, { countTokens: count });
  assert.ok(chunks.length > 20, `expected many chunks, got ${chunks.length}`);
  const fill = chunks.reduce((s, c) => s + c.tokens, 0) / chunks.length;
  assert.ok(fill > 150, `chunks should be reasonably full, mean ${fill.toFixed(0)} tokens`);
});

test('10 MB of text is chunked with a bounded amount of token counting', { timeout: 60_000 }, () => {
  const sentence = 'The quick brown fox jumps over the lazy dog near the river bank. ';
  const paragraph = sentence.repeat(12).trim();
  const text = Array.from({ length: Math.ceil(10_000_000 / (paragraph.length + 2)) }, () => paragraph).join('\n\n');
  let countedChars = 0;
  let calls = 0;
  const counter = (t: string) => {
    countedChars += t.length;
    calls++;
    return countWords(t);
  };
  const chunks = chunkText(text, { countTokens: counter });
  assert.ok(text.length >= 10_000_000, `text is ${text.length} chars`);
  assert.ok(countedChars < 2.5 * text.length, `counted ${countedChars} chars for a ${text.length}-char text: chunks are being re-counted`);
  assert.ok(calls < text.length / 40, `${calls} counter calls`);
  assert.ok(chunks.every((c) => c.tokens <= DEFAULT_MAX_TOKENS), 'a chunk exceeds the default max');
});

test('an additive counter (isSeparator) gives the very chunks of counting each chunk again, in about one pass of counting', () => {
  let seed = 11;
  const rand = (n: number) => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed % n;
  };
  // Gaps the chunker trims but the counter does not split at (\u200b, \v, \ufeff), CJK stops without spaces, long words.
  const vocab = ['the', 'cell.', 'Dr.', 'binds!', 'why?', '数据。', 'x'.repeat(90), '\u200b', 'a\u200b', '\v', '\ufeff', '\u3000', '\u00a0', '\n', '\n\n', 'end.'];
  const wordCost = (w: string) => (w.length % 3) + 1;
  const plain = (t: string) => t.split(/[\t\n\r \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+/).filter(Boolean).reduce((s, w) => s + wordCost(w), 0);
  let counted = 0;
  const additive = Object.assign((t: string) => {
    counted += t.length;
    return plain(t);
  }, { isSeparator: (c: number) => /[\t\n\r \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]/.test(String.fromCharCode(c)) });
  for (let round = 0; round < 60; round++) {
    const text = Array.from({ length: 50 + rand(400) }, () => vocab[rand(vocab.length)]).join(rand(4) ? ' ' : '');
    const maxTokens = 12 + rand(80);
    const overlapTokens = rand(Math.floor(maxTokens / 2));
    const fast = chunkText(text, { maxTokens, overlapTokens, countTokens: additive });
    fast.forEach((c) => assert.ok(c.tokens === plain(c.text) && c.tokens <= maxTokens, `round ${round}: chunk ${c.ord} says ${c.tokens} tokens, has ${plain(c.text)}`));
    assert.deepEqual(fast, chunkText(text, { maxTokens, overlapTokens, countTokens: plain }), `round ${round}`);
  }
  // With tokenIds, each chunk carries exactly the ids of its own text (assembled from its pieces').
  const words = (t: string) => t.split(/[\t\n\r \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+/).filter(Boolean);
  const tokenIds = (t: string) => words(t).flatMap((w) => Array.from({ length: wordCost(w) }, (_, k) => w.charCodeAt(0) * 8 + k));
  for (let round = 0; round < 60; round++) {
    const text = Array.from({ length: 50 + rand(400) }, () => vocab[rand(vocab.length)]).join(rand(4) ? ' ' : '');
    const maxTokens = 12 + rand(80);
    const overlapTokens = rand(Math.floor(maxTokens / 2));
    const withIds = chunkText(text, { maxTokens, overlapTokens, countTokens: additive, tokenIds });
    withIds.forEach((c) => assert.deepEqual(c.ids, tokenIds(c.text), `round ${round}: chunk ${c.ord} ids`));
    assert.deepEqual(withIds.map(({ ids: _, ...c }) => c), chunkText(text, { maxTokens, overlapTokens, countTokens: plain }), `round ${round}: same chunks with ids`);
  }
  counted = 0;
  const prose = Array.from({ length: 300 }, (_, i) => `Sentence ${i} says something about cells. It binds well!`).join(' ');
  chunkText(prose, { maxTokens: 64, overlapTokens: 24, countTokens: additive });
  assert.ok(counted < 1.2 * prose.length, `counted ${counted} chars of a ${prose.length}-char text`);
});
