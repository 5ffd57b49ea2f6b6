// The soak process's half of the consumer child: spawns the bundled consumer.mjs, reads its
// `{"finished":id}` lines (every one, so a second handling counts as a duplicate), asks it for
// memory samples over IPC, and kills it with SIGKILL the way a crashed service dies.
import { spawn } from 'node:child_process'
import { createInterface } from 'node:readline'

const SPEC_ENV = 'SWITCHYARD_CONSUMER'
const FINISHED = '{"finished":"'

/** One consumer process after another (a new one after each kill), counted by `generation`. */
export class ConsumerChild {
  generation = 0
  child = undefined

  /**
   * @param script the bundled consumer
   * @param args transport kind and broker address
   * @param spec the `ConsumerSpec` of `@switchyard/testkit/consumer`
   * @param onFinished called with each event id a handler finished
   * @param onLog called with each line the child writes on stderr (its bus logs there)
   */
  constructor(script, args, spec, onFinished, onLog) {
    Object.assign(this, { script, args, spec, onFinished, onLog })
  }

  /** Starts a new process and resolves once it has subscribed. */
  async start() {
    const child = spawn(process.execPath, ['--expose-gc', this.script, ...this.args], {
      env: { ...process.env, [SPEC_ENV]: JSON.stringify(this.spec) },
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    })
    this.child = child
    this.generation++
    this.exited = new Promise((resolve) => {
      child.once('exit', resolve)
      child.once('error', resolve)
    })
    createInterface({ input: child.stderr }).on('line', (line) => this.onLog(line))
    await new Promise((resolve, reject) => {
      void this.exited.then((code) => reject(new Error(`consumer exited (${code}) before ready`)))
      createInterface({ input: child.stdout }).on('line', (line) => {
        if (line.startsWith(FINISHED)) this.onFinished(line.slice(FINISHED.length, -2))
        else if (line === '{"ready":true}') resolve()
      })
    })
  }

  /** SIGKILL, then resolves once the process is gone. */
  async kill() {
    const child = this.child
    if (child === undefined) return
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
    await this.exited
  }

  /** Heap and RSS of the live process after a full GC, or undefined when it does not answer. */
  sample(timeoutMs = 3_000) {
    const child = this.child
    if (child?.connected !== true) return Promise.resolve(undefined)
    return new Promise((resolve) => {
      const timer = setTimeout(() => finish(undefined), timeoutMs)
      const onMessage = (report) => finish(report)
      const finish = (report) => {
        clearTimeout(timer)
        child.off('message', onMessage)
        resolve(report)
      }
      child.on('message', onMessage)
      child.send('sample', (error) => {
        if (error) finish(undefined)
      })
    })
  }
}
