import { closeSync, openSync, readFileSync, rmSync, writeSync } from "node:fs";
import path from "node:path";

export class DataDirInUseError extends Error {
  override name = "DataDirInUseError";
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * Takes `<dir>/plugboard.lock` holding our pid. A lock left by a process that no longer runs is
 * stale and taken over; a live one is refused. Returns the release function.
 */
export function acquireDataDirLock(dir: string): () => void {
  const lockPath = path.join(dir, "plugboard.lock");
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(lockPath, "wx");
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return () => rmSync(lockPath, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      const holder = Number(readFileSync(lockPath, "utf8").trim());
      if (Number.isInteger(holder) && holder > 0 && holder !== process.pid && isAlive(holder)) {
        throw new DataDirInUseError(
          `The data directory ${dir} is in use by process ${holder}. The embedded database (PGlite) ` +
            "serves one process only: stop that process, choose another PLUGBOARD_DATA_DIR, or set " +
            "DATABASE_URL to share a PostgreSQL database between processes.",
        );
      }
      rmSync(lockPath, { force: true });
    }
  }
  throw new DataDirInUseError(`Could not lock the data directory ${dir}; another process keeps taking it.`);
}
