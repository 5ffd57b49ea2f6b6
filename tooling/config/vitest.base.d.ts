import type { UserWorkspaceConfig } from 'vitest/config'
/** Shared vitest project settings; `test` overrides the defaults. */
export declare function packageProject(
  name: string,
  test?: Record<string, unknown>,
): UserWorkspaceConfig
