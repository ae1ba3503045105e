import type { FileType } from './file-types.js';
import type { ExtractResult } from './extract-types.js';
import { decodeText, sha256 } from './source.js';

/** Plain text, Markdown and source code: the decoded file as one document (Markdown's first `# heading` is the title). */
export function extractPlainText(buf: Buffer, file: string, key: string, type: FileType): ExtractResult {
  const { text, warnings } = decodeText(buf, file);
  const title = type === 'md' ? markdownTitle(text) : undefined;
  return { docs: [{ key, ...(title ? { title } : {}), text, sha256: sha256(buf) }], errors: [], warnings };
}

/** The first level-1 ATX heading, or a `title:` in YAML front matter, near the top of a Markdown text. */
export function markdownTitle(text: string): string | undefined {
  const head = text.slice(0, 8192);
  const front = /^---\n([\s\S]*?)\n---\n/.exec(head);
  const fm = front ? /^title:\s*["']?(.+?)["']?\s*$/m.exec(front[1] ?? '') : null;
  if (fm?.[1]) return fm[1];
  const h1 = /^#[ \t]+(.+?)[ \t]*#*[ \t]*$/m.exec(head);
  return h1?.[1] || undefined;
}
