import assert from 'node:assert/strict'
import { NODE_HELP } from '../src/commands/node.js'
import { JOB_HELP } from '../src/commands/job.js'
import { parseStartOptions } from '../src/daemon/start-options.js'

describe('node start: the workloads a daemon serves', () => {
  it('serves every built-in but the opt-in onnx by default, and onnx when named', async () => {
    const byDefault = await parseStartOptions(['--data-dir', '/nonexistent/shardmesh'])
    assert.deepEqual(byDefault.offer, ['ocr-rec@1.0.0', 'embed@1.0.0', 'echo@1.0.0', 'sleep@1.0.0'])
    // it can still request onnx jobs: the registry has it
    assert.ok(byDefault.workloads.get('onnx') != null)
    assert.deepEqual((await parseStartOptions(['--workload', 'onnx', '--workload', 'echo'])).offer, ['onnx@1.0.0', 'echo@1.0.0'])
  })

  it('says so in --help, and that embed is a benchmark with random weights', () => {
    const help = NODE_HELP.replace(/\s+/g, ' ')
    assert.match(help, /default: ocr-rec, embed, echo, sleep; onnx, which runs any model a requester sends, only when named/)
    assert.match(help, /embed's weights are seeded random: a compute benchmark, its vectors mean nothing/)
    assert.match(JOB_HELP.replace(/\s+/g, ' '), /embed: a MiniLM-shaped model with seeded random weights, a compute benchmark whose vectors carry no meaning, not a usable embedding/)
  })
})
