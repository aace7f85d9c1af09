#!/usr/bin/env node
/** `npm run docs`: writes the reference pages generated from the code (run after a build). */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REFERENCE_DOCS } from '../packages/server/dist/config/reference-docs.js';

const root = join(import.meta.dirname, '..');
for (const [file, render] of Object.entries(REFERENCE_DOCS)) {
  writeFileSync(join(root, file), render());
  console.log(`wrote ${file}`);
}
