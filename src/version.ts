/**
 * Release version tokens. The seed's "Release version in User-agent and Server headers":
 * OMA IM servers identify as `IM-serv/OMA1.0 <product>` (spec-digest.md).
 */
import { readFileSync } from 'node:fs';

function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: unknown };
  return typeof pkg.version === 'string' ? pkg.version : '0.0.0';
}

export const VERSION = packageVersion();
export const PRODUCT = `im-history/${VERSION}`;
export const DEFAULT_RELEASE_TOKEN = `IM-serv/OMA1.0 ${PRODUCT}`;
