// report.html in a real browser: Debian's Chromium driven by playwright-core loads the file from
// disk (offline: every network request is refused and counted), and the filters are used as a
// person would. A screenshot is kept in test-artifacts/ (ignored by git) for a human to look at.
// Skips, saying why, where Chromium is not installed (CI installs it: see .ci/run).

import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderHtml } from '../../reports/html.ts';
import { sampleReport } from './sample-report.ts';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const haveChromium = existsSync(CHROMIUM);

type Browser = import('playwright-core').Browser;
type Page = import('playwright-core').Page;

describe.skipIf(!haveChromium)(`report.html in headless Chromium (${CHROMIUM})`, () => {
  let browser: Browser;
  let page: Page;
  const dir = mkdtempSync(join(tmpdir(), 'report-html-'));
  const networkRequests: string[] = [];

  beforeAll(async () => {
    const { chromium } = await import('playwright-core');
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    page = await browser.newPage();
    await page.route(/^https?:/, (route) => {
      networkRequests.push(route.request().url());
      return route.abort();
    });
    const file = join(dir, 'report.html');
    writeFileSync(file, renderHtml(sampleReport()));
    await page.goto(pathToFileURL(file).href);
  }, 30_000);

  afterAll(async () => {
    await browser?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const visibleIds = () =>
    page.$$eval('article.check', (els) => els.filter((e) => !(e as HTMLElement).hidden).map((e) => e.id));

  it('shows the headline, counts and every check, with no network request', async () => {
    await expect(page.textContent('[data-testid=verdict]')).resolves.toBe('Not conformant: 1 check failed');
    await expect(page.textContent('[data-testid=counts] td[data-status=fail]')).resolves.toBe('1');
    expect(await visibleIds()).toHaveLength(6);
    await expect(page.textContent('[data-testid=shown]')).resolves.toBe('6 of 6 checks shown');
    // The hostile message is text, not markup: no alert, no injected element.
    await expect(page.$$('article script')).resolves.toHaveLength(0);
    expect(await page.textContent('#RS-PRM-05 .message')).toContain('<script>alert("x")</script>');
    expect(networkRequests).toEqual([]);
  });

  it('filters by status', async () => {
    for (const status of ['pass', 'skip', 'info', 'error']) {
      await page.uncheck(`input[name=status][value=${status}]`);
    }
    expect((await visibleIds()).sort()).toEqual(['RS-401-05', 'RS-PRM-05']);
    await expect(page.textContent('[data-testid=shown]')).resolves.toBe('2 of 6 checks shown');
  });

  it('filters by area, combined with status', async () => {
    await page.selectOption('select[name=area]', 'RS-PRM');
    expect(await visibleIds()).toEqual(['RS-PRM-05']);
    await page.check('input[name=status][value=pass]');
    expect((await visibleIds()).sort()).toEqual(['RS-PRM-01', 'RS-PRM-05']);
  });

  it('expands the HTTP exchanges of a check in the order they were sent', async () => {
    await page.click('#RS-PRM-05 details.exchanges > summary');
    const ids = await page.$$eval('#RS-PRM-05 details.exchange', (els) =>
      els.map((e) => e.getAttribute('data-exchange')),
    );
    expect(ids).toEqual(['x1', 'x2']);
    await page.click('#RS-PRM-05 details.exchange[data-exchange=x1] > summary');
    expect(await page.isVisible('#RS-PRM-05 details.exchange[data-exchange=x1] pre.res')).toBe(true);
    expect(await page.textContent('#RS-PRM-05 details.exchange[data-exchange=x1] pre.res')).toMatch(
      /^HTTP 200/,
    );
    mkdirSync('test-artifacts', { recursive: true });
    await page.screenshot({ path: join('test-artifacts', 'report-html.png'), fullPage: true });
  });
});

describe.skipIf(haveChromium)('report.html in a browser', () => {
  it.skip(`skipped: no Chromium at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)`, () => {});
});
