import path from 'node:path';
import type { LibraryStore } from '../engine/store/library-store.js';

/**
 * A tiny collection for store-level tests: "papers" (model m/x, static, 4-d vectors) holding
 * notes.md under `home` as three chunks about a heron, bread and tides.
 */
export function writeSmallCollection(lib: LibraryStore, home: string): void {
  const c = lib.ensureCollection({ name: 'papers', model: 'm/x', variant: 'static', root: home });
  const texts = ['the heron stands in the marsh', 'bread rises in a warm oven', 'tides follow the moon'];
  lib.writeDocuments(c.id, 'm/x@static', [
    {
      doc: { key: 'notes.md', path: path.join(home, 'notes.md'), fileType: 'md', size: 100, mtimeMs: 1, sha256: 'x' },
      chunks: texts.map((text, ord) => ({ ord, text, start: ord * 40, end: ord * 40 + text.length, tokens: 6 })),
      vectors: Float32Array.from({ length: texts.length * 4 }, (_, i) => Math.sin(i + 1)),
      dims: 4,
    },
  ]);
}
