import { isLiveCollection, modelKey, type Collection, type LibraryStore } from '../store/library-store.js';

export type SearchModeName = 'vector' | 'lexical' | 'hybrid';

/** The mode a search asked for, the one that answered, and why they differ (null when they do not). */
export interface ModeUsed {
  requested: SearchModeName;
  used: SearchModeName;
  reason: string | null;
}

/**
 * Vector and hybrid search need the collection's live vectors. A lexical-only collection (or one
 * with none written yet) answers those modes lexically, saying why; an upgrade in progress does
 * not change anything: its vectors are not live until it finishes.
 */
export function searchModeFor(lib: LibraryStore, c: Collection, requested: SearchModeName): ModeUsed {
  if (requested === 'lexical') return { requested, used: requested, reason: null };
  if (!isLiveCollection(c)) {
    const upgrading = c.upgrade ? `; an upgrade to ${c.upgrade.model} is under way and vector search starts when it ends` : `; \`tandem collections upgrade "${c.name}" --model ID\` adds vectors`;
    return { requested, used: 'lexical', reason: `collection "${c.name}" is lexical-only (no vectors), so ${requested} search answered lexically${upgrading}` };
  }
  if (lib.vectorCount(c.id, modelKey(c.model, c.variant)) === 0) {
    return { requested, used: 'lexical', reason: `collection "${c.name}" has no vectors of ${c.model} yet, so ${requested} search answered lexically` };
  }
  return { requested, used: requested, reason: null };
}
