/** The server-sent-events parser now lives with the HTTP port of the RPC layer (native/engine/common/rpc-http.ts). */
export { createSseParser, type SseParser } from '../../../native/engine/common/rpc-http';
