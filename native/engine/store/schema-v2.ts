/**
 * Schema version 2: lexical-only collections and model upgrades (issue 16).
 *
 * `collections.model`/`variant` name the model of the collection's LIVE vectors (what search
 * uses) and become nullable: NULL = a lexical-only collection (chunks + FTS5, no vectors).
 * `upgrade_model`/`upgrade_variant` name the model an upgrade is re-embedding the collection with
 * (NULL when none): its vectors sit beside the live ones in `embeddings` (keyed by chunk and
 * model key) until every chunk has one, then one transaction makes them live and drops the old.
 *
 * SQLite cannot drop NOT NULL in place, so the table is rebuilt (the documented 12-step way:
 * this migration runs with foreign keys off, so dropping the old table cascades nothing, and
 * `documents` keeps referring to `collections` by name).
 */
export const SCHEMA_V2 = `
CREATE TABLE collections_v2 (
  id              INTEGER PRIMARY KEY,
  name            TEXT NOT NULL UNIQUE,
  model           TEXT,              -- model id of the live vectors; NULL: lexical-only
  variant         TEXT,              -- fp32 | int8 | fp16 | static; NULL with model
  dims            INTEGER,
  root            TEXT,              -- folder or file last indexed
  options         TEXT NOT NULL DEFAULT '{}',  -- JSON: chunking, csv columns...
  created_at      TEXT NOT NULL,
  upgrade_model   TEXT,              -- model being embedded by an upgrade in progress
  upgrade_variant TEXT,
  CHECK ((model IS NULL) = (variant IS NULL)),
  CHECK ((upgrade_model IS NULL) = (upgrade_variant IS NULL))
);
INSERT INTO collections_v2 (id, name, model, variant, dims, root, options, created_at)
  SELECT id, name, model, variant, dims, root, options, created_at FROM collections;
DROP TABLE collections;
ALTER TABLE collections_v2 RENAME TO collections;
`;
