/** The typed client: `api.call('search.query', {...})`, derived from the contract, over the RPC layer (native/engine/common/rpc.ts). */
import type { ApiEventName, ApiEvents, ApiInput, ApiMethod, ApiOutput, TandemApi } from '../../../native/engine/common/api-contract';
import { createClient, type RpcCallOptions } from '../../../native/engine/common/rpc';
import type { ConnectionState, Transport } from './transport';

export interface ApiClient {
  readonly transport: Transport['kind'];
  call<M extends ApiMethod>(method: M, input: ApiInput<M>, opts?: RpcCallOptions): Promise<ApiOutput<M>>;
  on<E extends ApiEventName>(event: E, cb: (data: ApiEvents[E]) => void): () => void;
  onConnection(cb: (s: ConnectionState) => void): () => void;
}

export function createApiClient(t: Transport): ApiClient {
  const rpc = createClient<TandemApi, ApiEvents>(t.port);
  return {
    transport: t.kind,
    call: (method, input, opts) => rpc.call(method, input as never, opts) as Promise<never>,
    on: (event, cb) => {
      t.startEvents?.();
      return rpc.on(event, cb);
    },
    onConnection: (cb) => t.onConnection(cb),
  };
}
