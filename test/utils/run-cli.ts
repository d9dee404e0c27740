import { spawn } from 'node:child_process'
import { CLI_BIN } from '@shardmesh/cli/harness'

export interface CliResult {
  code: number | null
  stdout: string
  stderr: string
}

/** Run the real `shardmesh` binary as a child process; kill it if it outlives `timeout`. */
export async function runCli (args: string[], options: { timeout?: number, env?: NodeJS.ProcessEnv } = {}): Promise<CliResult> {
  const child = spawn(process.execPath, [CLI_BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...options.env } })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (d: Buffer) => { stdout += d.toString() })
  child.stderr.on('data', (d: Buffer) => { stderr += d.toString() })
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeout ?? 120_000)
  const code = await new Promise<number | null>(resolve => child.once('exit', code => { resolve(code) }))
  clearTimeout(timer)
  return { code, stdout, stderr }
}
