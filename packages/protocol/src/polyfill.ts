/**
 * libp2p 3 targets ES2024 and calls `Promise.withResolvers`, which Node 20 lacks: without it
 * `createLibp2p()` throws as soon as a service registers a protocol. The one copy of the
 * polyfill: `@shardmesh/node` imports it (so importing that package installs it) and so does
 * whatever else creates a node without it (`import '@shardmesh/protocol/polyfill'`). Guarded:
 * a runtime that has the method keeps its own. The only module of this package with a side effect.
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
