/**
 * A server-sent-events parser for a streamed fetch body (the web host's `/api/events`): EventSource
 * cannot send the session header, so the page reads the stream itself. Pure: feed it text as it
 * arrives (any split, CRLF or LF), it calls `onEvent(name, data)` per complete event; comments
 * (`: ping`) are dropped; `retry:` is reported through `onRetry`.
 */
export interface SseParser {
  push(text: string): void;
}

export function createSseParser(onEvent: (name: string, data: string) => void, onRetry?: (ms: number) => void): SseParser {
  let buf = '';
  let name = '';
  let data: string[] = [];
  const line = (l: string) => {
    if (l === '') {
      if (data.length) onEvent(name || 'message', data.join('\n'));
      name = '';
      data = [];
      return;
    }
    if (l.startsWith(':')) return;
    const i = l.indexOf(':');
    const field = i < 0 ? l : l.slice(0, i);
    let value = i < 0 ? '' : l.slice(i + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') name = value;
    else if (field === 'data') data.push(value);
    else if (field === 'retry' && /^\d+$/.test(value)) onRetry?.(Number(value));
  };
  return {
    push(text) {
      buf += text;
      for (;;) {
        const m = /\r\n|\r|\n/.exec(buf);
        // a lone \r at the end may be the first half of \r\n: wait for more
        if (!m || (m[0] === '\r' && m.index === buf.length - 1)) break;
        line(buf.slice(0, m.index));
        buf = buf.slice(m.index + m[0].length);
      }
    },
  };
}
