/**
 * libp2p 3 targets ES2024 and calls `Promise.withResolvers`, which Node 20 lacks (PLATFORM.md).
 * Installed once, guarded, before this benchmark creates any node.
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
