import type { WebSocket } from 'ws'
import { CLOSE, type ResolvedLiveOptions } from './options.js'

const OPEN = 1
const TEXT = { binary: false }

/**
 * One WebSocket client with a bounded send queue. Frames are handed to `ws` at once; what the
 * socket has not written yet (`bufferedAmount`, and frames whose write callback has not run) is
 * the client's backlog. Past either limit the client gets no more frames, a close frame with code
 * 4008 and the reason, and its connection is cut `closeGraceMs` later if it has not closed by
 * then: memory per client stays bounded whatever the client does.
 */
export class LiveClient {
  private pending = 0
  private closing = false
  private graceTimer: NodeJS.Timeout | undefined
  private roomWaiter: (() => void) | undefined
  /** Frames sent, for tests and monitoring. */
  sent = 0

  constructor(
    readonly socket: WebSocket,
    private readonly limits: Pick<
      ResolvedLiveOptions,
      'maxBufferedBytes' | 'maxBufferedMessages' | 'closeGraceMs'
    >,
    private readonly onOverflow: () => void = () => undefined,
  ) {
    socket.once('close', () => {
      this.closing = true
      clearTimeout(this.graceTimer)
      this.wake()
    })
  }

  /** True once the client is closing or closed: nothing more is sent. */
  get closed(): boolean {
    return this.closing || this.socket.readyState !== OPEN
  }

  /**
   * Sends a text frame (a string, or its UTF-8 bytes: a frame sent to many clients is encoded
   * once), or disconnects the client when its backlog is over a limit.
   */
  send(frame: string | Buffer): boolean {
    if (this.closed) return false
    const { maxBufferedBytes, maxBufferedMessages } = this.limits
    if (this.socket.bufferedAmount > maxBufferedBytes || this.pending >= maxBufferedMessages) {
      this.onOverflow()
      this.close(
        CLOSE.slowConsumer,
        `slow consumer: more than ${maxBufferedBytes} bytes or ${maxBufferedMessages} frames waiting`,
      )
      return false
    }
    this.sent++
    if (this.socket.bufferedAmount === 0) {
      // Nothing is queued: the frame goes to the OS at once, no frame waits behind it, and a
      // fast client costs no write callback.
      this.socket.send(frame, TEXT)
      return true
    }
    this.pending++
    this.socket.send(frame, TEXT, this.written)
    return true
  }

  private readonly written = (): void => {
    this.pending--
    if (this.roomWaiter !== undefined && this.hasRoom()) this.wake()
  }

  /**
   * Sends a frame once the backlog is under half of both limits: a replay of many retained
   * events goes at the client's pace instead of overflowing it. Resolves false when closed.
   */
  async sendPaced(frame: string): Promise<boolean> {
    while (!this.closed && !this.hasRoom()) {
      await new Promise<void>((resolve) => {
        this.roomWaiter = resolve
        // Frames sent to an idle socket have no callback: look again after a while too.
        setTimeout(() => this.wake(), 10)
      })
    }
    return this.send(frame)
  }

  private hasRoom(): boolean {
    return (
      this.socket.bufferedAmount <= this.limits.maxBufferedBytes / 2 &&
      this.pending < this.limits.maxBufferedMessages / 2
    )
  }

  private wake(): void {
    const waiter = this.roomWaiter
    this.roomWaiter = undefined
    waiter?.()
  }

  /** Sends a close frame, then cuts the connection if the client has not closed within the grace. */
  close(code: number, reason: string): void {
    if (this.closing) return
    this.closing = true
    this.wake()
    // A close reason is at most 123 bytes.
    this.socket.close(code, Buffer.from(reason).subarray(0, 123).toString())
    this.graceTimer = setTimeout(() => this.socket.terminate(), this.limits.closeGraceMs)
    this.graceTimer.unref()
  }

  /** Backlog now: bytes not yet written, and frames not yet handed to the OS. */
  backlog(): { bytes: number; frames: number } {
    return { bytes: this.socket.bufferedAmount, frames: this.pending }
  }
}

/** Closes a client at shutdown. */
export function closeGoingAway(client: LiveClient): void {
  client.close(CLOSE.goingAway, 'gateway shutting down')
}
