import { TandemError } from '../native/engine/common/errors.js';
import { cloudRunAdapter } from './cloud-run/cloud-run-adapter.js';
import type { AdapterFactory, BackendEndpoint, BackendId, CloudAdapter } from './contract.js';
import { modalAdapter } from './modal/modal-adapter.js';

/** The backends Tandem can offload to: a new backend is one new module plus one `register` line in defaultRegistry(). */
export class AdapterRegistry {
  private readonly factories = new Map<BackendId, AdapterFactory>();

  /** Add a backend; registering the same id twice is a CONFLICT. */
  register(f: AdapterFactory): this {
    if (this.factories.has(f.id)) throw new TandemError('CONFLICT', `a cloud adapter for ${f.id} is already registered`);
    this.factories.set(f.id, f);
    return this;
  }

  /** An adapter for `id` talking to `endpoint`; NOT_FOUND for an unregistered backend. */
  create(id: BackendId, endpoint: BackendEndpoint): CloudAdapter {
    const f = this.factories.get(id);
    if (!f) throw new TandemError('NOT_FOUND', `no cloud adapter for backend ${JSON.stringify(id)} (registered: ${this.ids().join(', ') || 'none'})`);
    return f.create(endpoint);
  }

  ids(): BackendId[] {
    return [...this.factories.keys()];
  }
}

/** A registry holding Modal and Cloud Run. */
export function defaultRegistry(): AdapterRegistry {
  return new AdapterRegistry().register(modalAdapter).register(cloudRunAdapter);
}
