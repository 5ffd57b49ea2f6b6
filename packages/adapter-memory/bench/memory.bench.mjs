// Memory bus publish -> handle, beside a bare EventEmitter doing the same encode/decode work.
import { EventEmitter } from 'node:events'
import { memoryTransport } from '@switchyard/adapter-memory'
import { binaryCodec, createEvent, createEventBus } from '@switchyard/core'

const payload = (bytes) => ({ employee_id: 'emp_123', note: 'x'.repeat(Math.max(0, bytes - 40)) })

async function busRun({ count, bytes, passByReference }) {
  const bus = createEventBus({
    transport: memoryTransport({ passByReference, historySize: 0 }),
    source: 'bench',
  })
  let handled = 0
  let finish
  const done = new Promise((resolve) => {
    finish = resolve
  })
  await bus.subscribe(
    'bench',
    () => {
      if (++handled === count) finish()
    },
    { concurrency: 64, prefetch: 4096 },
  )
  const data = payload(bytes)
  const chunk = Array.from({ length: 1_000 }, () => ({ type: 'employee.created', data }))
  const started = performance.now()
  for (let sent = 0; sent < count; sent += chunk.length) await bus.publishBatch('bench', chunk)
  await done
  const seconds = (performance.now() - started) / 1_000
  await bus.close()
  return count / seconds
}

async function emitterRun({ count, bytes, encode }) {
  const codec = binaryCodec()
  const emitter = new EventEmitter()
  let handled = 0
  let finish
  const done = new Promise((resolve) => {
    finish = resolve
  })
  emitter.on('bench', (message) => {
    if (encode) codec.decode(message)
    if (++handled === count) finish()
  })
  const data = payload(bytes)
  const started = performance.now()
  for (let sent = 0; sent < count; sent += 1_000) {
    for (let i = 0; i < 1_000; i++) {
      const event = createEvent({ type: 'employee.created', source: 'bench', data })
      emitter.emit('bench', encode ? codec.encode(event) : event)
    }
    await new Promise((resolve) => setImmediate(resolve))
  }
  await done
  return count / ((performance.now() - started) / 1_000)
}

async function best(runs, fn) {
  let top = 0
  for (let i = 0; i < runs; i++) top = Math.max(top, await fn())
  return top
}

export default async function bench({ report, quick }) {
  const count = quick ? 50_000 : 300_000
  const runs = quick ? 2 : 4
  const size = (n) =>
    JSON.stringify(createEvent({ type: 'employee.created', source: 'bench', data: payload(n) }))
      .length
  for (const bytes of [100, 1_000]) {
    const raw = await best(runs, () => emitterRun({ count, bytes, encode: true }))
    const ours = await best(runs, () => busRun({ count, bytes, passByReference: false }))
    report({
      scenario: `memory publish->handle, ${size(bytes)} B events (binary codec)`,
      unit: 'events/s',
      ours,
      raw,
      rawLabel: 'EventEmitter + same encode/decode',
      target: '>= 0.5x raw',
    })
  }
  const rawRef = await best(runs, () => emitterRun({ count: count * 2, bytes: 100, encode: false }))
  const ref = await best(runs, () =>
    busRun({ count: count * 2, bytes: 100, passByReference: true }),
  )
  report({
    scenario: 'memory publish->handle, small events, pass by reference',
    unit: 'events/s',
    ours: ref,
    raw: rawRef,
    rawLabel: 'EventEmitter, no encoding',
    target: '>= 1,000,000 events/s',
  })
}
