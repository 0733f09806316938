// A scripted person for `--login manual` (runner/login/manual.ts): a real Chromium tab, driven by
// playwright-core, that opens the URL the run prints and answers what the authorization server
// shows. Used by the manual-login tests and the README recipe test.

import { existsSync } from 'node:fs';
import { DEFAULT_CHROMIUM_PATH } from '../../runner/login/browser.ts';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? DEFAULT_CHROMIUM_PATH;
export const haveChromium = existsSync(CHROMIUM);

export type Browser = import('playwright-core').Browser;
export type Page = import('playwright-core').Page;

/** The start URL `--login manual` prints on a line of its own: `  http://127.0.0.1:PORT/`. */
export const START_URL = /^\s+(http:\/\/127\.0\.0\.1:\d+\/)\s*$/m;

export async function launchChromium(): Promise<Browser> {
  const { chromium } = await import('playwright-core');
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--no-first-run',
      '--disable-background-networking',
    ],
  });
}

/**
 * An attentive person: signs in on the first page, then approves every consent page the tab shows
 * until the run ends. Returns how many pages they acted on (counted before the click, so a click
 * the run's end overtakes still counts).
 */
export async function approveEverything(
  page: Page,
  startUrl: string,
  runEnded: Promise<unknown>,
): Promise<number> {
  let ended = false;
  void runEnded.then(
    () => (ended = true),
    () => (ended = true),
  );
  let acted = 0;
  await page.goto(startUrl);
  while (!ended) {
    const shown = await page
      .locator('button[value="approve"]')
      .waitFor({ state: 'visible', timeout: 1_000 })
      .then(
        () => true,
        () => false,
      );
    if (!shown || ended) continue;
    const before = page.url();
    if ((await page.locator('[name="password"]').count()) > 0) {
      await page.fill('[name="username"]', 'alice');
      await page.fill('[name="password"]', 'alice');
    }
    acted++;
    await page.click('button[value="approve"]').catch(() => undefined);
    await page.waitForURL((u) => u.href !== before, { timeout: 5_000 }).catch(() => undefined);
  }
  return acted;
}
