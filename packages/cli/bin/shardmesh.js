#!/usr/bin/env node
// The shardmesh command line. Built code lives in dist/ (`npm run build` at the repo root).
import { endQuietlyOnClosedOutput, main } from '../dist/src/main.js'

endQuietlyOnClosedOutput()
main(process.argv.slice(2)).then(code => {
  process.exitCode = code
}, err => {
  process.stderr.write(`shardmesh: ${err?.stack ?? err}\n`)
  process.exitCode = 1
})
