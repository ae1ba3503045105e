/**
 * JSON text -> value, or where the first syntax error is (line and column) and what was expected.
 * Browsers' JSON.parse messages differ and often give no position, so the syntax is checked here.
 */

export type JsonParse = { ok: true; value: unknown } | { ok: false; message: string; line: number; column: number };

class SyntaxProblem extends Error {
  constructor(
    readonly offset: number,
    message: string,
  ) {
    super(message);
  }
}

function describe(text: string, i: number): string {
  return i >= text.length ? 'the end of the text' : `'${text[i]}'`;
}

/** The offset of the first syntax error, or -1 when the text is one valid JSON value. */
function check(text: string): void {
  let i = 0;
  const ws = () => {
    while (i < text.length && ' \t\n\r'.includes(text[i]!)) i++;
  };
  const fail = (what: string): never => {
    throw new SyntaxProblem(i, `expected ${what}, found ${describe(text, i)}`);
  };
  const literal = (word: string) => {
    if (text.startsWith(word, i)) i += word.length;
    else fail('a value');
  };
  const string = () => {
    i++; // opening quote
    while (i < text.length && text[i] !== '"') {
      const c = text.charCodeAt(i);
      if (c < 0x20) fail('a closing quote (a string cannot hold a line break)');
      if (text[i] === '\\') {
        i++;
        if (text[i] === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 1, i + 5))) fail('four hex digits after \\u');
          i += 5;
          continue;
        }
        if (!'"\\/bfnrt'.includes(text[i] ?? 'x')) fail('an escape (\\" \\\\ \\/ \\b \\f \\n \\r \\t \\u)');
      }
      i++;
    }
    if (i >= text.length) fail('a closing quote');
    i++;
  };
  const number = () => {
    const m = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(i));
    if (!m || m[0] === '' || m[0] === '-') fail('a number');
    i += m![0].length;
  };
  const value = (): void => {
    ws();
    const c = text[i];
    if (c === '{') {
      i++;
      ws();
      if (text[i] === '}') return void i++;
      for (;;) {
        ws();
        if (text[i] !== '"') fail('a property name in double quotes');
        string();
        ws();
        if (text[i] !== ':') fail("':' after the property name");
        i++;
        value();
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === '}') return void i++;
        fail("',' or '}'");
      }
    }
    if (c === '[') {
      i++;
      ws();
      if (text[i] === ']') return void i++;
      for (;;) {
        value();
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === ']') return void i++;
        fail("',' or ']'");
      }
    }
    if (c === '"') return string();
    if (c === 't') return literal('true');
    if (c === 'f') return literal('false');
    if (c === 'n') return literal('null');
    if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) return number();
    fail('a value');
  };
  value();
  ws();
  if (i < text.length) fail('the end of the text');
}

export function parseJsonText(text: string): JsonParse {
  try {
    check(text);
  } catch (e) {
    if (!(e instanceof SyntaxProblem)) throw e;
    const before = text.slice(0, e.offset).split('\n');
    return { ok: false, message: e.message, line: before.length, column: before[before.length - 1]!.length + 1 };
  }
  return { ok: true, value: JSON.parse(text) as unknown };
}
