import { isProcessAlive } from '@shardmesh/protocol'

/** Call `onDeath` once `parentPid` is gone, so a child of a cluster never outlives it. */
export function watchParent (parentPid: number | undefined, onDeath: () => void): () => void {
  if (parentPid == null) {
    return () => {}
  }
  const timer = setInterval(() => {
    if (!isProcessAlive(parentPid)) {
      clearInterval(timer)
      onDeath()
    }
  }, 1_000)
  timer.unref()
  return () => { clearInterval(timer) }
}
