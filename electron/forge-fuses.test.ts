import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { FuseV1Options, FuseVersion } from '@electron/fuses';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** The fuses the packaged app is built with: read from forge.config.ts's exported config. */
test('forge.config.ts flips the Electron fuses: no RunAsNode, NODE_OPTIONS or --inspect; encrypted cookies; only an integrity-checked app.asar', async () => {
  const forge = (await import(path.join(root, 'forge.config.ts'))) as { default: { plugins?: Array<{ name?: string; config?: Record<string, unknown> }> } };
  const fuses = (forge.default.plugins ?? []).filter((p) => p.name === 'fuses');
  assert.equal(fuses.length, 1, `one FusesPlugin in plugins (got ${JSON.stringify((forge.default.plugins ?? []).map((p) => p.name))})`);
  const cfg = fuses[0]!.config!;
  assert.equal(cfg.version, FuseVersion.V1);
  const want: Array<[FuseV1Options, boolean, string]> = [
    [FuseV1Options.RunAsNode, false, 'RunAsNode'],
    [FuseV1Options.EnableNodeOptionsEnvironmentVariable, false, 'EnableNodeOptionsEnvironmentVariable'],
    [FuseV1Options.EnableNodeCliInspectArguments, false, 'EnableNodeCliInspectArguments'],
    [FuseV1Options.EnableCookieEncryption, true, 'EnableCookieEncryption'],
    [FuseV1Options.OnlyLoadAppFromAsar, true, 'OnlyLoadAppFromAsar'],
    [FuseV1Options.EnableEmbeddedAsarIntegrityValidation, true, 'EnableEmbeddedAsarIntegrityValidation'],
  ];
  for (const [fuse, value, name] of want) assert.equal(cfg[fuse], value, `${name} is ${value}`);
});
