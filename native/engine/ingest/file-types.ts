import path from 'node:path';

/** How a file is read: the extractor that handles it. */
export type FileType = 'txt' | 'md' | 'html' | 'pdf' | 'docx' | 'csv' | 'tsv' | 'jsonl' | 'code';

/** Types whose files are binary containers: never rejected by the binary sniffer. */
export const BINARY_FILE_TYPES: ReadonlySet<FileType> = new Set<FileType>(['pdf', 'docx']);

const DOCUMENT_EXTENSIONS: Readonly<Record<string, FileType>> = {
  txt: 'txt',
  text: 'txt',
  rst: 'txt',
  org: 'txt',
  adoc: 'txt',
  asciidoc: 'txt',
  tex: 'txt',
  bib: 'txt',
  md: 'md',
  markdown: 'md',
  mdown: 'md',
  mkd: 'md',
  mdx: 'md',
  html: 'html',
  htm: 'html',
  xhtml: 'html',
  pdf: 'pdf',
  docx: 'docx',
  csv: 'csv',
  tsv: 'tsv',
  tab: 'tsv',
  jsonl: 'jsonl',
  ndjson: 'jsonl',
};

/** Source code and structured text, read as plain UTF-8. */
const CODE_EXTENSIONS = new Set(
  (
    'ts tsx mts cts js jsx mjs cjs py pyi rs go java c h cc cpp cxx hpp hh hxx cs rb php swift kt kts scala ' +
    'sh bash zsh fish ps1 sql r jl m mm lua yaml yml toml json json5 css scss sass less xml vue svelte dart ' +
    'pl pm hs ex exs erl clj cljs el fs fsx ml mli nim zig proto graphql gql ini cfg conf properties gradle ' +
    'cmake tf hcl groovy f90 f95 jsonc'
  ).split(' '),
);

/** Extension-less files known by name (lower case). */
const NAMED_FILES: Readonly<Record<string, FileType>> = {
  readme: 'txt',
  license: 'txt',
  licence: 'txt',
  copying: 'txt',
  notice: 'txt',
  authors: 'txt',
  changelog: 'txt',
  contributing: 'txt',
  makefile: 'code',
  dockerfile: 'code',
  containerfile: 'code',
  gemfile: 'code',
  rakefile: 'code',
  justfile: 'code',
  vagrantfile: 'code',
};

/**
 * Formats no extractor reads whose files are binary: refused as `unsupported type .xyz` without
 * reading them. Other unknown extensions are sniffed, and taken as plain text when they are text.
 */
const KNOWN_BINARY_EXTENSIONS = new Set(
  (
    'png jpg jpeg gif bmp tif tiff webp ico icns heic psd svgz ' +
    'zip gz tgz bz2 xz zst 7z rar tar jar war whl egg deb rpm dmg iso apk msi ' +
    'exe dll so dylib o a lib obj class pyc pyo wasm bin ' +
    'mp3 mp4 m4a wav flac ogg opus aac mov avi mkv webm wmv ' +
    'doc xls xlsx ppt pptx odt ods odp rtf epub mobi ' +
    'sqlite sqlite3 db mdb npy npz pkl pickle pt pth ckpt onnx safetensors h5 hdf5 parquet feather arrow ' +
    'woff woff2 ttf otf eot'
  ).split(' '),
);

/** Whether an extension (`.png`, lower case, with the dot) is a binary format no extractor reads. */
export function isKnownBinaryExtension(ext: string): boolean {
  return KNOWN_BINARY_EXTENSIONS.has(ext.startsWith('.') ? ext.slice(1) : ext);
}

/** Machine-generated files that have a supported extension but are noise for search (lower case). */
const GENERATED_NAMES = new Set(['package-lock.json', 'npm-shrinkwrap.json', 'pnpm-lock.yaml', 'yarn.lock', 'composer.lock']);
const GENERATED_SUFFIXES = ['.min.js', '.min.css', '.min.mjs'];

/** The extractor for a path (by extension, case-insensitive, or a well-known name), or undefined when unsupported. */
export function fileType(file: string): FileType | undefined {
  const base = path.basename(file).toLowerCase();
  const dot = base.lastIndexOf('.');
  if (dot <= 0) return NAMED_FILES[base];
  const ext = base.slice(dot + 1);
  const doc = DOCUMENT_EXTENSIONS[ext];
  if (doc) return doc;
  return CODE_EXTENSIONS.has(ext) ? 'code' : undefined;
}

/** True for lock files and minified bundles: supported extensions whose content is not worth indexing. */
export function isGeneratedFile(file: string): boolean {
  const base = path.basename(file).toLowerCase();
  return GENERATED_NAMES.has(base) || GENERATED_SUFFIXES.some((s) => base.endsWith(s));
}
