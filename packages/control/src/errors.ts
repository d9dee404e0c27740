/** The daemon is not running (no control.json) or does not answer. */
export class NodeNotRunningError extends Error {
  constructor (message: string) {
    super(message)
    this.name = 'NodeNotRunningError'
  }
}

/**
 * The node answered a request with an error status: `message` is the node's own explanation
 * (e.g. "no receipt matches 5a3f"), without the method, path and status around it.
 */
export class ControlRequestError extends Error {
  constructor (readonly status: number, message: string) {
    super(message)
    this.name = 'ControlRequestError'
  }

  /** 400 (a request the node refuses as made), 404 (nothing matches), 409 (ambiguous): the caller's input, not a failure of the node. */
  get isInputError (): boolean {
    return this.status === 400 || this.status === 404 || this.status === 409
  }
}

/** The control port is taken by another process. */
export class ControlPortInUseError extends Error {
  constructor (readonly port: number) {
    super(`control port ${port} is in use (pick another with --control-port, or leave it out for any free port)`)
    this.name = 'ControlPortInUseError'
  }
}

/** A request the server answers with `status` and `{ error: message }`. */
export class HttpError extends Error {
  constructor (readonly status: number, message: string) {
    super(message)
    this.name = 'HttpError'
  }
}

/** `ControlServer.start()` without a node, given neither there nor to the constructor. */
export class NoNodeToServeError extends Error {
  constructor () {
    super('the control server needs a node to serve')
    this.name = 'NoNodeToServeError'
  }
}
