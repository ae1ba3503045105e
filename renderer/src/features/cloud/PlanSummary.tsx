/** Where a request would run and why, its cost estimate and what it does to the budget (before submitting). */
import type { ApiRoutePlan } from '../../../../native/engine/common/contract/cloud';
import type { TandemError } from '../../../../native/engine/common/errors';
import { formatUsd } from '../../components/format';

export function PlanSummary({ plan, error, pending }: { plan: ApiRoutePlan | undefined; error: TandemError | undefined; pending: boolean }) {
  if (error) {
    return (
      <div className="plan plan-error" data-plan="error" role="status">
        <b>Cannot plan this job</b> <span className="error-code">{error.code}</span>
        <p>{error.message}</p>
      </div>
    );
  }
  if (!plan) return <div className="plan muted" data-plan="none">{pending ? 'Working out the route and the estimate…' : 'The route and the cost estimate appear here once the form is valid.'}</div>;
  const over = plan.budget && !plan.budget.ok;
  return (
    <div className={`plan${over ? ' plan-over' : ''}`} data-plan="ready" data-backend={plan.backend} role="status">
      <div>
        Runs on <b data-field="plan-backend">{plan.backend}</b>
        {plan.function ? (
          <>
            {' '}
            (<span className="mono">{plan.function}</span>)
          </>
        ) : null}
        <span className="muted"> · {plan.reason}</span>
      </div>
      {plan.answeredBy?.substitutedFor ? (
        <div className="plan-substitute" data-field="plan-substitute">
          Answered by <b className="mono">{plan.answeredBy.model}</b> on {plan.answeredBy.where}, <b>not {plan.answeredBy.substitutedFor}</b>: a different model than the one asked for.
        </div>
      ) : null}
      {plan.estimates ? (
        <div data-field="plan-estimates" data-assumed={plan.estimates.assumed}>
          Estimate <b data-field="plan-estimate">{formatUsd(plan.estimates[plan.estimates.assumed].usd)}</b> assuming {plan.estimates.assumed}
          {' · '}
          <span data-field="plan-estimate-other">
            {formatUsd(plan.estimates[plan.estimates.assumed === 'warm' ? 'cold' : 'warm'].usd)} if {plan.estimates.assumed === 'warm' ? 'cold' : 'warm'}
          </span>
          <div className="muted" data-field="plan-estimate-why">
            {plan.estimates.why} · {plan.estimates[plan.estimates.assumed].basis}
          </div>
        </div>
      ) : plan.estimate ? (
        <div>
          Estimate <b data-field="plan-estimate">{formatUsd(plan.estimate.usd)}</b> <span className="muted">({plan.estimate.basis})</span>
        </div>
      ) : (
        <div className="muted">Local: no cloud cost.</div>
      )}
      {plan.budget ? (
        <div className={over ? 'plan-budget-over' : 'muted'} data-field="plan-budget">
          {over ? (plan.budget.action === 'block' ? 'Blocked: ' : 'Warning: ') : ''}
          {plan.budget.message}
        </div>
      ) : null}
    </div>
  );
}
