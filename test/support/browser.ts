/**
 * Headless Chromium for the browser tests: Debian's package (`/usr/bin/chromium`, which .ci/run
 * installs) driven by playwright-core. No browser is ever downloaded.
 */
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { afterEach, beforeEach } from 'node:test';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/**
 * Why the browser suites cannot run on this machine, for `describe(…, { skip })`; false when they
 * can. Under CI a missing browser is not skipped: the suite then fails in `launchBrowser`.
 */
export function browserSkipReason(): string | false {
  if (existsSync(CHROMIUM_PATH) || process.env.CI) return false;
  return `no Chromium at ${CHROMIUM_PATH}: install Debian's chromium package (or set CHROMIUM_PATH) to run the browser tests`;
}

export async function launchBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH))
    throw new Error(`no Chromium at ${CHROMIUM_PATH}; CI must run the browser tests (.ci/run installs the chromium package)`);
  return chromium.launch({ executablePath: CHROMIUM_PATH, headless: true });
}

/**
 * Collects what must never happen on a page: uncaught exceptions, console errors (CSP violations
 * are reported there) and failed loads of the page's own files. Failed API calls are the tests'
 * business, so answers under `apiPath` and Chromium's console echo of them are left out.
 */
export function watchForPageProblems(page: Page, apiPath: RegExp): () => string[] {
  const problems: string[] = [];
  page.on('pageerror', (error) => problems.push(`uncaught: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error' && !message.text().startsWith('Failed to load resource')) problems.push(`console: ${message.text()}`);
  });
  page.on('response', (response) => {
    if (response.status() >= 400 && !apiPath.test(new URL(response.url()).pathname))
      problems.push(`${response.status()} for ${response.url()}`);
  });
  page.on('requestfailed', (request) => {
    if (!apiPath.test(new URL(request.url()).pathname)) problems.push(`failed: ${request.url()} ${request.failure()?.errorText ?? ''}`);
  });
  return () => problems;
}

/** Where a test's screenshot goes: test-output/<folder>/<name>.png (not committed). */
export async function screenshotPath(folder: string, name: string): Promise<string> {
  const dir = join('test-output', folder);
  await mkdir(dir, { recursive: true });
  return join(dir, `${name}.png`);
}

/**
 * Inside a suite: a fresh page of `context()` for every test (so a fresh sessionStorage), handed
 * to `use`, and after the test the check that it had no uncaught errors, console errors (CSP
 * included) or missing files.
 */
export function freshPagePerTest(context: () => BrowserContext, apiPath: RegExp, use: (page: Page) => void): void {
  let page: Page | undefined;
  let problems: () => string[] = () => [];
  beforeEach(async () => {
    page = await context().newPage();
    problems = watchForPageProblems(page, apiPath);
    use(page);
  });
  afterEach(async () => {
    const found = problems();
    await page?.close();
    assert.deepEqual(found, [], 'no uncaught errors, console errors (CSP included) or missing files');
  });
}
