import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import path from 'node:path';
import { test } from 'node:test';
import { sharedOrSkip } from '../../testing/shared.js';
import { ChatTemplate, type ChatMessage } from './chat-template.js';
import { Utf8Stream } from './text-stream.js';
import { CharVocab, HfVocab } from './vocab.js';

const { shared, skip } = sharedOrSkip();
const QWEN = 'Qwen/Qwen2.5-0.5B-Instruct';

interface RefTokenizer {
  encode(text: string, opts?: { add_special_tokens?: boolean }): number[];
  decode(ids: number[], opts?: { skip_special_tokens?: boolean }): string;
  apply_chat_template(messages: ChatMessage[], opts: Record<string, unknown>): unknown;
}

async function hfTokenizer(id: string): Promise<RefTokenizer> {
  const req = createRequire(import.meta.url);
  const tf = (await import(req.resolve('@huggingface/transformers'))) as typeof import('@huggingface/transformers');
  tf.env.allowRemoteModels = false;
  tf.env.localModelPath = path.join(shared, 'models') + '/';
  return (await tf.AutoTokenizer.from_pretrained(id)) as unknown as RefTokenizer;
}

export const PARITY_STRINGS: readonly string[] = [
  'Hello world',
  'Hello, world! How are you today?',
  '',
  ' ',
  '   leading and trailing spaces   ',
  'tabs\tand\nnewlines\r\n\r\nand\u00a0nbsp',
  'whitespace runs:          end\n\n\n\n    indented',
  "don't won't they're I'm we've she'll he'd IT'S",
  'Numbers 1234567890 3.14159 -42 1e-10 0x1F',
  'Ünïcödé çàfé naïve résumé Ångström',
  'e\u0301 (combining acute) vs \u00e9 (precomposed): NFC',
  '日本語のテキストと中文和한국어',
  'العربية والعبرية עברית',
  'emoji 🤖🧬🔬 family 👨‍👩‍👧‍👦 flags 🇫🇷🇯🇵 skin 👍🏽',
  'math ∑ ∫ √ ≤ ≥ ≠ ∞ and symbols © ® ™ § ¶',
  'function f(x) {\n  return x => x * 2; // arrow\n}\n',
  'def main():\n    print("hi")\n    return {"a": [1, 2, 3]}\n',
  'SELECT * FROM jobs WHERE status = \'failed\' ORDER BY id DESC;',
  '<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n',
  'text with <|endoftext|> inside and <tool_call> tags </tool_call>',
  '{"name": "Ada", "tags": ["x", "y"], "n": 3, "ok": true, "z": null}',
  'Escapes: \\n \\t \\" \\\\ \\u00e9',
  'a'.repeat(300),
  'supercalifragilisticexpialidocious antidisestablishmentarianism',
  'MiXeD CaSe AND ALLCAPS and lower',
  '\u200b zero width \u200d joiner \ufeff bom',
  'ProteinSequence: MKTAYIAKQRQISFVKSHFSRQLEERLGLIEVQAPILSRVGDGTQDNLSGAEKAVQVKVKALPDAQ',
  'SMILES: CC(=O)Oc1ccccc1C(=O)O and CCN(CC)CCOC(=O)c1ccc(N)cc1',
];

test('byte-level BPE ids equal Hugging Face AutoTokenizer (Qwen2.5), with and without special tokens', { skip }, async () => {
  const ref = await hfTokenizer(QWEN);
  const ours = HfVocab.load(path.join(shared, 'models', QWEN));
  assert.deepEqual(ours.encode('Hello world'), [9707, 1879], 'the documented reference ids');
  for (const s of PARITY_STRINGS) {
    assert.deepEqual(ours.encode(s, true), ref.encode(s), `ids of ${JSON.stringify(s.slice(0, 60))}`);
    assert.deepEqual(ours.encode(s, false), ref.encode(s, { add_special_tokens: false }), `ids (no specials) of ${JSON.stringify(s.slice(0, 60))}`);
  }
});

test('token bytes streamed through UTF-8 equal Hugging Face decode, whatever the split across tokens', { skip }, async () => {
  const ref = await hfTokenizer(QWEN);
  const ours = HfVocab.load(path.join(shared, 'models', QWEN));
  let splitChars = 0;
  for (const s of PARITY_STRINGS) {
    const ids = ours.encode(s);
    if (ids.length === 0) continue; // the reference decode refuses an empty list
    const stream = new Utf8Stream();
    let text = '';
    for (const id of ids) {
      const b = ours.bytes[id];
      const piece = b ? stream.push(b) : '';
      // A character split over tokens is held back until complete: never a replacement char.
      assert.ok(!piece.includes('\uFFFD'), `no replacement character mid-stream in ${JSON.stringify(s.slice(0, 40))}`);
      if (b && new TextDecoder().decode(b).includes('\uFFFD')) splitChars++;
      text += piece;
    }
    text += stream.end();
    assert.equal(text, ref.decode(ids, { skip_special_tokens: true }), `decode of ${JSON.stringify(s.slice(0, 60))}`);
    assert.equal(ours.decode(ids), text, 'the vocab decode agrees');
  }
  assert.ok(splitChars > 0, 'some tokens carry partial UTF-8 characters (emoji, CJK): the test covers them');
});

test('special tokens have no bytes; the EOS and pad ids come from tokenizer_config.json', { skip }, () => {
  const ours = HfVocab.load(path.join(shared, 'models', QWEN));
  assert.equal(ours.bytes[151645], null, '<|im_end|> is never text');
  assert.ok(ours.special.has(151643) && ours.special.has(151644), 'endoftext and im_start are special');
  assert.deepEqual(ours.eosIds, [151645], 'eos_token <|im_end|>');
  assert.equal(ours.padId, 151643, 'pad_token <|endoftext|>');
  assert.equal(ours.size, 151665, 'vocabulary ids');
  assert.deepEqual([...ours.bytes[ours.encode(' world')[0]!]!], [...new TextEncoder().encode(' world')], 'a byte-level token maps back to its bytes');
});

const CONVERSATIONS: ChatMessage[][] = [
  [{ role: 'user', content: 'Hello!' }],
  [
    { role: 'system', content: 'You answer in JSON.' },
    { role: 'user', content: 'Give me a protein with "quotes" and\nnewlines 🧬' },
  ],
  [
    { role: 'user', content: 'What is 2+2?' },
    { role: 'assistant', content: '4' },
    { role: 'user', content: 'And 3+3?' },
  ],
];

test('chat templates render exactly like transformers.js apply_chat_template, and tokenize the same', { skip }, async () => {
  const ref = await hfTokenizer(QWEN);
  const vocab = HfVocab.load(path.join(shared, 'models', QWEN));
  const tpl = ChatTemplate.fromConfig(vocab.config);
  assert.ok(tpl, 'Qwen2.5 has a chat template');
  for (const msgs of CONVERSATIONS) {
    for (const add of [true, false]) {
      const want = ref.apply_chat_template(msgs, { tokenize: false, add_generation_prompt: add }) as string;
      const got = tpl.render(msgs, add);
      assert.equal(got, want, `render of ${msgs.length} messages, add_generation_prompt=${add}`);
      const wantIds = (ref.apply_chat_template(msgs, { tokenize: true, return_tensor: false, return_dict: false, add_generation_prompt: add }) as number[]);
      assert.deepEqual(vocab.encode(got), wantIds, 'ids of the rendered prompt');
    }
  }
  const one = tpl.render([{ role: 'user', content: 'hi' }], true);
  assert.ok(one.endsWith('<|im_start|>assistant\n'), 'add_generation_prompt opens the assistant turn');
  assert.ok(one.startsWith('<|im_start|>system\nYou are Qwen'), 'the default system prompt of the template');
});

test('a char vocabulary maps characters both ways and rejects unknown ones', () => {
  const v = new CharVocab({ a: 0, b: 1, '\n': 2, é: 3 });
  assert.deepEqual(v.encode('ab\né'), [0, 1, 2, 3], 'ids');
  assert.equal(v.decode([3, 0]), 'éa', 'decode');
  assert.deepEqual([...v.bytes[3]!], [0xc3, 0xa9], 'bytes of a non-ASCII char');
  assert.throws(() => v.encode('z'), /not in this model's vocabulary/, 'unknown character');
});
