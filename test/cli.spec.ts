import assert from 'node:assert/strict'
import { chmod, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { runCli } from './utils/run-cli.js'

/** Stands in a flag table for the suite's temporary dir, made only in before(). */
const DIR = '<dir>'

describe('shardmesh CLI', function () {
  this.timeout(120_000)
  let dir: string

  before(async () => { dir = await mkdtemp(join(tmpdir(), 'shardmesh-cli-')) })
  after(async () => { await rm(dir, { recursive: true, force: true }) })

  it('--version prints the CLI package version, also as JSON', async () => {
    const { version } = JSON.parse(await readFile(new URL('../../packages/cli/package.json', import.meta.url), 'utf8'))
    const plain = await runCli(['--version'])
    assert.equal(plain.code, 0, plain.stderr)
    assert.equal(plain.stdout, `shardmesh ${version}\n`)
    const json = await runCli(['--version', '--json'])
    assert.equal(json.code, 0, json.stderr)
    assert.deepEqual(JSON.parse(json.stdout), { name: '@shardmesh/cli', version, node: process.versions.node })
  })

  it('prints help and exits 0', async () => {
    const res = await runCli(['--help'])
    assert.equal(res.code, 0)
    assert.match(res.stdout, /Commands:/)
    assert.match(res.stdout, /^ {2}dashboard {3}the login URL of the running node's dashboard/m)
    for (const cmd of [['node', '--help'], ['cluster', '--help'], ['peers', '--help'], ['dashboard', '--help'], ['demo', '--help'], ['key', '--help'], ['receipts', '--help'], ['chain', '--help']]) {
      const r = await runCli(cmd)
      assert.equal(r.code, 0, cmd.join(' '))
      assert.match(r.stdout, /Usage: shardmesh/)
    }
  })

  // each case its own test: a flag table run in one test outgrows its timeout on a loaded machine
  // (DIR stands for the suite's temporary dir, made in before())
  const badFlags: Array<[string[], RegExp]> = [
    [['nope'], /unknown command "nope"/],
    [['cluster', '--nodes', 'abc'], /--nodes: "abc" must be a whole number/],
    [['cluster', '--nodes', '3', '--for', 'soon'], /--for: "soon" is not a duration/],
    [['cluster', '--bogus'], /Unknown option '--bogus'/],
    [['node', 'start', '--workload', 'no-such-workload', '--data-dir', DIR], /is not installed/],
    [['node', 'frobnicate'], /unknown subcommand/],
    [['node', 'start', '--solana-rpc', 'not a url', '--data-dir', DIR], /--solana-rpc must be an http\(s\):\/\/ or ws\(s\):\/\/ URL/],
    [['node', 'start', '--solana-keypair', 'k.json', '--data-dir', DIR], /need --solana-rpc/],
    [['node', 'start', '--min-score', '1.5', '--data-dir', DIR], /--min-score must be a number from 0 to 1, got "1\.5"/],
    [['node', 'start', '--challenge-interval', 'often', '--data-dir', DIR], /--challenge-interval: "often" is not a duration/],
    [['node', 'start', '--test-fault', 'advertise-slots:0', '--data-dir', DIR], /--test-fault must be .*advertise-slots:N, got "advertise-slots:0"/],
    [['node', 'start', '--test-fault', 'wrong-answers-after:x', '--data-dir', DIR], /--test-fault must be wrong-answers, wrong-answers-after:N/],
    [['demo', '--no-chain', '--solana-rpc', 'http://127.0.0.1:8899'], /exclude each other/],
    [['chain', '--port', '70000'], /--port: "70000" must be a whole number from 0 to 65535/],
    [['chain', '--host', 'example.com'], /chain: --host must be an IP address, not "example.com"/],
    [['receipts', 'show', 'xyz'], /give one receipt id/],
    [['receipts', 'verify'], /give one proof file or receipt id/],
    [['receipts', 'verify', 'not-a-file-or-id'], /neither a file nor a receipt id/],
    [['receipts', 'list', '--anchored', '--unanchored'], /exclude each other/],
    [['receipts', 'frobnicate'], /unknown subcommand/],
    [['receipts', 'list', '--job', 'not-hex'], /--job must be a job id or a prefix of one \(hex\), not "not-hex"/],
    [['receipts', 'list', '--peer', '0OIl'], /--peer must be a peer id or a prefix of one \(base58\)/],
    [['receipts', 'verify', 'abc', '--solana-rpc', 'localhost:8899'], /--solana-rpc must be an http\(s\):\/\/ URL/],
    [['receipts', 'verify', 'abc', '--solana-ws', 'http://127.0.0.1:8900'], /--solana-ws must be a ws\(s\):\/\/ URL/],
    // job run checks every flag before it looks for a node (there is none in these dirs)
    [['job', 'run', '--workload', 'echo', '--generate', '3', '--peer', 'notapeer', '--data-dir', join(DIR, 'none')], /--peer "notapeer" is not a peer id/],
    [['job', 'run', '--workload', 'echo', '--input', join(DIR, 'no-such-input'), '--data-dir', join(DIR, 'none')], /--input .*no-such-input does not exist/],
    [['job', 'run', '--workload', 'echo', '--generate', '0', '--data-dir', join(DIR, 'none')], /--generate: "0" must be a whole number/],
    [['job', 'run', '--workload', 'echo', '--generate', '3', '--verify', 'replicate:x', '--data-dir', join(DIR, 'none')], /--verify/],
    [['job', 'run', '--workload', 'nope', '--generate', '3', '--data-dir', join(DIR, 'none')], /unknown workload nope/],
    // job plan and job run's trust flags, also checked before the node is looked for
    [['job', 'plan', '--data-dir', join(DIR, 'none')], /job plan: --workload is required/],
    [['job', 'plan', '--workload', 'nope', '--data-dir', join(DIR, 'none')], /job plan: unknown workload nope/],
    [['job', 'plan', '--workload', 'echo', '--verify', 'replicate:x', '--data-dir', join(DIR, 'none')], /job plan: --verify/],
    [['job', 'plan', '--workload', 'echo', '--peer', 'notapeer', '--data-dir', join(DIR, 'none')], /job plan: --peer "notapeer" is not a peer id/],
    [['job', 'plan', '--workload', 'echo', '--min-score', '1.5', '--data-dir', join(DIR, 'none')], /--min-score: "1\.5" must be a number from 0 to 1/],
    [['job', 'plan', '--workload', 'echo', '--min-score', 'high', '--data-dir', join(DIR, 'none')], /--min-score: "high" must be a number from 0 to 1/],
    [['job', 'plan', '--workload', 'echo', '--generate', '3', '--data-dir', join(DIR, 'none')], /job plan: Unknown option '--generate'/],
    [['job', 'run', '--workload', 'echo', '--generate', '3', '--min-score=-0.1', '--data-dir', join(DIR, 'none')], /--min-score: "-0\.1" must be a number from 0 to 1/],
    [['job', 'run', '--workload', 'echo', '--dry-run', '--peer', 'notapeer', '--data-dir', join(DIR, 'none')], /job run: --peer "notapeer" is not a peer id/],
    [['job', 'run', '--workload', 'echo', '--dry-run', '--min-score', '2', '--data-dir', join(DIR, 'none')], /--min-score: "2" must be a number from 0 to 1/],
    [['peers', '--find', 'cpu:amd', '--data-dir', join(DIR, 'none')], /peers: --find must be workload:ID, model:CID or gpu:VENDOR, not "cpu:amd"/],
    [['peers', '--claimed', '--data-dir', join(DIR, 'none')], /peers: --claimed .*needs --find gpu:VENDOR/],
    [['peers', '--find', 'workload:echo', '--claimed', '--data-dir', join(DIR, 'none')], /peers: --claimed .*needs --find gpu:VENDOR/],
    [['peers', '--why', 'not/a/peer', '--data-dir', join(DIR, 'none')], /peers: --why must be a peer id, a prefix of one, or the short form peers prints, not "not\/a\/peer"/],
    [['peers', '--why', '12D3KooW', '--find', 'gpu:nvidia', '--data-dir', join(DIR, 'none')], /peers: --why and --find exclude each other/],
    [['key', 'show', '--out', 'x'], /key show: Unknown option '--out'/],
    [['key', 'import', '--in', join(DIR, 'no-such-keypair.json'), '--data-dir', join(DIR, 'none')], /cannot read --in .*no-such-keypair.json: no such file/]
  ]
  for (const [args, message] of badFlags) {
    it(`rejects bad flags with exit code 2 and a clear message: ${args.join(' ')}`, async () => {
      const res = await runCli(args.map(a => a.replace(DIR, dir)))
      assert.equal(res.code, 2, `${args.join(' ')}: ${res.stderr}`)
      assert.match(res.stderr, message)
    })
  }

  it('key show and key export never create a key: a mistyped --data-dir is an error, and stays absent', async () => {
    const typo = join(dir, 'typo')
    for (const args of [['key', 'show', '--data-dir', typo], ['key', 'export', '--data-dir', typo, '--out', join(dir, 'typo.json')]]) {
      const res = await runCli(args)
      assert.equal(res.code, 2, `${args.join(' ')}: ${res.stderr}`)
      assert.match(res.stderr, /no node key in .*typo .*check --data-dir/)
    }
    await assert.rejects(stat(typo), { code: 'ENOENT' })
    await assert.rejects(stat(join(dir, 'typo.json')), { code: 'ENOENT' })
  })

  it('peers without a running node fails with exit code 1 and says how to start one', async () => {
    const res = await runCli(['peers', '--data-dir', join(dir, 'none')])
    assert.equal(res.code, 1)
    assert.match(res.stderr, /no running node/)
  })

  it('key show/export/import round-trips the Solana keypair form', async () => {
    const a = join(dir, 'a')
    const original = join(dir, 'original.json')
    const key = await generateKeyPair('Ed25519')
    await writeFile(original, JSON.stringify([...key.raw]))
    assert.equal((await runCli(['key', 'import', '--data-dir', a, '--in', original])).code, 0)
    const shown = JSON.parse((await runCli(['key', 'show', '--data-dir', a, '--json'])).stdout)
    assert.match(shown.peerId, /^12D3KooW/)
    const file = join(dir, 'id.json')
    assert.equal((await runCli(['key', 'export', '--data-dir', a, '--out', file])).code, 0)
    assert.equal(((await stat(file)).mode & 0o777), 0o600)
    const keypair = JSON.parse(await readFile(file, 'utf8'))
    assert.equal(keypair.length, 64)
    // export does not overwrite a file unless told to
    const refused = await runCli(['key', 'export', '--data-dir', a, '--out', file])
    assert.equal(refused.code, 2)
    assert.match(refused.stderr, /--out .*id\.json exists; --force replaces it/)
    await chmod(file, 0o644)
    assert.equal((await runCli(['key', 'export', '--data-dir', a, '--out', file, '--force'])).code, 0)
    assert.equal(((await stat(file)).mode & 0o777), 0o600)
    const b = join(dir, 'b')
    assert.equal((await runCli(['key', 'import', '--data-dir', b, '--in', file])).code, 0)
    const again = JSON.parse((await runCli(['key', 'show', '--data-dir', b, '--json'])).stdout)
    assert.equal(again.peerId, shown.peerId)
    assert.equal(again.solanaAddress, shown.solanaAddress)
    // importing over an existing key needs --force
    assert.equal((await runCli(['key', 'import', '--data-dir', b, '--in', file])).code, 2)
    // a tampered keypair (public half of another key) is refused
    keypair[40] = (keypair[40] + 1) % 256
    await writeFile(file, JSON.stringify(keypair))
    const bad = await runCli(['key', 'import', '--data-dir', join(dir, 'c'), '--in', file])
    assert.equal(bad.code, 1)
    assert.match(bad.stderr, /does not match/)
  })
})
