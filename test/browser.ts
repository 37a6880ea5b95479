// Launches the system's Chromium (Debian /usr/bin/chromium, or CHROMIUM_PATH) through
// playwright-core. Never `playwright install`: nothing is downloaded.
import { accessSync, constants } from 'node:fs';
import { chromium } from 'playwright-core';
import type { Browser, Page } from 'playwright-core';

const chromiumPath = (): string => process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';

// Flags known to work headless in containers (docs: ecosystem.md trap 7). No --user-data-dir:
// launch() rejects it and makes a fresh profile anyway.
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** True when an executable Chromium is where launchChromium() will look. */
export function chromiumAvailable(): boolean {
  try {
    accessSync(chromiumPath(), constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

export async function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: chromiumPath(), args: CHROMIUM_ARGS });
}

/** Fills the dashboard's login form at `url` and submits it (the page decides what follows). */
export async function submitLogin(p: Page, url: string, user: string, password: string): Promise<void> {
  await p.goto(url);
  await p.locator('#login-form').waitFor();
  await p.fill('input[name=user]', user);
  await p.fill('input[name=password]', password);
  await p.click('#login-form button[type=submit]');
}
