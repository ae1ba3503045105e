/**
 * The task of a model folder outside the catalog, read from its Hugging Face config.json: a
 * sequence classifier with one label is a cross-encoder reranker, a causal LM generates. Lets the
 * UI offer rerankers (and generators) found on disk, such as fixtures/reranker-tiny-random.
 */
import fs from 'node:fs';
import path from 'node:path';

export type InferredTask = 'rerank' | 'generate';

interface HfConfig {
  architectures?: unknown;
  num_labels?: unknown;
  id2label?: unknown;
}

/** 'rerank', 'generate', or null when config.json is missing, unreadable or says neither. */
export function inferModelTask(dir: string): InferredTask | null {
  let cfg: HfConfig;
  try {
    cfg = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8')) as HfConfig;
  } catch {
    return null;
  }
  if (typeof cfg !== 'object' || cfg === null) return null;
  const archs = Array.isArray(cfg.architectures) ? cfg.architectures.filter((a): a is string => typeof a === 'string') : [];
  const labels = typeof cfg.num_labels === 'number' ? cfg.num_labels : cfg.id2label && typeof cfg.id2label === 'object' ? Object.keys(cfg.id2label).length : 1;
  if (archs.some((a) => a.endsWith('ForSequenceClassification')) && labels === 1) return 'rerank';
  if (archs.some((a) => a.endsWith('ForCausalLM'))) return 'generate';
  return null;
}
