// Real headless Chromium (Debian's chromium, or LGSP_CHROMIUM, driven by playwright-core) for the
// console and /docs tests, which skip where it is absent. Screenshots go to tests/artifacts/.
import fs from 'node:fs';
import path from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { ROOT } from './tools.js';

const CHROMIUM = process.env.LGSP_CHROMIUM ?? '/usr/bin/chromium';
export const hasChromium = fs.existsSync(CHROMIUM);
export const ARTIFACTS = path.join(ROOT, 'tests', 'artifacts');

/** Launches it (no sandbox, GPU, QUIC or background traffic) and makes sure ARTIFACTS exists. */
export function launchChromium(): Promise<Browser> {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}
