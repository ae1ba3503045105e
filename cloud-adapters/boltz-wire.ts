import type { JsonValue } from '../native/engine/common/errors.js';
import { asObject, isObject, str, type JsonObject } from './adapter-util.js';
import type { Boltz2BatchRequest, Boltz2Prediction, Boltz2Request } from './contract.js';
import { normalizeProteins } from './validate.js';

/**
 * The Boltz-2 wire format (cloud-protocol.md, Cloud Run /predict), shared by every backend that
 * serves Boltz-2: Cloud Run's service and Modal's `boltz2` function (the rollback target).
 */

/** Problems with one /predict-shaped result, or null. */
export function predictionProblem(o: JsonValue | undefined, where: string): string | null {
  if (!isObject(o)) return `${where}expected a JSON object`;
  const s = o.structure;
  if (!isObject(s) || typeof s.data !== 'string') return `${where}missing structure.data`;
  if (!isObject(o.confidence)) return `${where}missing confidence`;
  return null;
}

export function prediction(o: JsonObject): Boltz2Prediction {
  return {
    structure: str(asObject(o.structure).data) ?? '',
    confidence: asObject(o.confidence),
    affinity: isObject(o.affinity) ? o.affinity : null,
    gpu: str(o.gpu),
  };
}

export function wireComplex(req: Boltz2Request | Boltz2BatchRequest): { [k: string]: JsonValue } {
  const json: { [k: string]: JsonValue } = {
    name: req.name,
    proteins: normalizeProteins(req.proteins).map((p) => ({ id: p.id, sequence: p.sequence })),
    ligands: (req.ligands ?? []).map((l): JsonObject => (l.smiles !== undefined ? { id: l.id, smiles: l.smiles } : { id: l.id, ccd: l.ccd ?? '' })),
  };
  if (req.affinity !== undefined) json.affinity = req.affinity;
  return json;
}
