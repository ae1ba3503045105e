/** map.compute: a 2D map of a collection, computed in a worker thread (native/engine/map). */
import type { EngineContext, HandlersOf } from '../engine-context.js';

export function mapHandlers(ctx: EngineContext): HandlersOf<'map.compute'> {
  return { 'map.compute': (input) => ctx.maps.compute(input) };
}
