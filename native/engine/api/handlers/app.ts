/** app.info: what the engine is, where it keeps its data and which device it would use; app.doctor: the machine's inference set-up. */
import { modelSearchDirs } from '../../node/paths.js';
import { APP_VERSION, deviceInfo } from '../api-service.js';
import { doctorReport } from '../doctor.js';
import type { EngineContext, HandlersOf, MethodsOf } from '../engine-context.js';

export function appHandlers(ctx: EngineContext): HandlersOf<MethodsOf<'app.'>> {
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
    'app.doctor': () => doctorReport(ctx.env, ctx.manager),
  };
}
