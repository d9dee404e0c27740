/** Whether a process id is alive (EPERM: alive, owned by someone else). */
export function isAlive (pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err: any) {
    return err.code === 'EPERM'
  }
}

/** Call `onDeath` once `parentPid` is gone, so a child of a cluster never outlives it. */
export function watchParent (parentPid: number | undefined, onDeath: () => void): () => void {
  if (parentPid == null) {
    return () => {}
  }
  const timer = setInterval(() => {
    if (!isAlive(parentPid)) {
      clearInterval(timer)
      onDeath()
    }
  }, 1_000)
  timer.unref()
  return () => { clearInterval(timer) }
}
