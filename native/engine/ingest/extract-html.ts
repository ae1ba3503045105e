import { convert, type HtmlToTextOptions } from 'html-to-text';
import type { ExtractResult } from './extract-types.js';
import { decodeText, normalizeNewlines, sha256 } from './source.js';

/** Elements whose content is never document text: code, styling, embedded media and site chrome. */
const SKIPPED_ELEMENTS = ['head', 'script', 'style', 'noscript', 'template', 'svg', 'canvas', 'iframe', 'object', 'nav', 'footer', 'img', 'button', 'select'];

const HTML_OPTIONS: HtmlToTextOptions = {
  wordwrap: false,
  preserveNewlines: false,
  selectors: [
    ...SKIPPED_ELEMENTS.map((selector) => ({ selector, format: 'skip' })),
    { selector: 'a', options: { ignoreHref: true } },
    ...['h1', 'h2', 'h3', 'h4', 'h5', 'h6'].map((selector) => ({ selector, options: { uppercase: false } })),
    { selector: 'table', format: 'dataTable', options: { uppercaseHeaderCells: false } },
  ],
};

/** HTML: visible text with paragraph breaks kept; scripts, styles, navigation and footers dropped; the title from <title>. */
export function extractHtml(buf: Buffer, file: string, key: string): ExtractResult {
  const { text: html, warnings } = decodeText(buf, file, declaredCharset(buf) ?? 'utf-8');
  const text = tidy(convert(html, HTML_OPTIONS));
  const title = htmlTitle(html);
  return { docs: [{ key, ...(title ? { title } : {}), text, sha256: sha256(buf) }], errors: [], warnings };
}

/** The charset a page declares in its first 2 KiB (`<meta charset>` or http-equiv), if any. */
function declaredCharset(buf: Buffer): string | undefined {
  const head = buf.subarray(0, 2048).toString('latin1');
  return /<meta[^>]+charset\s*=\s*["']?([\w-]+)/i.exec(head)?.[1]?.toLowerCase();
}

function htmlTitle(html: string): string | undefined {
  const m = /<title[^>]*>([\s\S]*?)<\/title>/i.exec(html);
  if (!m?.[1]) return undefined;
  const title = convert(m[1], { wordwrap: false }).replace(/\s+/g, ' ').trim();
  return title || undefined;
}

/** No-break spaces as spaces, trailing spaces off, at most one blank line between blocks, no leading/trailing blank lines. */
function tidy(text: string): string {
  return normalizeNewlines(text)
    .replace(/\u00a0/g, ' ')
    .replace(/[ \t]+\n/g, '\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}
