import type { ReactNode } from 'react';
import type { TandemError } from '../../../native/engine/common/errors';
import { percent } from './format';

export function StatusChip({ status }: { status: string }) {
  return (
    <span className={`chip chip-${status}`} data-status={status}>
      {status}
    </span>
  );
}

export function ProgressBar({ done, total, label }: { done: number; total: number | null; label: string }) {
  const p = percent(done, total);
  return (
    <div
      className={`progress${p === null ? ' progress-indeterminate' : ''}`}
      role="progressbar"
      aria-label={label}
      aria-valuemin={0}
      aria-valuemax={total ?? undefined}
      aria-valuenow={total === null ? undefined : done}
    >
      <div className="progress-fill" style={{ width: p === null ? '30%' : `${p}%` }} />
    </div>
  );
}

export function ErrorBox({ error, title }: { error: TandemError | undefined; title?: string }) {
  if (!error) return null;
  return (
    <div className="error-box" role="alert">
      <strong>{title ?? 'Something went wrong'}</strong>
      <span className="error-code">{error.code}</span>
      <p>{error.message}</p>
    </div>
  );
}

export function Empty({ title, children }: { title: string; children?: ReactNode }) {
  return (
    <div className="empty">
      <p className="empty-title">{title}</p>
      {children ? <div className="empty-body">{children}</div> : null}
    </div>
  );
}

export function Loading({ what }: { what: string }) {
  return (
    <p className="loading" aria-live="polite">
      Loading {what}…
    </p>
  );
}

export function PageHeader({ title, children }: { title: string; children?: ReactNode }) {
  return (
    <header className="page-header">
      <h1 id="page-title">{title}</h1>
      {children ? <div className="page-actions">{children}</div> : null}
    </header>
  );
}
