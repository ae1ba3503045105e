/**
 * Main's link to the engine: starts the engine host (native/hosts/electron-utility/utility-entry.ts, built as
 * out/main/engine-host.js), gives it the cloud tokens, hands it each page's MessagePort
 * (`connectRenderer`: the page then calls the engine directly) and makes main's own calls
 * (`{ result } | { error: WireError }` envelopes; engine-channel.ts). `close()` asks the engine to
 * stop (running jobs become interrupted, the store closes) and kills it if it does not within the
 * grace period.
 *
 * Where it runs (electron/README.md, "Where the engine runs"): under `nodePath`, a plain Node
 * binary shipped with the app, over the child's IPC channel, so onnxruntime's aligned allocations
 * go to the system allocator; without one, in an Electron utilityProcess over a MessagePort, with
 * a logged warning (Chromium's PartitionAlloc can kill it with SIGTRAP on a large model).
 */
import { MessageChannelMain, utilityProcess, type MessagePortMain, type UtilityProcess } from 'electron';
import { messagePortMainLike, type EngineApiPort, type EngineConnect } from '../../native/hosts/electron-utility/engine-port';
import { forkNodeEngine, linkEngine, type EngineHooks, type EngineLink } from './engine-channel';

export type { EngineLink, Envelope } from './engine-channel';

export interface EngineLinkOptions extends EngineHooks {
  /** The built utility entry (out/main/engine-host.js). */
  entry: string;
  env: NodeJS.ProcessEnv;
  tokens: Record<string, string>;
  /** A plain Node binary to run the engine under (engine-channel.ts resolveEngineNode); null: utilityProcess. */
  nodePath: string | null;
  /** Why nodePath is what it is (logged with the fallback warning). */
  nodeWhy?: string;
}

export function startEngine(opts: EngineLinkOptions): EngineLink {
  if (opts.nodePath) {
    opts.log(`engine: running under ${opts.nodePath} (${opts.nodeWhy ?? 'plain Node'})`);
    return forkNodeEngine({ ...opts, nodePath: opts.nodePath });
  }
  opts.log(
    `warning: engine: no plain Node binary (${opts.nodeWhy ?? 'none given'}); running it in an Electron utilityProcess, where Chromium's allocator can kill onnxruntime with SIGTRAP on large models`,
  );
  const child: UtilityProcess = utilityProcess.fork(opts.entry, [], { env: opts.env, serviceName: 'Tandem engine', stdio: 'pipe' });
  const { port1, port2 }: { port1: MessagePortMain; port2: MessagePortMain } = new MessageChannelMain();
  const connect: EngineConnect = { type: 'connect', tokens: opts.tokens };
  child.postMessage(connect, [port2]);
  const link = linkEngine(
    {
      main: messagePortMainLike(port1),
      // the page's port goes to the engine: main is out of the path
      connectRenderer: (port) => {
        const msg: EngineApiPort = { type: 'api-port' };
        child.postMessage(msg, [port as MessagePortMain]);
      },
      onExit: (cb) => child.once('exit', (code) => cb(code, null)),
      kill: () => child.kill(),
      stdout: child.stdout,
      stderr: child.stderr,
    },
    opts,
  );
  port1.start();
  return link;
}
