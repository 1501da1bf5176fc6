// Small file-system helpers shared by everything that must not lose data on a crash or a kill:
// making a rename durable, and telling whether the process that left a lock or a temporary
// directory is still running.

import { open } from "node:fs/promises";

/** fsyncs a directory, so a rename or unlink inside it survives a power cut. */
export async function syncDir(dir: string): Promise<void> {
  const h = await open(dir, "r");
  try {
    await h.sync();
  } finally {
    await h.close();
  }
}

/** True while a process with this PID exists on this host (EPERM: it exists, owned by another user). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}
