/** app.info: what the engine is, where it keeps its data and which device it would use. */
import { modelSearchDirs } from '../../node/paths.js';
import { APP_VERSION, deviceInfo } from '../api-service.js';
import type { EngineContext, HandlersOf } from '../engine-context.js';

export function appHandlers(ctx: EngineContext): HandlersOf<'app.info'> {
  return {
    'app.info': async () => ({
      version: APP_VERSION,
      host: ctx.deps.host,
      dataDir: ctx.home,
      modelDirs: modelSearchDirs(ctx.env),
      platform: `${process.platform}-${process.arch}`,
      device: await deviceInfo(),
      opensFiles: ctx.deps.openFile !== undefined,
    }),
  };
}
