/** Messages between MapService (the host's thread) and the map worker. */
import type { WireError } from '../common/errors.js';
import type { MapProgress, MapRequest, MapResult } from './map-compute.js';

export interface MapWorkerData {
  dbFile: string;
  home: string;
  request: MapRequest;
  seed: number;
}

export type MapWorkerMessage = { type: 'progress'; progress: MapProgress } | { type: 'done'; result: MapResult } | { type: 'error'; error: WireError };
