// The engine's public entry: what a host imports to get an engine. Hosts (native/hosts/*) import
// this module and native/engine/common/ only; the areas behind it are the engine's own
// (scripts/layers.mjs, enforced by ESLint). The typed contract of the API lives in common/.
export { createEngine, type Engine, type EngineDeps } from './api/create-engine.js';
export type { ApiService, ApiServiceDeps } from './api/api-service.js';
