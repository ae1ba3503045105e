/** The map worker's methods (served by map-worker.ts, called by MapService over the RPC layer). */
import type { MapProgress, MapRequest, MapResult } from './map-compute.js';

export interface MapWorkerData {
  dbFile: string;
  home: string;
  request: MapRequest;
  seed: number;
}

export interface MapWorkerApi {
  /** Open the store read-only and compute one map; `progress` events (MapProgress) along the way. */
  compute(input: MapWorkerData): Promise<MapResult>;
}

export interface MapWorkerEvents {
  progress: MapProgress;
}
