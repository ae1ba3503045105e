/**
 * RDKit (MinimalLib, the WebAssembly build on npm as @rdkit/rdkit) as the engine's cheminformatics
 * toolkit: every ligand SMILES is parsed and sanitised (valences, aromaticity, ring closures) and
 * its heavy atoms counted by RDKit before a Boltz-2 request is planned or sent. The .wasm file is
 * read from node_modules (no network). Loaded once per process, on the first Boltz-2 request
 * (about 0.3-0.6 s), and registered with boltz-validate.ts so its synchronous checks use it.
 */
import { createRequire } from 'node:module';
import type { MainModule as RDKitModule } from '@rdkit/rdkit';
import { setChemToolkit, type ChemToolkit, type SmilesParse } from '../common/boltz-validate.js';
import { TandemError } from '../common/errors.js';

// Not named `require`: electron-vite's ESM output declares its own top-level `require` shim, and a
// second declaration is a SyntaxError that stops out/main/engine-host.js from loading.
const cjsRequire = createRequire(import.meta.url);

let loading: Promise<ChemToolkit> | null = null;

/** `[05:17:34] SMILES Parse Error: ...` -> `SMILES Parse Error: ...`, blank lines dropped. */
function logLines(buffer: string): string[] {
  return buffer
    .split('\n')
    .map((l) => l.replace(/^\[\d\d:\d\d:\d\d\]\s?/, '').trimEnd())
    .filter((l) => l.trim() !== '');
}

/**
 * RDKit's error log for one failed SMILES -> a short reason and the 1-based position RDKit points
 * at (`check for mistakes around position N`), when it gives one.
 */
export function describeRdkitError(buffer: string, smiles: string): { message: string; position: number | null } {
  const lines = logLines(buffer);
  let position: number | null = null;
  for (const l of lines) {
    const m = /check for mistakes around position (\d+)/.exec(l);
    if (m) position = Number(m[1]);
  }
  const strip = (l: string) =>
    l
      .replace(/^SMILES Parse Error:\s*/, '')
      .replace(/\s+(?:while parsing|for input):.*$/, '')
      .trim();
  const first = lines.find((l) => !/check for mistakes around position|^\s*~*\^\s*$|^Failed parsing SMILES/.test(l.replace(/^SMILES Parse Error:\s*/, '')) && l.trim() !== smiles);
  if (!first) return { message: 'not a valid SMILES string', position };
  const valence = /Explicit valence for atom # ?(\d+) (\w+), (\d+), is greater than permitted/.exec(first);
  if (valence) return { message: `atom ${Number(valence[1]) + 1} (${valence[2]}) has ${valence[3]} bonds, more than its valence permits`, position };
  const kekule = /Can't kekulize mol\.\s*Unkekulized atoms:\s*([\d\s]+)/.exec(first);
  if (kekule) return { message: `aromatic ring cannot be kekulized (atoms ${kekule[1]!.trim().split(/\s+/).map((n) => Number(n) + 1).join(', ')})`, position };
  return { message: strip(first) || 'not a valid SMILES string', position };
}

/** The 1-based position of the first ring-closure label (digit or %nn, outside brackets) that is never closed, or null. */
export function unclosedRingPosition(smiles: string): number | null {
  const open = new Map<string, number>();
  let inBracket = false;
  for (let i = 0; i < smiles.length; i++) {
    const c = smiles[i]!;
    if (c === '[') inBracket = true;
    else if (c === ']') inBracket = false;
    else if (!inBracket && (/\d/.test(c) || c === '%')) {
      const label = c === '%' ? smiles.slice(i, i + 3) : c;
      if (open.has(label)) open.delete(label);
      else open.set(label, i + 1);
      if (c === '%') i += 2;
    }
  }
  const first = [...open.values()].sort((a, b) => a - b)[0];
  return first ?? null;
}

function toolkitOf(rdkit: RDKitModule): ChemToolkit {
  const log = rdkit.set_log_capture('rdApp.error');
  if (!log) throw new TandemError('INTERNAL', 'RDKit: cannot capture its error log');
  const name = `RDKit ${rdkit.version()}`;
  return {
    name,
    parseSmiles(smiles: string): SmilesParse {
      log.clear_buffer();
      const mol = rdkit.get_mol(smiles);
      try {
        if (!mol || !mol.is_valid()) {
          const d = describeRdkitError(log.get_buffer(), smiles);
          if (d.message === 'unclosed ring') return { ok: false, message: 'unclosed ring (a ring-closure label is opened but never closed)', position: d.position ?? unclosedRingPosition(smiles) };
          return { ok: false, message: d.message, position: d.position };
        }
        const descriptors = JSON.parse(mol.get_descriptors()) as { NumHeavyAtoms?: number };
        if (typeof descriptors.NumHeavyAtoms !== 'number') throw new TandemError('INTERNAL', `${name}: no NumHeavyAtoms descriptor`);
        return { ok: true, heavyAtoms: descriptors.NumHeavyAtoms };
      } finally {
        mol?.delete();
        log.clear_buffer();
      }
    },
  };
}

/** The .wasm file that ships in the package (resolved from this module, so bundles find it too). */
export function rdkitWasmPath(): string {
  return cjsRequire.resolve('@rdkit/rdkit/RDKit_minimal.wasm');
}

/**
 * Load RDKit once and register it (setChemToolkit). A load failure is an INTERNAL error naming the
 * package: Boltz-2 requests are then refused rather than sent unchecked.
 */
export function loadChemToolkit(): Promise<ChemToolkit> {
  loading ??= (async () => {
    try {
      const wasm = rdkitWasmPath();
      const init = (await import('@rdkit/rdkit')).default as unknown as (opts: { locateFile: (file: string) => string }) => Promise<RDKitModule>;
      const rdkit = await init({ locateFile: (file: string) => (file.endsWith('.wasm') ? wasm : file) });
      const tk = toolkitOf(rdkit);
      setChemToolkit(tk);
      return tk;
    } catch (e) {
      loading = null;
      if (e instanceof TandemError) throw e;
      throw new TandemError('INTERNAL', `cannot load RDKit (@rdkit/rdkit) to check ligand SMILES: ${(e as Error).message}; reinstall with npm ci`);
    }
  })();
  return loading;
}

/** Load the toolkit when the request has ligands to check (Boltz-2 kinds); a no-op otherwise. */
export async function ensureChemFor(req: { kind?: unknown; ligands?: unknown }): Promise<void> {
  if ((req.kind === 'boltz2' || req.kind === 'boltz2-batch') && Array.isArray(req.ligands) && req.ligands.length > 0) await loadChemToolkit();
}
