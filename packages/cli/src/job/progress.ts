import { plural } from '@shardmesh/protocol'
import type { JobEvent } from '@shardmesh/control'

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
      stream.write(`\r[${bar}] ${event.shardsDone}/${plural(event.shardsTotal, 'shard')}  ${event.itemsDone}/${plural(event.itemsTotal, 'item')}  ${event.itemsPerSec.toFixed(1)} items/s  ${plural(event.peersInUse, 'peer')} busy `)
      drawn = true
    },
    done () {
      if (drawn) {
        stream.write('\n')
      }
    }
  }
}
