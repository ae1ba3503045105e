import { createContext, useCallback, useContext, useEffect, useRef, useState, type ReactNode } from 'react';
import type { ApiEventName, ApiEvents, ApiInput, ApiMethod, ApiOutput } from '../../../native/engine/common/api-contract';
import { TandemError } from '../../../native/engine/common/errors';
import type { ApiClient } from './client';
import type { ConnectionState } from './transport';

const ApiContext = createContext<ApiClient | null>(null);

export function ApiProvider({ client, children }: { client: ApiClient; children: ReactNode }) {
  return <ApiContext.Provider value={client}>{children}</ApiContext.Provider>;
}

export function useApi(): ApiClient {
  const c = useContext(ApiContext);
  if (!c) throw new Error('useApi outside ApiProvider');
  return c;
}

/** Subscribe to an engine event for the component's lifetime (the latest callback is used). */
export function useApiEvent<E extends ApiEventName>(event: E, cb: (data: ApiEvents[E]) => void): void {
  const api = useApi();
  const ref = useRef(cb);
  ref.current = cb;
  useEffect(() => api.on(event, (d) => ref.current(d)), [api, event]);
}

export function useConnection(): ConnectionState {
  const api = useApi();
  const [s, setS] = useState<ConnectionState>('connecting');
  useEffect(() => api.onConnection(setS), [api]);
  return s;
}

export function asTandemError(e: unknown): TandemError {
  return e instanceof TandemError ? e : new TandemError('INTERNAL', e instanceof Error ? e.message : String(e));
}

export interface Query<T> {
  data: T | undefined;
  error: TandemError | undefined;
  loading: boolean;
  reload(): void;
}

/** Call a method when the component mounts (and when `key` changes); `reload()` calls it again. */
export function useQuery<M extends ApiMethod>(method: M, input: ApiInput<M>, key = ''): Query<ApiOutput<M>> {
  const api = useApi();
  const [data, setData] = useState<ApiOutput<M>>();
  const [error, setError] = useState<TandemError>();
  const [loading, setLoading] = useState(true);
  const [tick, setTick] = useState(0);
  const inputRef = useRef(input);
  inputRef.current = input;
  useEffect(() => {
    let live = true;
    setLoading(true);
    api.call(method, inputRef.current).then(
      (d) => {
        if (!live) return;
        setData(d);
        setError(undefined);
        setLoading(false);
      },
      (e: unknown) => {
        if (!live) return;
        setError(asTandemError(e));
        setLoading(false);
      },
    );
    return () => {
      live = false;
    };
  }, [api, method, key, tick]);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  return { data, error, loading, reload };
}
