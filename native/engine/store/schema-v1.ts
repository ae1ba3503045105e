/**
 * Schema version 1. Later versions append migrations; never edit a shipped one.
 * Times are ISO-8601 UTC strings; JSON columns hold validated JSON text.
 */
export const SCHEMA_V1 = `
CREATE TABLE settings (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL              -- JSON
);

CREATE TABLE collections (
  id         INTEGER PRIMARY KEY,
  name       TEXT NOT NULL UNIQUE,
  model      TEXT NOT NULL,        -- model id used for its embeddings
  variant    TEXT NOT NULL,        -- fp32 | int8 | fp16 | static
  dims       INTEGER,
  root       TEXT,                 -- folder or file last indexed
  options    TEXT NOT NULL DEFAULT '{}',  -- JSON: chunking, csv columns...
  created_at TEXT NOT NULL
);

CREATE TABLE documents (
  id            INTEGER PRIMARY KEY,
  collection_id INTEGER NOT NULL REFERENCES collections(id) ON DELETE CASCADE,
  doc_key       TEXT NOT NULL,     -- stable id: relative path, or the BEIR _id for .jsonl corpora
  path          TEXT NOT NULL,     -- absolute path of the source file
  file_type     TEXT NOT NULL,     -- txt md html pdf docx csv tsv jsonl code
  title         TEXT,
  size          INTEGER NOT NULL,
  mtime_ms      INTEGER NOT NULL,
  sha256        TEXT NOT NULL,     -- of the source bytes (or of the record for jsonl)
  chunk_count   INTEGER NOT NULL DEFAULT 0,
  indexed_at    TEXT NOT NULL,
  UNIQUE (collection_id, doc_key)
);
CREATE INDEX documents_path ON documents(collection_id, path);

CREATE TABLE chunks (
  id          INTEGER PRIMARY KEY,
  document_id INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
  ord         INTEGER NOT NULL,    -- position within the document
  text        TEXT NOT NULL,
  start       INTEGER NOT NULL,    -- character offsets in the extracted text
  end         INTEGER NOT NULL,
  page        INTEGER,             -- 1-based page for paged formats (pdf)
  tokens      INTEGER NOT NULL,
  UNIQUE (document_id, ord)
);

CREATE TABLE embeddings (
  chunk_id INTEGER NOT NULL REFERENCES chunks(id) ON DELETE CASCADE,
  model    TEXT NOT NULL,          -- model id + variant, e.g. minishlab/potion-base-2M@static
  dtype    TEXT NOT NULL CHECK (dtype IN ('f32', 'i8')),
  scale    REAL,                   -- i8: value = byte * scale
  vector   BLOB NOT NULL,
  PRIMARY KEY (chunk_id, model)
) WITHOUT ROWID;
CREATE INDEX embeddings_model ON embeddings(model);

-- Lexical index over chunk text (external content: the text lives once, in chunks).
CREATE VIRTUAL TABLE chunks_fts USING fts5(
  text, content='chunks', content_rowid='id', tokenize='porter unicode61 remove_diacritics 2'
);
CREATE TRIGGER chunks_ai AFTER INSERT ON chunks BEGIN
  INSERT INTO chunks_fts(rowid, text) VALUES (new.id, new.text);
END;
CREATE TRIGGER chunks_ad AFTER DELETE ON chunks BEGIN
  INSERT INTO chunks_fts(chunks_fts, rowid, text) VALUES ('delete', old.id, old.text);
END;
CREATE TRIGGER chunks_au AFTER UPDATE OF text ON chunks BEGIN
  INSERT INTO chunks_fts(chunks_fts, rowid, text) VALUES ('delete', old.id, old.text);
  INSERT INTO chunks_fts(rowid, text) VALUES (new.id, new.text);
END;

CREATE TABLE jobs (
  id             TEXT PRIMARY KEY, -- ULID-like, sortable by creation
  kind           TEXT NOT NULL,    -- embed | index | boltz2 | generate | embed-remote ...
  backend        TEXT NOT NULL,    -- local | modal | cloud-run
  device         TEXT,             -- cpu | cuda | ... (what actually ran it)
  params         TEXT NOT NULL,    -- JSON, validated before insert
  input_digest   TEXT NOT NULL,    -- sha256 of the canonical input
  status         TEXT NOT NULL CHECK (status IN ('queued','running','succeeded','failed','cancelled','interrupted')),
  priority       INTEGER NOT NULL DEFAULT 0,
  progress_done  INTEGER NOT NULL DEFAULT 0,
  progress_total INTEGER,
  queued_at      TEXT NOT NULL,
  started_at     TEXT,
  finished_at    TEXT,
  load_ms        REAL,             -- model load or cloud cold start
  inference_ms   REAL,
  queue_ms       REAL,
  transfer_ms    REAL,
  error_code     TEXT,
  error_message  TEXT,
  cost_usd       REAL NOT NULL DEFAULT 0,
  result         TEXT,             -- JSON summary / result file paths
  retry_of       TEXT REFERENCES jobs(id),
  remote_id      TEXT              -- backend job id, for resuming polls
);
CREATE INDEX jobs_status ON jobs(status);
CREATE INDEX jobs_kind ON jobs(kind, backend);

-- A finished job record never changes.
CREATE TRIGGER jobs_finished_immutable BEFORE UPDATE ON jobs
WHEN old.status IN ('succeeded','failed','cancelled') BEGIN
  SELECT RAISE(ABORT, 'job record is final');
END;
CREATE TRIGGER jobs_finished_undeletable BEFORE DELETE ON jobs
WHEN old.status IN ('succeeded','failed','cancelled') BEGIN
  SELECT RAISE(ABORT, 'job record is final');
END;

CREATE TABLE job_events (
  id     INTEGER PRIMARY KEY,
  job_id TEXT NOT NULL REFERENCES jobs(id),
  at     TEXT NOT NULL,
  type   TEXT NOT NULL,            -- queued | started | progress | succeeded | failed | cancelled | interrupted | resumed | retried | note
  data   TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX job_events_job ON job_events(job_id, id);
CREATE TRIGGER job_events_append_only_u BEFORE UPDATE ON job_events BEGIN
  SELECT RAISE(ABORT, 'job events are append-only');
END;
CREATE TRIGGER job_events_append_only_d BEFORE DELETE ON job_events BEGIN
  SELECT RAISE(ABORT, 'job events are append-only');
END;

-- Index jobs resume from here: one row per document finished by a job.
CREATE TABLE job_checkpoints (
  job_id  TEXT NOT NULL REFERENCES jobs(id),
  doc_key TEXT NOT NULL,
  PRIMARY KEY (job_id, doc_key)
) WITHOUT ROWID;
`;
