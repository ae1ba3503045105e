import { useEffect, useState } from 'react';
import { useApi, useConnection } from '../api/hooks';
import { parseHash, ROUTES } from './routes';
import { applyTheme, loadTheme, nextTheme, type ThemeChoice } from './theme';

function useHashRoute(): ReturnType<typeof parseHash> {
  const [r, setR] = useState(() => parseHash(window.location.hash));
  useEffect(() => {
    const on = () => setR(parseHash(window.location.hash));
    window.addEventListener('hashchange', on);
    return () => window.removeEventListener('hashchange', on);
  }, []);
  return r;
}

/** `/` anywhere outside a text field goes to Search and focuses its box. */
function useSlashToSearch(): void {
  useEffect(() => {
    const on = (e: KeyboardEvent) => {
      if (e.key !== '/' || e.ctrlKey || e.metaKey || e.altKey) return;
      const t = e.target as HTMLElement | null;
      if (t && (t.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(t.tagName))) return;
      e.preventDefault();
      if (!window.location.hash.startsWith('#/search')) window.location.hash = '#/search';
      requestAnimationFrame(() => document.getElementById('search-query')?.focus());
    };
    window.addEventListener('keydown', on);
    return () => window.removeEventListener('keydown', on);
  }, []);
}

export function App() {
  const { route } = useHashRoute();
  const [theme, setTheme] = useState<ThemeChoice>(loadTheme);
  const conn = useConnection();
  const api = useApi();
  useSlashToSearch();
  useEffect(() => applyTheme(theme), [theme]);
  const current = ROUTES.find((r) => r.id === route) ?? ROUTES[0]!;
  useEffect(() => {
    document.title = `${current.label} · Tandem`;
  }, [current]);
  return (
    <div className="shell">
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <nav className="nav" aria-label="Pages">
        <div className="brand">Tandem</div>
        <ul>
          {ROUTES.map((r) => (
            <li key={r.id}>
              <a href={`#/${r.id}`} className={r.id === current.id ? 'active' : ''} aria-current={r.id === current.id ? 'page' : undefined} data-route={r.id}>
                <span className="nav-icon" aria-hidden="true">
                  {r.icon}
                </span>
                {r.label}
              </a>
            </li>
          ))}
        </ul>
        <div className="nav-foot">
          <button type="button" className="theme-toggle" onClick={() => setTheme(nextTheme(theme))} title="Switch between system, light and dark themes">
            Theme: {theme}
          </button>
          <p className={`conn conn-${conn}`} aria-live="polite">
            {api.transport === 'ipc' ? 'desktop' : 'web'} · {conn === 'open' ? 'live' : conn === 'connecting' ? 'connecting…' : 'reconnecting…'}
          </p>
          <p className="hint">
            Press <kbd>/</kbd> to search
          </p>
        </div>
      </nav>
      <main id="main" className="main" tabIndex={-1}>
        {current.render()}
      </main>
    </div>
  );
}
