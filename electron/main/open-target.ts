import { pathToFileURL } from 'node:url';

/**
 * How main opens a library file: the path with the OS's default application, or, for a PDF hit
 * with a page on Windows and macOS, a file URL with `#page=N` (the open-parameters syntax of
 * Adobe's readers and of the browsers' PDF viewers that are the usual defaults there). Linux's
 * xdg-open hands URLs to a browser rather than the PDF viewer, so there the file opens at its start.
 */
export type OpenTarget = { kind: 'path'; path: string } | { kind: 'url'; url: string };

export function openTarget(file: string, page: number | undefined, platform: NodeJS.Platform = process.platform): OpenTarget {
  if (page !== undefined && Number.isInteger(page) && page > 0 && /\.pdf$/i.test(file) && (platform === 'win32' || platform === 'darwin')) {
    return { kind: 'url', url: `${pathToFileURL(file, { windows: platform === 'win32' }).href}#page=${page}` };
  }
  return { kind: 'path', path: file };
}
