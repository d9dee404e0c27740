import type { JobEvent } from '../control/types.js'

/** A one-line progress bar on a TTY (nothing otherwise): shards, items, items/s, peers in use. */
export function progressBar (stream: NodeJS.WriteStream): { onEvent(event: JobEvent): void, done(): void } {
  const tty = stream.isTTY
  let drawn = false
  return {
    onEvent (event) {
      if (!tty || event.event !== 'progress') {
        return
      }
      const width = 24
      const filled = Math.round(width * event.shardsDone / Math.max(1, event.shardsTotal))
      const bar = '#'.repeat(filled) + '.'.repeat(width - filled)
      stream.write(`\r[${bar}] ${event.shardsDone}/${event.shardsTotal} shards  ${event.itemsDone}/${event.itemsTotal} items  ${event.itemsPerSec.toFixed(1)} items/s  ${event.peersInUse} peers busy `)
      drawn = true
    },
    done () {
      if (drawn) {
        stream.write('\n')
      }
    }
  }
}
