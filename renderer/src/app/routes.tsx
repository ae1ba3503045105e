/**
 * The pages in the left nav, in order. Hash routing: `#/<id>`. To add or fill a page, replace its
 * `render` here.
 */
import type { ReactNode } from 'react';
import { Boltz2Page } from '../features/cloud/Boltz2Page';
import { CloudPage } from '../features/cloud/CloudPage';
import { GeneratePage } from '../features/generate/GeneratePage';
import { JobsPage } from '../features/jobs/JobsPage';
import { LibraryPage } from '../features/library/LibraryPage';
import { MapPage } from '../features/map/MapPage';
import { ModelsPage } from '../features/models/ModelsPage';
import { SearchPage } from '../features/search/SearchPage';

export interface RouteDef {
  id: string;
  label: string;
  /** One letter shown as the nav icon. */
  icon: string;
  render: () => ReactNode;
}

export const ROUTES: readonly RouteDef[] = [
  { id: 'library', label: 'Library', icon: 'L', render: () => <LibraryPage /> },
  { id: 'search', label: 'Search', icon: 'S', render: () => <SearchPage /> },
  { id: 'jobs', label: 'Jobs', icon: 'J', render: () => <JobsPage /> },
  { id: 'models', label: 'Models', icon: 'M', render: () => <ModelsPage /> },
  { id: 'cloud', label: 'Cloud', icon: 'C', render: () => <CloudPage /> },
  { id: 'boltz', label: 'Boltz-2', icon: 'B', render: () => <Boltz2Page /> },
  { id: 'generate', label: 'Generate', icon: 'G', render: () => <GeneratePage /> },
  { id: 'map', label: 'Map', icon: 'P', render: () => <MapPage /> },
];

export const DEFAULT_ROUTE = 'library';

/** `#/jobs?id=X` -> { route: 'jobs', params: { id: 'X' } }. */
export function parseHash(hash: string): { route: string; params: URLSearchParams } {
  const h = hash.replace(/^#\/?/, '');
  const [route = '', query = ''] = h.split('?', 2);
  return { route: ROUTES.some((r) => r.id === route) ? route : DEFAULT_ROUTE, params: new URLSearchParams(query) };
}
