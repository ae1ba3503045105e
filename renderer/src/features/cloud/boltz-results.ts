/** Boltz-2 job records -> result rows (pure): one row per ligand of a batch, one row for a single complex. */
import type { ApiJob, ApiJobEvent } from '../../../../native/engine/common/api-contract';

export interface ResultRow {
  /** The ligand id (batch) or the complex name (single). */
  id: string;
  /** What the row holds, e.g. the ligand's SMILES or CCD code. */
  what: string;
  status: 'done' | 'pending' | 'failed' | 'cancelled' | 'interrupted';
  confidence: number | null;
  ptm: number | null;
  iptm: number | null;
  plddt: number | null;
  affinity: number | null;
  probability: number | null;
  /** The mmCIF file (absolute path under the job's results folder), when done. */
  structure: string | null;
}

export type SortKey = 'id' | 'confidence' | 'ptm' | 'iptm' | 'plddt' | 'affinity' | 'probability';

interface LigandReq {
  id: string;
  smiles?: string;
  ccd?: string;
}
interface BoltzReq {
  kind: 'boltz2' | 'boltz2-batch';
  name: string;
  ligands?: LigandReq[];
  affinity?: boolean;
}

const num = (o: unknown, k: string): number | null => {
  const v = o && typeof o === 'object' ? (o as Record<string, unknown>)[k] : undefined;
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
};

export function requestOf(job: ApiJob): BoltzReq | null {
  const r = (job.params as { request?: unknown }).request;
  return r && typeof r === 'object' && ((r as BoltzReq).kind === 'boltz2' || (r as BoltzReq).kind === 'boltz2-batch') ? (r as BoltzReq) : null;
}

function ligandText(l: LigandReq): string {
  return l.smiles !== undefined ? l.smiles : `CCD ${l.ccd ?? '?'}`;
}

function scores(confidence: unknown, affinity: unknown): Pick<ResultRow, 'confidence' | 'ptm' | 'iptm' | 'plddt' | 'affinity' | 'probability'> {
  return {
    confidence: num(confidence, 'confidence_score'),
    ptm: num(confidence, 'ptm'),
    iptm: num(confidence, 'iptm'),
    plddt: num(confidence, 'complex_plddt'),
    affinity: num(affinity, 'affinity_pred_value'),
    probability: num(affinity, 'affinity_probability_binary'),
  };
}

function pendingStatus(job: ApiJob): ResultRow['status'] {
  if (job.status === 'failed' || job.status === 'cancelled' || job.status === 'interrupted') return job.status;
  return 'pending';
}

export function resultRows(job: ApiJob, events: readonly ApiJobEvent[]): ResultRow[] {
  const req = requestOf(job);
  if (!req) return [];
  if (req.kind === 'boltz2') {
    const r = (job.result ?? null) as { confidence?: unknown; affinity?: unknown; files?: { structure?: string } } | null;
    const done = job.status === 'succeeded' && r !== null;
    return [
      {
        id: req.name,
        what: (req.ligands ?? []).map(ligandText).join(' + ') || 'protein only',
        status: done ? 'done' : pendingStatus(job),
        ...scores(done ? r.confidence : null, done ? r.affinity : null),
        structure: done ? (r.files?.structure ?? null) : null,
      },
    ];
  }
  const byLigand = new Map<string, Record<string, unknown>>();
  for (const e of events) if (typeof e.data.ligandId === 'string') byLigand.set(e.data.ligandId, e.data);
  const fromResult = new Map<string, { structure?: string }>();
  for (const l of ((job.result as { ligands?: Array<{ ligandId: string; structure?: string }> } | null)?.ligands ?? [])) fromResult.set(l.ligandId, l);
  return (req.ligands ?? []).map((l) => {
    const d = byLigand.get(l.id);
    const structure = (typeof d?.structure === 'string' ? d.structure : null) ?? fromResult.get(l.id)?.structure ?? null;
    return {
      id: l.id,
      what: ligandText(l),
      status: d || structure ? 'done' : pendingStatus(job),
      ...scores(d?.confidence, d?.affinity),
      structure,
    };
  });
}

/** Sorted copy: numbers high to low by default (nulls last in either direction), ids alphabetically. */
export function sortRows(rows: readonly ResultRow[], key: SortKey, dir: 'asc' | 'desc'): ResultRow[] {
  const sign = dir === 'asc' ? 1 : -1;
  return [...rows].sort((a, b) => {
    if (key === 'id') return sign * a.id.localeCompare(b.id, undefined, { numeric: true });
    const x = a[key];
    const y = b[key];
    if (x === null && y === null) return 0;
    if (x === null) return 1;
    if (y === null) return -1;
    return sign * (x - y);
  });
}
