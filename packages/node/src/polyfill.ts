/**
 * libp2p 3 targets ES2024 and calls `Promise.withResolvers`, which Node 20 lacks: without it
 * `createLibp2p()` throws as soon as a service registers a protocol. Installed once, guarded,
 * before anything creates a node. This is why this package has `sideEffects: true`.
 */
if (typeof (Promise as any).withResolvers !== 'function') {
  Object.defineProperty(Promise, 'withResolvers', {
    configurable: true,
    writable: true,
    value: function withResolvers<T> () {
      let resolve!: (value: T | PromiseLike<T>) => void
      let reject!: (reason?: unknown) => void
      const promise = new Promise<T>((res, rej) => { resolve = res; reject = rej })
      return { promise, resolve, reject }
    }
  })
}

export {}
