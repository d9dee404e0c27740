import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import { join } from 'node:path'
import { modelCidOfBytes, parseNvidiaSmi, probeHardware, probeModels, probeNvidiaGpus } from '../src/index.js'

const MiB = 1024 * 1024

/** What `nvidia-smi --query-gpu=name,memory.total,uuid,driver_version --format=csv,noheader,nounits` prints on a 2×H100 host. */
const H100_CSV =
  'NVIDIA H100 80GB HBM3, 81559, GPU-1f2e3d4c-5b6a-7980-1a2b-3c4d5e6f7a8b, 550.54.15\n' +
  'NVIDIA H100 80GB HBM3, 81559, GPU-9a8b7c6d-5e4f-3021-0a1b-2c3d4e5f6a7b, 550.54.15\n'

describe('probe', () => {
  let dir: string

  before(async () => {
    dir = await mkdtemp(join(os.tmpdir(), 'shardmesh-probe-'))
  })

  after(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  describe('parseNvidiaSmi', () => {
    it('parses each GPU line', () => {
      assert.deepEqual(parseNvidiaSmi(H100_CSV), [
        { vendor: 'nvidia', model: 'NVIDIA H100 80GB HBM3', memoryBytes: 81559 * MiB, uuid: 'GPU-1f2e3d4c-5b6a-7980-1a2b-3c4d5e6f7a8b', driver: '550.54.15' },
        { vendor: 'nvidia', model: 'NVIDIA H100 80GB HBM3', memoryBytes: 81559 * MiB, uuid: 'GPU-9a8b7c6d-5e4f-3021-0a1b-2c3d4e5f6a7b', driver: '550.54.15' }
      ])
    })

    it('tolerates CRLF line ends and surrounding blanks', () => {
      const gpus = parseNvidiaSmi('\r\n  Tesla T4 ,  15360 , GPU-abc , 535.104.05 \r\n\r\n')
      assert.deepEqual(gpus, [{ vendor: 'nvidia', model: 'Tesla T4', memoryBytes: 15360 * MiB, uuid: 'GPU-abc', driver: '535.104.05' }])
    })

    it('never makes up a GPU from garbage, errors or empty output', () => {
      const garbage = [
        '',
        '\n\n',
        'NVIDIA-SMI has failed because it couldn\'t communicate with the NVIDIA driver. Make sure that the latest NVIDIA driver is installed and running.\n',
        'No devices were found\n',
        'a,b\n',
        ', 81559, GPU-x, 550\n',
        'NVIDIA A100, [N/A], GPU-x, 550\n',
        'NVIDIA A100, 0, GPU-x, 550\n',
        'NVIDIA A100, -5, GPU-x, 550\n',
        '\u0000\u0001\u0002,,,\n'
      ]
      for (const text of garbage) {
        assert.deepEqual(parseNvidiaSmi(text), [], JSON.stringify(text))
      }
    })

    it('keeps the good lines of a mixed output', () => {
      const gpus = parseNvidiaSmi(`garbage\n${H100_CSV}NVIDIA A100, [N/A], GPU-x, 550\n`)
      assert.equal(gpus.length, 2)
    })
  })

  describe('probeNvidiaGpus', () => {
    it('a binary that does not exist gives no GPUs', async () => {
      assert.deepEqual(await probeNvidiaGpus({ nvidiaSmi: join(dir, 'no-such-nvidia-smi') }), [])
    })

    it('nvidiaSmi: false gives no GPUs without running anything', async () => {
      assert.deepEqual(await probeNvidiaGpus({ nvidiaSmi: false }), [])
    })

    it('runs the binary with the query arguments and parses its output', async () => {
      const bin = join(dir, 'fake-nvidia-smi')
      await writeFile(bin, [
        '#!/bin/sh',
        '[ "$1" = "--query-gpu=name,memory.total,uuid,driver_version" ] && [ "$2" = "--format=csv,noheader,nounits" ] || exit 3',
        `printf '%s' '${H100_CSV}'`
      ].join('\n'))
      await chmod(bin, 0o755)
      const gpus = await probeNvidiaGpus({ nvidiaSmi: bin })
      assert.deepEqual(gpus, parseNvidiaSmi(H100_CSV))
      assert.equal(gpus.length, 2)
    })

    it('a failing nvidia-smi gives no GPUs even if it printed something', async () => {
      const bin = join(dir, 'failing-nvidia-smi')
      await writeFile(bin, `#!/bin/sh\nprintf '%s' '${H100_CSV}'\nexit 9\n`)
      await chmod(bin, 0o755)
      assert.deepEqual(await probeNvidiaGpus({ nvidiaSmi: bin }), [])
    })

    it('a hung nvidia-smi gives no GPUs after the timeout, and is killed', async () => {
      // it would hang for an hour: the probe returns only because its timeout killed it
      const bin = join(dir, 'hung-nvidia-smi')
      const pidFile = join(dir, 'hung-nvidia-smi.pid')
      await writeFile(bin, `#!/bin/sh\necho $$ > '${pidFile}'\nexec sleep 3600\n`)
      await chmod(bin, 0o755)
      const readPid = async (): Promise<number> => Number((await readFile(pidFile, 'utf8').catch(() => '0')).trim())
      try {
        assert.deepEqual(await probeNvidiaGpus({ nvidiaSmi: bin, timeout: 200 }), [])
        // no pid file: it was killed before it could write one (on a busy machine, say)
        const pid = await readPid()
        if (pid > 0) {
          assert.throws(() => process.kill(pid, 0), (err: any) => err.code === 'ESRCH', 'the hung nvidia-smi is still running')
        }
      } finally {
        try {
          const pid = await readPid()
          if (pid > 0) process.kill(pid, 'SIGKILL')
        } catch {}
      }
    })
  })

  describe('probeHardware', () => {
    it('reports this machine, with no GPUs when the probe is off', async () => {
      const hw = await probeHardware({ nvidiaSmi: false })
      assert.equal(hw.cpuCores, os.availableParallelism())
      assert.equal(hw.memoryBytes, os.totalmem())
      assert.equal(hw.platform, os.platform())
      assert.equal(hw.arch, os.arch())
      assert.ok(hw.cpuModel.length > 0)
      assert.deepEqual(hw.gpus, [])
    })
  })

  describe('probeModels', () => {
    it('content-addresses each regular file, in name order, skipping directories', async () => {
      const models = join(dir, 'models')
      await mkdir(join(models, 'subdir'), { recursive: true })
      const small = Uint8Array.from([1, 2, 3])
      // larger than one read-stream chunk, so the hash spans several chunks
      const large = new Uint8Array(randomBytes(300 * 1024))
      await writeFile(join(models, 'b-large.onnx'), large)
      await writeFile(join(models, 'a-small.bin'), small)
      await writeFile(join(models, 'subdir', 'ignored.bin'), small)

      const cids = await probeModels(models)
      assert.deepEqual(cids.map(c => c.toString()), [(await modelCidOfBytes(small)).toString(), (await modelCidOfBytes(large)).toString()])
    })

    it('a missing directory holds no models', async () => {
      assert.deepEqual(await probeModels(join(dir, 'no-such-dir')), [])
    })

    it('an empty directory holds no models', async () => {
      const empty = join(dir, 'empty')
      await mkdir(empty)
      assert.deepEqual(await probeModels(empty), [])
    })

    it('stops when aborted', async () => {
      const models = join(dir, 'abort')
      await mkdir(models)
      await writeFile(join(models, 'x.bin'), 'x')
      await assert.rejects(probeModels(models, { signal: AbortSignal.abort() }), { name: 'AbortError' })
    })
  })
})
