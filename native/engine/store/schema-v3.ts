/**
 * Schema version 3: where in its document a chunk lies, finer than its start offset (issue 15).
 *
 * `line`: the 1-based line of the chunk's first character in the extracted text (text-like
 * formats; NULL where lines mean nothing, e.g. PDFs, JSONL records, table rows), so a hit reports
 * `lines 120-134` for the passage that matched. `page_breaks`: for paged formats, a JSON array of
 * [offset within the chunk, page] for every page that begins inside the chunk, so a hit reports
 * the page its matched passage lies on, not the page where the chunk starts. Chunks written before
 * this version keep NULLs and report their start page and character offsets, as before.
 */
export const SCHEMA_V3 = `
ALTER TABLE chunks ADD COLUMN line INTEGER;
ALTER TABLE chunks ADD COLUMN page_breaks TEXT;
`;
