import { isTandemError } from '../common/errors.js';
import { openDatabase, openStoreForReading, storePath, type Db } from '../store/database.js';
import { hasRunningJob } from '../store/job-queries.js';
import { JobStore } from './job-store.js';

/**
 * The store for commands that only read (search, listings): opened read-only, so they work on a
 * read-only TANDEM_HOME. Only when some job is still 'running' is it reopened for writing, to mark
 * jobs of dead processes interrupted; a read-only disk skips that and the jobs read as they are.
 */
export function openForReadingMarkingDeadJobs(home: string): Db {
  let db = openStoreForReading(home);
  const running = hasRunningJob(db);
  if (running && !db.memory) {
    try {
      const rw = openDatabase(storePath(home));
      db.close();
      db = rw;
      new JobStore(db).markInterrupted();
    } catch (e) {
      if (!isTandemError(e, 'READ_ONLY')) throw e;
    }
  }
  return db;
}
