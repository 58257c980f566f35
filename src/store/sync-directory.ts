/**
 * Durable renames: after a file is renamed into (or removed from) a folder, the folder itself must
 * be fsynced for the change to survive a crash on POSIX file systems.
 */
import { constants as fsConstants } from "node:fs";
import { open } from "node:fs/promises";

/**
 * Fsyncs the folder `dir` (POSIX); Windows cannot open a folder for fsync, and does not need to.
 */
export async function syncDirectory(dir: string): Promise<void> {
  if (process.platform === "win32") return;
  const handle = await open(dir, fsConstants.O_RDONLY);
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
