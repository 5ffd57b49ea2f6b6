import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { consoleBuilt } from '@switchyard/console'
import { type Browser, chromium, type Page } from 'playwright-core'

/** Debian's Chromium, the browser the console tests drive. */
export const CHROMIUM = '/usr/bin/chromium'

/** Where the tests leave a screenshot of each console page (shown in the console's README). */
export const SCREENSHOTS = fileURLToPath(new URL('../../console/screenshots/', import.meta.url))

/**
 * Installs Debian's `chromium` package when it is missing and this process may (root, apt-get
 * present); resolves a reason to skip when the browser or the built console is not there. Under
 * `CI` a missing browser or console fails instead: the suite must not pass by skipping.
 * @throws {Error} under CI when the browser cannot be had or the console is not built.
 */
export function browserOrSkip(): string | undefined {
  let reason: string | undefined
  if (!consoleBuilt()) {
    reason = 'the console is not built (pnpm --filter @switchyard/console build)'
  } else if (!existsSync(CHROMIUM)) {
    const root = process.getuid?.() === 0
    if (root && existsSync('/usr/bin/apt-get')) {
      try {
        const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }
        execFileSync('apt-get', ['update', '-q'], { stdio: 'ignore', env, timeout: 240_000 })
        execFileSync('apt-get', ['install', '-y', '-q', 'chromium'], {
          stdio: 'ignore',
          env,
          timeout: 480_000,
        })
      } catch (error) {
        reason = `apt-get install chromium failed: ${(error as Error).message.split('\n')[0]}`
      }
    }
    if (reason === undefined && !existsSync(CHROMIUM)) {
      reason = root
        ? `${CHROMIUM} is missing and apt-get did not install it`
        : `${CHROMIUM} is missing (install Debian's chromium package, as root)`
    }
  }
  if (reason === undefined) return undefined
  if (process.env.CI) throw new Error(`Console browser tests: ${reason}. CI is set, so this fails.`)
  console.warn(`[switchyard] skipping the console browser tests: ${reason}`)
  return reason
}

/** Chromium headless, as the tests run it. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-background-networking'],
  })
}

/** A page of a fresh context (its own session storage), logged in to the console with `token`. */
export async function loggedIn(browser: Browser, url: string, token: string): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } })
  const page = await context.newPage()
  await page.goto(`${url}/console/`)
  await page.getByLabel('Bearer token').fill(token)
  await page.getByRole('button', { name: 'Log in' }).click()
  await page.getByRole('link', { name: 'Dead letters' }).waitFor()
  return page
}

/** Saves a full-page screenshot as `<name>.png` in the console's screenshots folder. */
export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true })
  // The pointer off the navigation, so no link shows its hover state.
  await page.mouse.move(1279, 799)
  await page.screenshot({ path: `${SCREENSHOTS}${name}.png`, fullPage: true })
}
