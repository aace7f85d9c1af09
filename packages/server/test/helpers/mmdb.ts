/**
 * Builds the small City and ASN .mmdb files the enrichment tests read. No npm
 * package writes MaxMind DBs, so this runs build-mmdb.pl (MaxMind's Perl
 * writer) rather than committing opaque binaries; the script holds the
 * networks the tests assert.
 */
import { execFileSync } from 'node:child_process';
import { join, resolve } from 'node:path';

const SCRIPT = resolve(import.meta.dirname, 'build-mmdb.pl');
const APT_PACKAGES = 'libmaxmind-db-writer-perl (and mmdb-bin for mmdblookup)';

export function buildTestDatabases(dir: string): { geo: string; asn: string } {
  const geo = join(dir, 'test-city.mmdb');
  const asn = join(dir, 'test-asn.mmdb');
  try {
    execFileSync('perl', ['-MMaxMind::DB::Writer::Tree', '-e1'], { stdio: 'pipe' });
  } catch (err) {
    const missingPerl = (err as NodeJS.ErrnoException).code === 'ENOENT';
    throw new Error(
      `${missingPerl ? 'perl is not installed' : 'the Perl module MaxMind::DB::Writer is missing'}; ` +
        `install the Debian package ${APT_PACKAGES}: apt-get install -y libmaxmind-db-writer-perl mmdb-bin`,
      { cause: err },
    );
  }
  try {
    execFileSync('perl', [SCRIPT, geo, asn], { stdio: 'pipe' });
  } catch (err) {
    const stderr = (err as { stderr?: Buffer }).stderr?.toString().trim() ?? '';
    throw new Error(`build-mmdb.pl failed: ${stderr || String(err)}`, { cause: err });
  }
  return { geo, asn };
}
