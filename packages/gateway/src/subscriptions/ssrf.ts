import { lookup } from 'node:dns'
import { lookup as lookupAsync } from 'node:dns/promises'
import { BlockList, isIP, type LookupFunction } from 'node:net'
import { ConfigurationError } from '@switchyard/core'

/** Address ranges refused as webhook targets unless `allowNetworks` lists them, with why. */
const REFUSED: ReadonlyArray<readonly [string, string]> = [
  ['169.254.169.254/32', 'a cloud metadata address'],
  ['fd00:ec2::254/128', 'a cloud metadata address'],
  ['100.100.100.200/32', 'a cloud metadata address'],
  ['169.254.0.0/16', 'a link-local address'],
  ['fe80::/10', 'a link-local address'],
  ['127.0.0.0/8', 'a loopback address'],
  ['::1/128', 'a loopback address'],
  ['10.0.0.0/8', 'a private address'],
  ['172.16.0.0/12', 'a private address'],
  ['192.168.0.0/16', 'a private address'],
  ['fc00::/7', 'a private address'],
  ['100.64.0.0/10', 'a shared (carrier-grade NAT) address'],
  ['0.0.0.0/8', 'an unspecified address'],
  ['::/128', 'an unspecified address'],
  ['224.0.0.0/4', 'a multicast address'],
  ['ff00::/8', 'a multicast address'],
  ['240.0.0.0/4', 'a reserved address'],
  ['192.0.0.0/24', 'a reserved address'],
  ['198.18.0.0/15', 'a reserved address'],
  ['64:ff9b::/96', 'a NAT64 address (it can reach any IPv4 address)'],
]

function subnet(list: BlockList, cidr: string, field: string): void {
  const [address, bits] = cidr.split('/') as [string, string | undefined]
  const family = isIP(address)
  if (family === 0) {
    throw new ConfigurationError(`${field}: "${cidr}" is not an IP address or CIDR range`, {
      field,
    })
  }
  const type = family === 4 ? 'ipv4' : 'ipv6'
  const prefix = bits === undefined ? (family === 4 ? 32 : 128) : Number(bits)
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > (family === 4 ? 32 : 128)) {
    throw new ConfigurationError(`${field}: "${cidr}" has a bad prefix length`, { field })
  }
  list.addSubnet(address, prefix, type)
}

/**
 * Checks an allow-list (CIDR ranges or addresses) as the guard reads it.
 * @throws {ConfigurationError} naming `field` for an entry that is not an address or range.
 */
export function checkNetworks(entries: readonly string[], field: string): void {
  const list = new BlockList()
  for (const entry of entries) subnet(list, entry, field)
}

/** Decides which addresses a webhook may reach. */
export class TargetGuard {
  private readonly allowed = new BlockList()
  private readonly refused: Array<{ list: BlockList; why: string }> = []

  /**
   * @param allowNetworks CIDR ranges or addresses let through although refused by default.
   * @throws {ConfigurationError} for an entry that is not an address or range.
   */
  constructor(allowNetworks: readonly string[] = []) {
    for (const entry of allowNetworks) subnet(this.allowed, entry, 'webhooks.allowNetworks')
    for (const [cidr, why] of REFUSED) {
      const list = new BlockList()
      subnet(list, cidr, 'refused')
      this.refused.push({ list, why })
    }
  }

  /** Why `address` is refused, or undefined when a webhook may reach it. */
  refusal(address: string): string | undefined {
    const family = isIP(address)
    if (family === 0) return 'not an IP address'
    const type = family === 4 ? 'ipv4' : 'ipv6'
    if (this.allowed.check(address, type)) return undefined
    for (const { list, why } of this.refused) if (list.check(address, type)) return why
    return undefined
  }

  /**
   * Checks a webhook URL as given at creation: http or https, and every address its host
   * resolves to allowed.
   * @returns the reason it is refused, or undefined.
   */
  async check(raw: string): Promise<string | undefined> {
    let url: URL
    try {
      url = new URL(raw)
    } catch {
      return 'webhook_url is not an absolute URL'
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      return `webhook_url must be http or https, not ${url.protocol.slice(0, -1)}`
    }
    const host = url.hostname.replace(/^\[|\]$/g, '')
    let addresses: string[]
    if (isIP(host) !== 0) addresses = [host]
    else {
      try {
        addresses = (await lookupAsync(host, { all: true, verbatim: true })).map((a) => a.address)
      } catch {
        return `webhook_url host "${host}" does not resolve`
      }
    }
    for (const address of addresses) {
      const why = this.refusal(address)
      if (why !== undefined) {
        const via = address === host ? '' : ` resolves to ${address},`
        return `webhook_url host "${host}"${via} is ${why}; refused (allow it with the gateway's subscriptions.webhooks.allowNetworks)`
      }
    }
    return undefined
  }

  /**
   * A `lookup` for `net.connect` that refuses addresses as `check` does, at connect time, so a
   * name that resolved to a public address at creation cannot be re-pointed inside later.
   */
  readonly lookup: LookupFunction = (hostname, options, callback) => {
    lookup(hostname, { ...options, all: true }, (error, found) => {
      if (error !== null) return callback(error, options.all === true ? [] : '')
      for (const { address } of found) {
        const why = this.refusal(address)
        if (why !== undefined) {
          const refused: NodeJS.ErrnoException = new Error(
            `webhook host "${hostname}" resolves to ${address}, ${why}; refused`,
          )
          refused.code = 'ERR_WEBHOOK_TARGET_REFUSED'
          return callback(refused, options.all === true ? [] : '')
        }
      }
      if (options.all === true) return callback(null, found)
      const first = found[0]
      if (first === undefined) return callback(new Error(`${hostname} has no address`), '')
      callback(null, first.address, first.family)
    })
  }
}
