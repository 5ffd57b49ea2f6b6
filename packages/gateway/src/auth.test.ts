import { describe, expect, test } from 'vitest'
import { hasRole, principalOf } from './auth.js'

describe('auth', () => {
  test('auth - roles scoped to streams apply to matching streams only; admin covers every role', () => {
    const p = principalOf(
      { tenant_id: 'acme', roles: ['publisher:orders.*', 'subscriber'] },
      'tenant_id',
      'roles',
    )
    expect(p.tenant).toBe('acme')
    expect(hasRole(p, 'publisher', 'orders.eu')).toBe(true)
    expect(hasRole(p, 'publisher', 'billing')).toBe(false)
    expect(hasRole(p, 'subscriber', 'billing')).toBe(true)
    expect(hasRole(p, 'admin')).toBe(false)
    const admin = principalOf({ org: 'x', roles: 'admin' }, 'org', 'roles')
    expect(admin.tenant).toBe('x')
    expect(hasRole(admin, 'publisher', 'anything')).toBe(true)
    const unknown = principalOf({ roles: ['root', 'publisher'] }, 'tenant_id', 'roles')
    expect([...unknown.roles.keys()]).toEqual(['publisher'])
  })
})
