import { existsSync } from 'node:fs';

/** Where the OS packages put Chromium; CHROMIUM_PATH overrides. npm test installs Debian's `chromium` as root. */
export const CHROMIUM_PATHS = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'];

export function findChromium(): string | undefined {
  return [process.env.CHROMIUM_PATH, ...CHROMIUM_PATHS].find((p) => p !== undefined && existsSync(p));
}
