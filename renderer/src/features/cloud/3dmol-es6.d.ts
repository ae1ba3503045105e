// 3Dmol.js ships its ES module build without a package "exports" map or types of its own path:
// the same API as the package's main entry.
declare module '3dmol/build/3Dmol.es6.js' {
  export * from '3dmol';
}
