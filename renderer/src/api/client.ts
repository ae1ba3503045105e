/** The typed client: `api.call('search.query', {...})`, derived from the contract. */
import type { ApiEventName, ApiEvents, ApiInput, ApiMethod, ApiOutput } from '../../../native/engine/common/api-contract';
import type { ConnectionState, Transport } from './transport';

export interface ApiClient {
  readonly transport: Transport['kind'];
  call<M extends ApiMethod>(method: M, input: ApiInput<M>): Promise<ApiOutput<M>>;
  on<E extends ApiEventName>(event: E, cb: (data: ApiEvents[E]) => void): () => void;
  onConnection(cb: (s: ConnectionState) => void): () => void;
}

export function createApiClient(t: Transport): ApiClient {
  return {
    transport: t.kind,
    call: (method, input) => t.invoke(method, input) as Promise<never>,
    on: (event, cb) => t.on(event, cb as (d: unknown) => void),
    onConnection: (cb) => t.onConnection(cb),
  };
}
