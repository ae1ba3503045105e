/**
 * An interactive 3D view of a predicted structure (mmCIF) with 3Dmol.js: the protein as a cartoon
 * (a tube through the CA atoms when the model has no full backbone), ligands as sticks. It opens on
 * the binding site (the ligands and what lies within 16 A) when there are ligands; "Whole complex"
 * zooms out. Drag to rotate, scroll to zoom, right-drag to pan. 3Dmol is loaded on first use (its
 * own chunk).
 */
import { useEffect, useRef, useState } from 'react';

type Viewer = import('3dmol/build/3Dmol.es6.js').GLViewer;

/** The binding-site view: ligands and every atom within this many angstroms. */
const SITE_DISTANCE = 16;

export interface MolViewerProps {
  /** mmCIF text, or null while loading / nothing selected. */
  cif: string | null;
  /** What is shown (for screen readers and the caption). */
  label: string;
}

export function MolViewer({ cif, label }: MolViewerProps) {
  const host = useRef<HTMLDivElement>(null);
  const viewer = useRef<Viewer | null>(null);
  const [hasLigand, setHasLigand] = useState(false);
  const [state, setState] = useState<'empty' | 'loading' | 'ready' | 'error'>('empty');
  const [atoms, setAtoms] = useState(0);
  const [problem, setProblem] = useState<string | null>(null);
  const [spinning, setSpinning] = useState(false);

  useEffect(() => {
    if (!cif || !host.current) {
      setState('empty');
      return;
    }
    let live = true;
    setState('loading');
    import('3dmol/build/3Dmol.es6.js').then(
      ($3Dmol) => {
        if (!live || !host.current) return;
        try {
          const v = (viewer.current ??= $3Dmol.createViewer(host.current, { backgroundColor: 'white', antialias: true }));
          v.clear();
          const model = v.addModel(cif, 'cif');
          const polymer = model.selectedAtoms({ hetflag: false });
          const caOnly = polymer.length > 0 && polymer.every((a) => a.atom === 'CA');
          v.setStyle({ hetflag: false }, { cartoon: caOnly ? { color: 'spectrum', style: 'trace', thickness: 0.8 } : { color: 'spectrum' } });
          v.setStyle({ hetflag: true }, { stick: { radius: 0.25, colorscheme: 'greenCarbon' }, sphere: { scale: 0.3, colorscheme: 'greenCarbon' } });
          // Look across the longest axis (a long helix seen end-on shows nothing).
          const ext = (k: 'x' | 'y' | 'z') => {
            const vals = model.selectedAtoms({}).map((a) => a[k] ?? 0);
            return vals.length ? Math.max(...vals) - Math.min(...vals) : 0;
          };
          // Reset the rotation a previous structure left (the view array ends with a quaternion).
          const view = v.getView() as number[];
          v.setView([...view.slice(0, 4), 0, 0, 0, 1]);
          if (ext('z') > Math.max(ext('x'), ext('y'))) v.rotate(90, 'x');
          const ligand = model.selectedAtoms({ hetflag: true }).length > 0;
          setHasLigand(ligand);
          v.zoomTo(ligand ? { within: { distance: SITE_DISTANCE, sel: { hetflag: true } } } : {});
          v.render();
          setAtoms(model.selectedAtoms({}).length);
          setProblem(null);
          setState('ready');
        } catch (e) {
          setProblem(e instanceof Error ? e.message : String(e));
          setState('error');
        }
      },
      (e: unknown) => {
        if (!live) return;
        setProblem(`the 3D viewer could not load: ${e instanceof Error ? e.message : String(e)}`);
        setState('error');
      },
    );
    return () => {
      live = false;
    };
  }, [cif]);

  useEffect(() => {
    viewer.current?.spin(spinning ? 'y' : false);
  }, [spinning]);

  useEffect(
    () => () => {
      viewer.current?.clear();
      viewer.current = null;
    },
    [],
  );

  return (
    <figure className="mol" data-state={state} data-atoms={atoms}>
      <div ref={host} className="mol-viewer" role="img" aria-label={`3D structure: ${label}`} />
      <figcaption className="mol-caption">
        {state === 'empty' ? <span className="muted">Select a result to see its structure.</span> : null}
        {state === 'loading' ? <span className="muted">Loading the structure…</span> : null}
        {state === 'ready' ? (
          <>
            <span>
              {label}: {atoms} atoms. Drag to rotate, scroll to zoom.
            </span>
            <span className="mol-actions">
              <button type="button" className="btn btn-small" onClick={() => setSpinning((s) => !s)} aria-pressed={spinning}>
                {spinning ? 'Stop spinning' : 'Spin'}
              </button>
              {hasLigand ? (
                <button
                  type="button"
                  className="btn btn-small"
                  onClick={() => {
                    viewer.current?.zoomTo({ within: { distance: SITE_DISTANCE, sel: { hetflag: true } } });
                    viewer.current?.render();
                  }}
                >
                  Binding site
                </button>
              ) : null}
              <button
                type="button"
                className="btn btn-small"
                onClick={() => {
                  viewer.current?.zoomTo();
                  viewer.current?.render();
                }}
              >
                Whole complex
              </button>
            </span>
          </>
        ) : null}
        {state === 'error' ? <span className="error-code">{problem}</span> : null}
      </figcaption>
    </figure>
  );
}
