import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REFERENCE_DOCS } from '../src/config/reference-docs.js';

const root = join(import.meta.dirname, '../../..');

describe('reference docs', () => {
  for (const [file, render] of Object.entries(REFERENCE_DOCS)) {
    it(`${file} matches the code (run \`npm run docs\` after changing it)`, () => {
      expect(readFileSync(join(root, file), 'utf8')).toBe(render());
    });
  }
});
