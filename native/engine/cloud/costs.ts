import type { Db } from '../store/database.js';
import { remoteWindowRows, spendRows, succeededRunMsRows } from '../store/job-queries.js';

/**
 * Spend, monthly projection, budget checks and the seed's alert rules (ADR-001 "Alerting": cost
 * anomaly > 20%, performance degradation > 10% slower, error rate > 1%), all computed from the job
 * history so every host (CLI, web, Electron) shows the same numbers.
 */

export interface MonthSpend {
  /** 'YYYY-MM' (UTC). */
  month: string;
  spentUsd: number;
  jobs: number;
  /** Spent so far, scaled to the whole month at the rate of the days elapsed. */
  projectedUsd: number;
  daysElapsed: number;
  daysInMonth: number;
  byKindBackend: { kind: string; backend: string; jobs: number; usd: number }[];
}

export type AlertRule = 'cost-anomaly' | 'error-rate' | 'slowdown' | 'budget';

export interface Alert {
  rule: AlertRule;
  severity: 'warning' | 'critical';
  /** e.g. "generate on modal". */
  scope: string;
  message: string;
  /** The measured value and the threshold it crossed. */
  value: number;
  threshold: number;
}

export interface AlertThresholds {
  /** Mean cost per job, recent vs baseline: alert above +20%. */
  costAnomaly: number;
  /** failed / finished over the recent window: alert above 1%. */
  errorRate: number;
  /** Median run time, recent vs baseline: alert above +10%. */
  slowdown: number;
  /** The recent window and the baseline window before it, ms. */
  recentMs: number;
  baselineMs: number;
  /** Fewer jobs than this in a window: no comparison (noise). */
  minJobs: number;
}

export const DEFAULT_THRESHOLDS: AlertThresholds = { costAnomaly: 0.2, errorRate: 0.01, slowdown: 0.1, recentMs: 24 * 3_600_000, baselineMs: 7 * 24 * 3_600_000, minJobs: 5 };


function monthStart(now: number): Date {
  const d = new Date(now);
  return new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1));
}

export function monthSpend(db: Db, now: number = Date.now()): MonthSpend {
  const start = monthStart(now);
  const next = new Date(Date.UTC(start.getUTCFullYear(), start.getUTCMonth() + 1, 1));
  const rows = spendRows(db, start.toISOString(), next.toISOString());
  const spentUsd = rows.reduce((a, r) => a + r.usd, 0);
  const daysInMonth = (next.getTime() - start.getTime()) / 86_400_000;
  const daysElapsed = Math.max((now - start.getTime()) / 86_400_000, 1 / 24);
  return {
    month: start.toISOString().slice(0, 7),
    spentUsd,
    jobs: rows.reduce((a, r) => a + r.jobs, 0),
    projectedUsd: (spentUsd / daysElapsed) * daysInMonth,
    daysElapsed,
    daysInMonth,
    byKindBackend: rows,
  };
}

export interface BudgetCheck {
  ok: boolean;
  /** What the month would reach with this job. */
  afterUsd: number;
  budgetUsd: number;
  action: 'warn' | 'block';
  message: string;
}

/** Would `estimateUsd` more push this month past the budget? null when no budget is set. */
export function checkBudget(db: Db, budget: { monthlyUsd: number; action: 'warn' | 'block' } | null, estimateUsd: number, now: number = Date.now()): BudgetCheck | null {
  if (!budget) return null;
  const spent = monthSpend(db, now).spentUsd;
  const afterUsd = spent + estimateUsd;
  const ok = afterUsd <= budget.monthlyUsd;
  return {
    ok,
    afterUsd,
    budgetUsd: budget.monthlyUsd,
    action: budget.action,
    message: ok
      ? `within the monthly budget: $${afterUsd.toFixed(2)} of $${budget.monthlyUsd.toFixed(2)}`
      : `over the monthly budget: $${spent.toFixed(2)} spent + $${estimateUsd.toFixed(2)} estimated = $${afterUsd.toFixed(2)} > $${budget.monthlyUsd.toFixed(2)}`,
  };
}

interface WindowRow {
  kind: string;
  backend: string;
  finished: number;
  failed: number;
  succeeded: number;
  avgCost: number | null;
}

function windowRows(db: Db, from: string, to: string): WindowRow[] {
  return remoteWindowRows(db, from, to);
}

function medianRunMs(db: Db, kind: string, backend: string, from: string, to: string): number | null {
  const ms = succeededRunMsRows(db, kind, backend, from, to);
  if (ms.length === 0) return null;
  return ms[Math.floor((ms.length - 1) / 2)]!;
}

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;

/** The seed's alert rules over remote jobs: recent window vs the baseline window before it. */
export function computeAlerts(db: Db, opts: { now?: number; thresholds?: Partial<AlertThresholds>; budget?: { monthlyUsd: number; action: 'warn' | 'block' } | null } = {}): Alert[] {
  const now = opts.now ?? Date.now();
  const t = { ...DEFAULT_THRESHOLDS, ...opts.thresholds };
  const iso = (ms: number) => new Date(ms).toISOString();
  const recentFrom = iso(now - t.recentMs);
  const baseFrom = iso(now - t.recentMs - t.baselineMs);
  const recent = windowRows(db, recentFrom, iso(now + 1));
  const base = new Map(windowRows(db, baseFrom, recentFrom).map((r) => [`${r.kind}|${r.backend}`, r]));
  const alerts: Alert[] = [];
  for (const r of recent) {
    const scope = `${r.kind} on ${r.backend}`;
    if (r.finished >= t.minJobs) {
      const rate = r.failed / r.finished;
      if (rate > t.errorRate) alerts.push({ rule: 'error-rate', severity: rate > 10 * t.errorRate ? 'critical' : 'warning', scope, value: rate, threshold: t.errorRate, message: `error rate ${pct(rate)} (${r.failed} of ${r.finished} jobs in the last ${t.recentMs / 3_600_000} h) is above ${pct(t.errorRate)}` });
    }
    const b = base.get(`${r.kind}|${r.backend}`);
    if (!b || b.succeeded < t.minJobs || r.succeeded < t.minJobs) continue;
    if (b.avgCost && r.avgCost !== null && b.avgCost > 0) {
      const rise = r.avgCost / b.avgCost - 1;
      if (rise > t.costAnomaly) alerts.push({ rule: 'cost-anomaly', severity: 'warning', scope, value: rise, threshold: t.costAnomaly, message: `cost per job up ${pct(rise)}: $${r.avgCost.toFixed(4)} vs $${b.avgCost.toFixed(4)} before (alert above ${pct(t.costAnomaly)})` });
    }
    const mr = medianRunMs(db, r.kind, r.backend, recentFrom, iso(now + 1));
    const mb = medianRunMs(db, r.kind, r.backend, baseFrom, recentFrom);
    if (mr !== null && mb !== null && mb > 0) {
      const slower = mr / mb - 1;
      if (slower > t.slowdown) alerts.push({ rule: 'slowdown', severity: 'warning', scope, value: slower, threshold: t.slowdown, message: `median run time ${pct(slower)} slower: ${(mr / 1000).toFixed(1)} s vs ${(mb / 1000).toFixed(1)} s before (alert above ${pct(t.slowdown)})` });
    }
  }
  if (opts.budget) {
    const m = monthSpend(db, now);
    const used = m.projectedUsd / Math.max(opts.budget.monthlyUsd, 1e-9);
    if (m.spentUsd > opts.budget.monthlyUsd) alerts.push({ rule: 'budget', severity: 'critical', scope: 'all remote jobs', value: m.spentUsd, threshold: opts.budget.monthlyUsd, message: `spent $${m.spentUsd.toFixed(2)} this month, over the $${opts.budget.monthlyUsd.toFixed(2)} budget` });
    else if (used > 1) alerts.push({ rule: 'budget', severity: 'warning', scope: 'all remote jobs', value: m.projectedUsd, threshold: opts.budget.monthlyUsd, message: `projected $${m.projectedUsd.toFixed(2)} this month, over the $${opts.budget.monthlyUsd.toFixed(2)} budget` });
  }
  return alerts;
}
