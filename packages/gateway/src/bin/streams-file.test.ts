import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, test } from 'vitest'
import { readStreamsFile } from './streams-file.js'

describe('streams file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-streams-file-'))
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  test('streams file - APG entries become stream definitions; a bad entry is named', async () => {
    const file = join(dir, 'streams.json')
    writeFileSync(
      file,
      JSON.stringify({
        streams: [
          { name: 'orders', partitions: 6, retention_hours: 24, compression_type: 'lz4' },
          { id: 'audit', retention_ms: 1000, cleanup_policy: 'compact', description: 'audit log' },
        ],
      }),
    )
    expect(await readStreamsFile(file)).toEqual([
      { id: 'orders', partitions: 6, retentionMs: 86_400_000, compression: 'lz4' },
      { id: 'audit', retentionMs: 1000, cleanupPolicy: 'compact', description: 'audit log' },
    ])
    writeFileSync(file, JSON.stringify([{ id: 'x', partitions: 0 }]))
    await expect(readStreamsFile(file)).rejects.toThrow(
      /entry 0\.partitions must be a positive number/,
    )
  })

  test("streams file - APG's streams.yaml, as its README writes it, is read", async () => {
    const file = join(dir, 'streams.yaml')
    writeFileSync(
      file,
      [
        '# streams.yaml',
        'streams:',
        '  user_events:',
        '    partitions: 6',
        '    replication_factor: 3',
        '    retention_time_ms: 604800000  # 7 days',
        '    compression_type: snappy',
        '    cleanup_policy: delete',
        '    ',
        '  order_events:',
        '    partitions: 12',
        '    replication_factor: 3',
        '    retention_time_ms: 2592000000  # 30 days',
        '    compression_type: lz4',
        '    cleanup_policy: compact',
      ].join('\n'),
    )
    expect(await readStreamsFile(file)).toEqual([
      {
        id: 'user_events',
        partitions: 6,
        retentionMs: 604_800_000,
        compression: 'snappy',
        cleanupPolicy: 'delete',
      },
      {
        id: 'order_events',
        partitions: 12,
        retentionMs: 2_592_000_000,
        compression: 'lz4',
        cleanupPolicy: 'compact',
      },
    ])
    writeFileSync(file, 'streams: [unclosed')
    await expect(readStreamsFile(file)).rejects.toThrow(/STREAMS_FILE .*streams\.yaml/)
  })
})
