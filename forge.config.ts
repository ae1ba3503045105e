// electron-vite builds the app into out/ (electron.vite.config.ts); Forge packages it. Run
// `npx electron-vite build && npx electron-forge make` (zip everywhere, deb on Linux).
import fs from 'node:fs/promises';
import path from 'node:path';
import type { ForgeConfig } from '@electron-forge/shared-types';
import { FusesPlugin } from '@electron-forge/plugin-fuses';
import { FuseV1Options, FuseVersion } from '@electron/fuses';

/** The built main process: package.json has no "main" (the CLI is its primary face), so the packaged copy gets one. */
const MAIN = 'out/main/index.js';

/**
 * The plain Node binary the engine runs under (electron/README.md, "Where the engine runs"), copied
 * here before packaging and shipped as resources/engine-node/node[.exe] (extraResource). It must be
 * the Node the native addons were built for (better-sqlite3 is ABI-specific): by default the Node
 * running Forge (the one `npm ci` used) when it matches the target platform and arch; for another
 * target set TANDEM_ENGINE_NODE to that target's binary (e.g. from the registry's
 * `node-<platform>-<arch>` package, the same major version).
 */
const ENGINE_NODE_DIR = 'out/engine-node';

async function stageEngineNode(platform: string, arch: string): Promise<void> {
  const name = platform === 'win32' ? 'node.exe' : 'node';
  const from = process.env.TANDEM_ENGINE_NODE || (platform === process.platform && arch === process.arch && !process.versions.electron ? process.execPath : '');
  if (!from) throw new Error(`packaging for ${platform}-${arch}: set TANDEM_ENGINE_NODE to a Node ${process.versions.node.split('.')[0]} binary for that platform (the engine runs under it)`);
  await fs.rm(ENGINE_NODE_DIR, { recursive: true, force: true });
  await fs.mkdir(ENGINE_NODE_DIR, { recursive: true });
  await fs.copyFile(from, path.join(ENGINE_NODE_DIR, name));
  await fs.chmod(path.join(ENGINE_NODE_DIR, name), 0o755);
}

const config: ForgeConfig = {
  // Forge's default out/ is electron-vite's output, which is what gets packaged: put artifacts below it.
  outDir: 'out/make',
  packagerConfig: {
    name: 'Tandem',
    executableName: 'tandem-desktop',
    // Native addons (.node: better-sqlite3, onnxruntime-node, hnswlib-node) and the shared libraries
    // they load (libonnxruntime.so.1 / .dylib, onnxruntime.dll + DirectML.dll, sqlite-vec's vec0)
    // cannot be loaded from inside an asar archive: they are unpacked next to it.
    // The built-in model (models/builtin, found relative to out/main by native/engine/node/paths.ts)
    // is unpacked too, so its files stay plain files on disk.
    asar: { unpack: '{**/*.node,**/*.so,**/*.so.*,**/*.dll,**/*.dylib,**/models/builtin/**}' },
    // Sources, tests and tooling stay out: the app is out/ (main, preload, renderer), models/catalog.json,
    // models/builtin/ and the production node_modules.
    ignore: [/^\/(native|renderer|electron|e2e|bench|scripts|scratch|cloud-adapters|cloud-emulator|dist|bin|test-results|playwright-report)(\/|$)/, /^\/\./, /\.test\.ts$/, /^\/out\/(make|engine-node)(\/|$)/],
    // resources/engine-node/node[.exe]: the engine's runtime (stageEngineNode), outside the asar.
    extraResource: [ENGINE_NODE_DIR],
  },
  // The addons stay built for that Node, not rebuilt for Electron's ABI: the engine, the only code
  // that loads them, never runs on Electron's Node in a packaged app.
  rebuildConfig: { onlyModules: [] },
  hooks: {
    prePackage: async (_config, platform, arch) => stageEngineNode(platform, arch),
    packageAfterCopy: async (_config, buildPath) => {
      const file = path.join(buildPath, 'package.json');
      const pkg = JSON.parse(await fs.readFile(file, 'utf8')) as Record<string, unknown>;
      await fs.writeFile(file, JSON.stringify({ ...pkg, main: MAIN }, null, 2));
    },
  },
  plugins: [
    // Electron fuses, flipped in the packaged binary (not by settings an attacker could change):
    // the app cannot be turned into a plain Node (ELECTRON_RUN_AS_NODE), NODE_OPTIONS and
    // --inspect/--inspect-brk are ignored (no code injection or debugger through the command
    // line), cookies are encrypted on disk, and only the app's own, integrity-checked app.asar loads.
    new FusesPlugin({
      version: FuseVersion.V1,
      [FuseV1Options.RunAsNode]: false,
      [FuseV1Options.EnableNodeOptionsEnvironmentVariable]: false,
      [FuseV1Options.EnableNodeCliInspectArguments]: false,
      [FuseV1Options.EnableCookieEncryption]: true,
      [FuseV1Options.OnlyLoadAppFromAsar]: true,
      [FuseV1Options.EnableEmbeddedAsarIntegrityValidation]: true,
    }),
  ],
  makers: [
    { name: '@electron-forge/maker-zip', platforms: ['darwin', 'linux', 'win32'], config: {} },
    { name: '@electron-forge/maker-deb', platforms: ['linux'], config: { options: { maintainer: 'Tandem', homepage: 'https://example.invalid/tandem', bin: 'tandem-desktop' } } },
  ],
};

export default config;
