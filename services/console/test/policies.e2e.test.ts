import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitFor } from '@livescope/testkit';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumArgs, locateChromium } from './support/chromium.js';
import { ConsoleStack, repoRoot, resultsDir } from './support/ConsoleStack.js';

/**
 * Issue 18, the Policies page in a real browser against the real pipeline: the set in force with
 * its version and author, a candidate edited in the page, its diff and its impact on the live
 * fleet (counts, per namespace, drill-down to identities and their lost permissions), the
 * publication held for a second admin, approved by another admin, and the history. Screenshots go
 * to test-results/, or to docs/img/ with LIVESCOPE_SCREENSHOTS=1.
 */
const chrome = locateChromium();
if (chrome.path === undefined) process.stderr.write(`\nconsole policies e2e SKIPPED: ${chrome.reason}\n\n`);

const FLEET = Number(process.env.LIVESCOPE_CONSOLE_FLEET ?? 2_000);
const shotsDir = process.env.LIVESCOPE_SCREENSHOTS === '1' ? join(repoRoot, 'docs', 'img') : resultsDir;
const eventually = { timeout: 30_000, interval: 100 };

const stack = new ConsoleStack({ fleetSize: FLEET, sseMaxMs: 30_000, trafficPerSecond: 0 });
let context: BrowserContext;
let page: Page;
let ada: string;
let grace: string;

async function shot(name: string): Promise<void> {
  mkdirSync(shotsDir, { recursive: true });
  await page.mouse.move(0, 0);
  await page.screenshot({ path: join(shotsDir, `console-${name}.png`), fullPage: true });
}

async function signIn(token: string): Promise<void> {
  await page.goto(`${stack.url}/`);
  await page.getByTestId('token-input').fill(token);
  await page.getByTestId('sign-in').click();
  await page.getByTestId('user').waitFor();
}

describe.skipIf(!chrome.path)('the Policies page, on the live pipeline', () => {
  beforeAll(async () => {
    await stack.open();
    ada = await stack.token(['admin'], 'ada', { kind: 'human' });
    grace = await stack.token(['admin'], 'grace', { kind: 'human' });
    await stack.provision([]);
    await waitFor(`the fleet of ${FLEET} identities in the state of record`, async () => (await stack.api<{ total: number }>('GET', '/v1/identities?limit=1', ada)).json.total === FLEET, 240_000, 500);
    await waitFor('the example policies in force', async () => (await stack.api<{ version: number | null }>('GET', '/v1/policies', ada)).json.version !== null, 60_000, 200);
    context = await chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), 'livescope-chromium-')), { executablePath: chrome.path!, headless: true, args: chromiumArgs, viewport: { width: 1440, height: 960 } });
    page = context.pages()[0] ?? (await context.newPage());
    page.on('pageerror', (e) => process.stderr.write(`page error: ${e.message}\n`));
  }, 420_000);

  afterAll(async () => {
    await context?.close().catch(() => undefined);
    await stack.close();
  }, 240_000);

  it('shows the set in force with its version and author, and its history', async () => {
    await signIn(ada);
    await page.getByTestId('nav-policies').click();
    await page.getByTestId('policies-page').waitFor();
    await expect.poll(() => page.getByTestId('policy-in-force').textContent(), eventually).toMatch(/version \d+ in force · published by .*platform-team/);
    await expect.poll(() => page.getByTestId('policy-version-row').count(), eventually).toBe(1);
  });

  it('edits a candidate, shows its diff and its impact on the fleet with a per-namespace drill-down', async () => {
    await page.locator('summary', { hasText: 'risk.cedar' }).click();
    const risk = page.getByTestId('policy-file-risk');
    const text = await risk.inputValue();
    // Writes and admin only for workloads from now on: every other kind loses them.
    await risk.fill(`${text}\n\n@id("writes-for-workloads-only")\nforbid (principal, action in [Livescope::Action::"access:write", Livescope::Action::"access:admin"], resource)\nwhen { principal.kind != "workload" };\n`);
    await page.getByTestId('policy-validate').click();
    await expect.poll(() => page.getByTestId('policy-validation').textContent(), eventually).toMatch(/Validates against the livescope schema/);
    await page.getByTestId('policy-diff').click();
    await page.getByTestId('policy-diff-view').waitFor();
    await expect.poll(() => page.getByTestId('policy-diff-view').textContent(), eventually).toContain('writes-for-workloads-only');
    await expect.poll(() => page.getByTestId('policy-pairs').locator('tbody tr').count(), eventually).toBeGreaterThan(0);
    await shot('policies-diff');

    await page.getByTestId('policy-impact').click();
    await page.getByTestId('policy-impact-view').waitFor();
    await expect.poll(() => page.getByTestId('impact-identities').locator('tbody tr').count(), eventually).toBeGreaterThan(0);
    const impact = (await stack.api<{ totals: { changed: number; narrowed: number; widened: number }; byNamespace: { namespace: string; changed: number }[]; byKind: { kind: string; changed: number }[] }>('POST', '/v1/policies/impact', ada, { files: await candidateFiles() })).json;
    expect(impact.totals.changed).toBeGreaterThan(0);
    expect(impact.totals.widened).toBe(0);
    expect(impact.byKind.find((k) => k.kind === 'workload')?.changed ?? 0).toBe(0);
    await expect.poll(() => page.getByTestId('impact-totals').textContent(), eventually).toContain(impact.totals.changed.toLocaleString('en-US'));
    await shot('policies-impact');

    const ns = impact.byNamespace.find((n) => n.changed > 0)!;
    await page.getByTestId(`drill-namespace-${ns.namespace}`).click();
    await expect.poll(async () => (await page.getByTestId('impact-identity').allTextContents()).every((t) => t.includes(ns.namespace)), eventually).toBe(true);
    await expect.poll(() => page.getByTestId('impact-identity').count(), eventually).toBe(Math.min(ns.changed, 25));
    await shot('policies-drilldown');
  });

  it('a publication held for a second admin is approved by another admin and enters the history', async () => {
    await page.getByRole('button', { name: 'Request approval' }).click();
    await expect.poll(() => page.getByTestId('policy-publication').textContent(), eventually).toMatch(/waits for a second admin/);
    await expect.poll(() => page.getByTestId('policy-pending').textContent(), eventually).toMatch(/by ada/);
    // The requester gets no Approve button; another admin does.
    expect(await page.getByTestId('policy-pending').getByRole('button', { name: 'Approve' }).count()).toBe(0);
    await page.getByTestId('sign-out').click();
    await signIn(grace);
    await page.getByTestId('nav-policies').click();
    await page.getByTestId('policy-pending').getByRole('button', { name: 'Approve' }).click();
    await expect.poll(() => page.getByTestId('policy-publication').textContent(), eventually).toMatch(/published version \d+, approved by grace/);
    await expect.poll(() => page.getByTestId('policy-version-row').count(), eventually).toBe(2);
    await expect.poll(() => page.getByTestId('policy-in-force').textContent(), eventually).toMatch(/published by .*ada/);
    await shot('policies');
  });
});

/** The candidate as the page holds it: the files in force with the edited risk policy. */
async function candidateFiles(): Promise<{ id: string; text: string }[]> {
  const current = (await stack.api<{ files: { id: string; text: string }[] }>('GET', '/v1/policies', ada)).json.files;
  const risk = await page.getByTestId('policy-file-risk').inputValue();
  return current.map((f) => (f.id === 'risk' ? { id: 'risk', text: risk } : f));
}
