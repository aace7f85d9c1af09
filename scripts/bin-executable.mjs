#!/usr/bin/env node
/**
 * Makes the built `openqoe` command executable. npm marks a package's bin
 * executable when it installs it, but in this workspace the bin is built after
 * the install, and tsc writes new files without the executable bit.
 */
import { chmodSync } from 'node:fs';
import { resolve } from 'node:path';

chmodSync(resolve(import.meta.dirname, '../packages/server/dist/cli.js'), 0o755);
