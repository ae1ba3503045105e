import { findCatalogEntry, type Catalog } from './catalog.js';
import { describeModelDir, findModelDir } from './model-resolver.js';

/** The model that ships inside Tandem (models/builtin; see its PROVENANCE.md): always there, offline. */
export const BUILTIN_EMBEDDING_MODEL = 'minishlab/potion-base-2M';

export interface DefaultModelChoice {
  id: string;
  /** Why this one, in words (printed by `tandem index`, shown by the UI). */
  reason: string;
  builtin: boolean;
}

/**
 * The embedding model a new collection gets when none is asked for: the installed catalog embedding
 * model with the best published retrieval score (`retrievalNdcg10`; ties by id, so the choice is
 * deterministic), else the built-in one. Only catalog models count: a folder outside the catalog has no
 * published score to rank it by (name it with --model).
 */
export function chooseDefaultEmbeddingModel(catalog: Catalog, env: NodeJS.ProcessEnv = process.env): DefaultModelChoice {
  let best: { id: string; score: number } | undefined;
  for (const entry of catalog.models) {
    if (entry.task !== 'embedding' || entry.kind !== undefined || entry.id === BUILTIN_EMBEDDING_MODEL) continue;
    const dir = findModelDir(entry.id, env);
    if (!dir) continue;
    try {
      const d = describeModelDir(entry.id, dir, entry);
      if (!d.variants[d.defaultVariant]) continue;
    } catch {
      continue; // a folder without weights (e.g. a tokenizer-only copy) is not installed
    }
    const score = entry.retrievalNdcg10 ?? 0;
    if (!best || score > best.score || (score === best.score && entry.id < best.id)) best = { id: entry.id, score };
  }
  const builtinScore = findCatalogEntry(catalog, BUILTIN_EMBEDDING_MODEL)?.retrievalNdcg10 ?? 0;
  if (best && best.score > builtinScore) {
    return { id: best.id, builtin: false, reason: `the best installed embedding model (retrieval nDCG@10 ${best.score.toFixed(3)})` };
  }
  return { id: BUILTIN_EMBEDDING_MODEL, builtin: true, reason: 'the built-in model (nothing better is installed; `tandem collections upgrade NAME --model ID` moves a collection to a better one later)' };
}
