import { useState, type FormEvent } from 'react';
import type { TandemError } from '../../../../native/engine/common/errors';
import { asTandemError, useApi, useQuery } from '../../api/hooks';
import { ErrorBox } from '../../components/ui';

/** The model that ships with Tandem (models/builtin), when models.list has not answered yet. */
const BUILTIN_FALLBACK = 'minishlab/potion-base-2M';

/** A collection name from a folder path: its last part, in letters, digits, - and _. */
export function collectionNameFor(folder: string): string {
  const last = folder.replace(/[\\/]+$/, '').split(/[\\/]/).pop() ?? '';
  const name = last.replace(/[^\w-]+/g, '-').replace(/^-+|-+$/g, '');
  return name || 'library';
}

/**
 * The Library page's first-run banner (no collection yet): index a folder with the built-in model
 * now (offline, nothing to download), and how to move to a better model later.
 */
export function FirstRunBanner({ onStarted }: { onStarted: () => void }) {
  const api = useApi();
  const models = useQuery('models.list', {});
  const [folder, setFolder] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<TandemError>();
  const builtin = models.data?.models.find((m) => m.builtin && m.task === 'embedding')?.id ?? BUILTIN_FALLBACK;
  const better = models.data && !models.data.defaultEmbeddingModel.builtin ? models.data.defaultEmbeddingModel : undefined;

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const path = folder.trim();
    if (!path) return;
    setBusy(true);
    setError(undefined);
    try {
      await api.call('library.index', { paths: [path], collection: collectionNameFor(path), model: builtin });
      setFolder('');
      onStarted();
    } catch (err) {
      setError(asTandemError(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="card first-run" role="region" aria-label="Get started" data-first-run="true">
      <h2>Get started: index a folder</h2>
      <p>
        Tandem comes with a small built-in embedding model, <span className="mono">{builtin}</span>: it works offline, needs no download, and indexes thousands of
        pages a minute. Point it at a folder of notes, papers or code and search it right away.
      </p>
      <form onSubmit={submit} className="form" aria-label="Index a folder with the built-in model">
        <label className="grow">
          Folder (absolute path on the machine running Tandem)
          <input id="first-run-folder" value={folder} onChange={(e) => setFolder(e.target.value)} placeholder="/home/me/papers" required spellCheck={false} autoComplete="off" />
        </label>
        <div className="form-actions">
          <button type="submit" className="btn btn-primary" disabled={busy}>
            {busy ? 'Starting…' : 'Index with the built-in model'}
          </button>
          {folder.trim() ? <span className="muted">collection “{collectionNameFor(folder.trim())}”</span> : null}
        </div>
      </form>
      <ErrorBox error={error} title="Could not start indexing" />
      <p className="muted" data-field="upgrade-hint">
        Better search later: download a stronger model on the <a href="#/models">Models</a> page (e.g. Xenova/bge-small-en-v1.5), then move the collection to it in the
        background with <code>tandem collections upgrade NAME --model ID</code>; search keeps answering from the built-in vectors until the new ones are ready.
        {better ? (
          <>
            {' '}
            The form below uses <span className="mono">{better.id}</span> for new collections ({better.reason}).
          </>
        ) : null}
      </p>
    </div>
  );
}
