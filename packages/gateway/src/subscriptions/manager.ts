import type { EventBus } from '@switchyard/core'
import type { FastifyBaseLogger } from 'fastify'
import { Counters } from './counters.js'
import type { SubscriptionDefinition, SubscriptionRecord, SubscriptionStore } from './definition.js'
import { Runner, type RunnerHost } from './runner.js'
import type { WebhookSender } from './webhook.js'

/** Called when a subscription is deleted or paused, to tell its WebSocket clients. */
export type ChangeListener = (id: string, change: 'deleted' | 'paused' | 'resumed') => void

/**
 * Runs every stored subscription on this gateway process and keeps in step with the others on
 * the same database: each `syncIntervalMs` it writes its counters and reads the definitions,
 * starting what another process created or resumed and stopping what it deleted or paused.
 * The broker's consumer group shares the events out between the processes.
 */
export class SubscriptionManager implements RunnerHost {
  readonly counters = new Counters()
  private readonly runners = new Map<string, Runner>()
  private timer: NodeJS.Timeout | undefined
  private syncing: Promise<void> | undefined
  private stopped = false
  readonly listeners = new Set<ChangeListener>()

  constructor(
    readonly bus: EventBus,
    private readonly store: SubscriptionStore,
    readonly sender: WebhookSender,
    private readonly log: FastifyBaseLogger,
    private readonly syncIntervalMs: number,
  ) {}

  /** Logs a failure with the error's name and message only. */
  report(error: Error, subscriptionId: string, where: string): void {
    this.log.warn(
      { error: error.name, message: error.message, subscription: subscriptionId },
      `subscription ${where} failed`,
    )
  }

  /** Starts every stored subscription, then syncs every `syncIntervalMs`. */
  async start(): Promise<void> {
    await this.bus.connect()
    await this.sync()
    this.timer = setInterval(() => void this.sync(), this.syncIntervalMs)
    this.timer.unref()
  }

  /** Writes the counters and applies the stored definitions (one sync at a time). */
  sync(): Promise<void> {
    this.syncing ??= this.doSync().finally(() => {
      this.syncing = undefined
    })
    return this.syncing
  }

  private async doSync(): Promise<void> {
    try {
      await this.flush()
      const records = await this.store.list()
      if (this.stopped) return
      const seen = new Set<string>()
      for (const record of records) {
        seen.add(record.id)
        await this.apply(record)
      }
      for (const [id, runner] of this.runners) {
        if (!seen.has(id)) await this.drop(id, runner)
      }
    } catch (error) {
      this.report(error as Error, '*', 'sync')
    }
  }

  private async apply(definition: SubscriptionDefinition): Promise<Runner> {
    let runner = this.runners.get(definition.id)
    if (runner === undefined) {
      runner = new Runner(definition, this)
      this.runners.set(definition.id, runner)
    } else if (runner.definition.paused !== definition.paused) {
      runner.definition = definition
      this.emit(definition.id, definition.paused ? 'paused' : 'resumed')
    }
    runner.definition = definition
    await runner.reconcile()
    return runner
  }

  private async drop(id: string, runner: Runner): Promise<void> {
    this.runners.delete(id)
    this.counters.forget(id)
    this.emit(id, 'deleted')
    await runner.stop()
  }

  private emit(id: string, change: 'deleted' | 'paused' | 'resumed'): void {
    for (const listener of this.listeners) listener(id, change)
  }

  /** Writes what this process counted; a failed write is kept for the next one. */
  async flush(): Promise<void> {
    for (const [id, delta] of this.counters.take()) {
      try {
        await this.store.addCounters(id, delta)
      } catch (error) {
        this.counters.restore(id, delta)
        throw error
      }
    }
  }

  /**
   * Stores a new subscription and starts it here (the others follow at their next sync).
   * @returns false when its stream already has a subscription in that consumer group.
   */
  async create(definition: SubscriptionDefinition): Promise<boolean> {
    if (!(await this.store.create(definition))) return false
    const runner = await this.apply(definition)
    if (definition.delivery === 'websocket') {
      // Without it the group starts when the first client connects; worth a warning, not a 500.
      await runner
        .pin()
        .catch((error: unknown) => this.report(error as Error, definition.id, 'pin'))
    }
    return true
  }

  /** Pauses or resumes a subscription on every gateway (here at once). */
  async setPaused(record: SubscriptionRecord, paused: boolean): Promise<SubscriptionRecord> {
    await this.store.setPaused(record.id, paused)
    const updated = { ...record, paused }
    await this.apply(updated)
    return updated
  }

  /** Deletes a subscription; its broker group stays (core has no delete-group primitive). */
  async remove(id: string): Promise<boolean> {
    const deleted = await this.store.delete(id)
    const runner = this.runners.get(id)
    if (runner !== undefined) await this.drop(id, runner)
    return deleted
  }

  /** The runner of a subscription on this process, if it is known here. */
  runner(id: string): Runner | undefined {
    return this.runners.get(id)
  }

  /** A stored subscription with this process's unwritten counts added. */
  async get(id: string): Promise<SubscriptionRecord | undefined> {
    const record = await this.store.get(id)
    if (record === undefined) return undefined
    return { ...record, counters: this.counters.merged(id, record.counters) }
  }

  /** Every stored subscription. */
  list(): Promise<SubscriptionRecord[]> {
    return this.store.list()
  }

  /** Stops every subscription here (drains running deliveries) and writes the counters. */
  async stop(): Promise<void> {
    this.stopped = true
    clearInterval(this.timer)
    await this.syncing
    await Promise.all([...this.runners.values()].map((runner) => runner.stop()))
    this.runners.clear()
    await this.flush().catch((error: unknown) => this.report(error as Error, '*', 'flush'))
  }
}
