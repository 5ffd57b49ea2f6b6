import { createHash } from 'node:crypto'
import type { Cluster, Redis } from 'ioredis'

// Each script touches the keys of one topic only (one hash slot), so it runs on Cluster too.
// They use server time (TIME), so delays do not depend on the clocks of the processes.

const NOW = `local t = redis.call('TIME')
local now = t[1] * 1000 + math.floor(t[2] / 1000)`

/**
 * Parks entries for redelivery: KEYS delay zset, attempts hash; ARGV delayMs, then id/attempt
 * pairs. The entries stay pending (unacknowledged) while they wait. Returns the due time.
 */
const NACK = `${NOW}
local due = now + tonumber(ARGV[1])
for i = 2, #ARGV, 2 do
  redis.call('ZADD', KEYS[1], due, ARGV[i])
  redis.call('HSET', KEYS[2], ARGV[i], ARGV[i + 1])
end
return due`

/**
 * Takes due parked entries for this consumer: KEYS stream, delay, attempts, trimmed; ARGV group,
 * consumer, count. Returns {server now, next due or '', events the group lost to lossyTrim
 * since the last look, {id, fields, next attempt}...}. An entry acknowledged or deleted
 * meanwhile is skipped by XCLAIM.
 */
const DUE = `${NOW}
local lost = redis.call('HGET', KEYS[4], ARGV[1]) or 0
if lost ~= 0 then redis.call('HDEL', KEYS[4], ARGV[1]) end
local out = {now, '', tonumber(lost)}
local ids = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now, 'LIMIT', 0, tonumber(ARGV[3]))
for _, id in ipairs(ids) do
  redis.call('ZREM', KEYS[2], id)
  local made = tonumber(redis.call('HGET', KEYS[3], id) or '0')
  redis.call('HDEL', KEYS[3], id)
  local entry = redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0, id)[1]
  if entry and entry[2] then out[#out + 1] = {entry[1], entry[2], made + 1} end
end
local nxt = redis.call('ZRANGE', KEYS[2], 0, 0, 'WITHSCORES')
if nxt[2] then out[2] = nxt[2] end
return out`

/**
 * Reclaims entries idle longer than the visibility timeout (a crashed consumer's): KEYS stream,
 * delay; ARGV group, consumer, minIdle, cursor, count. Parked entries are claimed but not
 * returned: they wait for their due time. Returns {cursor, {id, fields, delivery count}...}.
 */
const RECLAIM = `local r = redis.call('XAUTOCLAIM', KEYS[1], ARGV[1], ARGV[2], ARGV[3], ARGV[4], 'COUNT', ARGV[5])
local out = {r[1]}
for _, entry in ipairs(r[2]) do
  local id = entry[1]
  if entry[2] and not redis.call('ZSCORE', KEYS[2], id) then
    local p = redis.call('XPENDING', KEYS[1], ARGV[1], id, id, 1)[1]
    out[#out + 1] = {id, entry[2], p and p[4] or 1}
  end
end
return out`

/**
 * Lists this consumer's own pending entries after a reconnect (a read whose reply was lost):
 * KEYS stream, delay; ARGV group, consumer, start, count. Returns {last id, scanned,
 * {id, fields, delivery count}...}; parked entries are left alone, deleted ones acknowledged.
 */
const RECOVER = `local p = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[3], '+', tonumber(ARGV[4]), ARGV[2])
local out = {'', #p}
for _, e in ipairs(p) do
  local id = e[1]
  out[1] = id
  if not redis.call('ZSCORE', KEYS[2], id) then
    local r = redis.call('XRANGE', KEYS[1], id, id)[1]
    if r then out[#out + 1] = {id, r[2], e[4]} else redis.call('XACK', KEYS[1], ARGV[1], id) end
  end
end
return out`

/**
 * Resets the idle time of entries this consumer still works on, so a slow handler is not
 * mistaken for a crashed one: KEYS stream; ARGV group, consumer, ids. JUSTID keeps the
 * delivery count; entries another consumer took over are left with it.
 */
const TOUCH = `local n = 0
for i = 3, #ARGV do
  local p = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[i], ARGV[i], 1)[1]
  if p and p[2] == ARGV[2] then
    redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0, ARGV[i], 'JUSTID')
    n = n + 1
  end
end
return n`

/** Removes a consumer from its group when it owns no pending entries: KEYS stream; ARGV group, consumer. */
const LEAVE = `local p = redis.pcall('XPENDING', KEYS[1], ARGV[1], '-', '+', 1, ARGV[2])
if type(p) == 'table' and p.err == nil and #p == 0 then
  return redis.call('XGROUP', 'DELCONSUMER', KEYS[1], ARGV[1], ARGV[2])
end
return -1`

/**
 * Forgets consumers that own nothing and were idle longer than ARGV[2] ms (closed or crashed
 * processes): KEYS stream; ARGV group, idle. A live one is recreated by its next read.
 */
const PRUNE = `local n = 0
for _, c in ipairs(redis.call('XINFO', 'CONSUMERS', KEYS[1], ARGV[1])) do
  local info = {}
  for i = 1, #c, 2 do info[c[i]] = c[i + 1] end
  if info['pending'] == 0 and info['idle'] > tonumber(ARGV[2]) then
    redis.call('XGROUP', 'DELCONSUMER', KEYS[1], ARGV[1], info['name'])
    n = n + 1
  end
end
return n`

/**
 * Trims a stream to ARGV[1] entries, at most ARGV[3] in one call: KEYS stream, trimmed; ARGV
 * maxLength, lossy (1 or 0), limit. Without lossy, never past what a group still needs: its
 * oldest pending entry (handed out, or parked for a retry), else what follows the last entry
 * delivered to it. With lossy, by count; each group's unread and pending entries among those
 * trimmed are counted in the trimmed hash (DUE reports them), and its pending and parked ones
 * forgotten. Returns {entries trimmed, events lost}.
 */
const TRIM = `local excess = redis.call('XLEN', KEYS[1]) - tonumber(ARGV[1])
if excess <= 0 then return {0, 0} end
local function numLess(a, b) return #a < #b or (#a == #b and a < b) end
local function less(a, b)
  local am, as = string.match(a, '^(%d+)-(%d+)$')
  local bm, bs = string.match(b, '^(%d+)-(%d+)$')
  if am ~= bm then return numLess(am, bm) end
  return numLess(as, bs)
end
local function inc(n)
  local i = #n
  while i > 0 and string.byte(n, i) == 57 do i = i - 1 end
  if i == 0 then return '1' .. string.rep('0', #n) end
  return string.sub(n, 1, i - 1) .. string.char(string.byte(n, i) + 1) .. string.rep('0', #n - i)
end
local groups = {}
for _, g in ipairs(redis.call('XINFO', 'GROUPS', KEYS[1])) do
  local info = {}
  for i = 1, #g, 2 do info[g[i]] = g[i + 1] end
  local oldest = false
  if info['pending'] > 0 then oldest = redis.call('XPENDING', KEYS[1], info['name'])[2] end
  groups[#groups + 1] = {info['name'], info['last-delivered-id'], oldest}
end
local lossy = ARGV[2] == '1'
-- The last entry that may go: inclusive (last delivered) or exclusive (oldest pending, which
-- is never after the last delivered).
local stop, open = '+', false
if not lossy then
  for _, g in ipairs(groups) do
    local id, excl = g[2], false
    if g[3] then id, excl = g[3], true end
    if stop == '+' or less(id, stop) or (id == stop and excl) then stop, open = id, excl end
  end
  if stop == '0-0' then return {0, 0} end
  if open then stop = '(' .. stop end
end
local count = math.min(excess, tonumber(ARGV[3]))
local entries = redis.call('XRANGE', KEYS[1], '-', stop, 'COUNT', count)
if #entries == 0 then return {0, 0} end
local last = entries[#entries][1]
local lost = 0
if lossy then
  local tag = string.sub(KEYS[1], 1, -8)
  for _, g in ipairs(groups) do
    local n = 0
    for i = #entries, 1, -1 do
      if less(g[2], entries[i][1]) then n = n + 1 else break end
    end
    if g[3] then
      local ids = {}
      for _, p in ipairs(redis.call('XPENDING', KEYS[1], g[1], '-', last, count)) do
        ids[#ids + 1] = p[1]
      end
      if #ids > 0 then
        redis.call('XACK', KEYS[1], g[1], unpack(ids))
        redis.call('ZREM', tag .. ':delay:' .. g[1], unpack(ids))
        redis.call('HDEL', tag .. ':attempts:' .. g[1], unpack(ids))
        n = n + #ids
      end
    end
    if n > 0 then redis.call('HINCRBY', KEYS[2], g[1], n) end
    lost = lost + n
  end
end
local ms, seq = string.match(last, '^(%d+)-(%d+)$')
if seq == '18446744073709551615' then ms, seq = inc(ms), '0' else seq = inc(seq) end
redis.call('XTRIM', KEYS[1], 'MINID', ms .. '-' .. seq)
return {#entries, lost}`

/** A Lua script and its SHA1, for `EVALSHA`. */
export interface Script {
  readonly lua: string
  readonly sha: string
}

const script = (lua: string): Script => ({ lua, sha: createHash('sha1').update(lua).digest('hex') })

/** The adapter's Lua scripts. */
export const SCRIPTS = {
  nack: script(NACK),
  due: script(DUE),
  reclaim: script(RECLAIM),
  recover: script(RECOVER),
  touch: script(TOUCH),
  leave: script(LEAVE),
  prune: script(PRUNE),
  trim: script(TRIM),
} as const

/** Runs a script by hash, loading it on the first `NOSCRIPT` (a new or restarted server). */
export async function runScript(
  client: Redis | Cluster,
  which: Script,
  keys: readonly string[],
  args: ReadonlyArray<string | number>,
): Promise<unknown> {
  try {
    return await client.callBuffer('EVALSHA', [which.sha, keys.length, ...keys, ...args])
  } catch (error) {
    if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error
    return client.callBuffer('EVAL', [which.lua, keys.length, ...keys, ...args])
  }
}
