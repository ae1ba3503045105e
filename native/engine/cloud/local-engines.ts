import { createLocalGenerator, GenerateClient } from '../generate/index.js';
import { describeDevice } from '../inference/device.js';
import type { EmbedClient } from '../inference/embed-client.js';
import type { LocalEmbedder, LocalGenerator } from './cloud-service.js';

/**
 * This machine's engines as the cloud layer's local backends, the same way in every host (CLI,
 * web host, Electron's utility process).
 */

/** Local embeddings through an embedding worker the host already owns. */
export function localEmbedder(client: EmbedClient): LocalEmbedder {
  return async (texts, o) => {
    const r = await client.embed({ model: o.model, texts, inputType: 'passage' }, { signal: o.signal, ...(o.onProgress ? { onProgress: (p) => o.onProgress!(p.done, p.total) } : {}) });
    return { vectors: r.vectors, dims: r.dims, device: describeDevice(r.device), model: r.model, loadMs: r.timings.loadMs, inferenceMs: r.timings.inferenceMs };
  };
}

/** Local generation in its own worker, started on first use (it keeps the model loaded); close() stops it. */
export function lazyLocalGenerator(env: NodeJS.ProcessEnv): { generate: LocalGenerator; client(): GenerateClient; close(): Promise<void> } {
  let client: GenerateClient | undefined;
  return {
    generate: (req, o) => {
      client ??= new GenerateClient(env);
      return createLocalGenerator(client)(req, o);
    },
    /** The worker itself (generate-local jobs share it with the cloud's local fallback). */
    client: () => (client ??= new GenerateClient(env)),
    close: async () => {
      await client?.close();
    },
  };
}
