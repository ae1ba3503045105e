import type { ForgeConfig } from '@electron-forge/shared-types';

// electron-vite builds (out/); Forge packages. Native addons and onnxruntime's shared libraries
// cannot load from inside an asar archive, so they are unpacked next to it.
const config: ForgeConfig = {
  packagerConfig: {
    name: 'Tandem',
    executableName: 'tandem-desktop',
    asar: { unpack: '{**/*.node,**/*.so,**/*.so.*,**/*.dll,**/*.dylib}' },
    ignore: [/^\/(native|renderer|electron|e2e|bench|scripts|scratch|cloud-adapters)\//, /\.test\.ts$/],
  },
  makers: [
    { name: '@electron-forge/maker-zip', platforms: ['darwin', 'linux', 'win32'], config: {} },
    { name: '@electron-forge/maker-deb', platforms: ['linux'], config: { options: { maintainer: 'Tandem', homepage: 'https://example.invalid/tandem' } } },
  ],
};

export default config;
