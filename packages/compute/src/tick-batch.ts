/**
 * Calls made in one turn of the event loop, served together at its end (`setImmediate`: after
 * every microtask and I/O callback of the turn). A worker's results that finish together share
 * one receipt signature this way, and a requester's decided shards one countersignature; a lone
 * call waits only for the rest of its turn. `run` gets at most `max` inputs at a time and must
 * return one output per input, in order; if it throws, each call of that batch rejects with it.
 */
export class TickBatch<I, O> {
  private pending: Array<{ input: I, resolve(output: O): void, reject(err: Error): void }> = []
  private scheduled = false

  constructor (private readonly run: (inputs: I[]) => O[] | Promise<O[]>, private readonly max: number) {
    if (!Number.isSafeInteger(max) || max < 1) {
      throw new RangeError(`max must be a positive integer, got ${max}`)
    }
  }

  async add (input: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.pending.push({ input, resolve, reject })
      if (!this.scheduled) {
        this.scheduled = true
        setImmediate(() => { this.flush() })
      }
    })
  }

  private flush (): void {
    this.scheduled = false
    const pending = this.pending
    this.pending = []
    for (let start = 0; start < pending.length; start += this.max) {
      const batch = pending.slice(start, start + this.max)
      void (async () => this.run(batch.map(p => p.input)))().then(outputs => {
        if (outputs.length !== batch.length) {
          throw new Error(`a batch of ${batch.length} gave ${outputs.length} outputs`)
        }
        batch.forEach((p, i) => { p.resolve(outputs[i]) })
      }).catch((err: Error) => {
        for (const p of batch) {
          p.reject(err)
        }
      })
    }
  }
}
