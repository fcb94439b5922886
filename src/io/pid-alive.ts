// Whether a process id names a live process on this machine: signal 0 checks without sending.
// EPERM means it exists but belongs to another user, which is alive all the same.

export function pidAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}
