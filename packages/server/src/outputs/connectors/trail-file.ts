/**
 * Keeps the per-view trails (event count, last time of each event kind)
 * across a clean restart: written on shutdown, read and removed on start.
 * After a crash there is no file and the trails of views in progress start
 * over; removing it on start keeps a later crash from reading stale ones.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { ViewTrail } from './envelope.js';

interface SavedTrail extends Omit<ViewTrail, 'lastAtMs'> {
  key: string;
  lastAtMs: [string, number][];
}

export function saveTrails(file: string, trails: ReadonlyMap<string, ViewTrail>): void {
  const out: SavedTrail[] = [...trails].map(([key, t]) => ({ ...t, key, lastAtMs: [...t.lastAtMs] }));
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, JSON.stringify(out));
}

/** The saved trails, or none when there is no readable file. */
export function takeTrails(file: string): Map<string, ViewTrail> {
  const trails = new Map<string, ViewTrail>();
  let saved: SavedTrail[];
  try {
    saved = JSON.parse(readFileSync(file, 'utf8')) as SavedTrail[];
  } catch {
    return trails;
  } finally {
    rmSync(file, { force: true });
  }
  for (const { key, lastAtMs, ...rest } of saved) trails.set(key, { ...rest, lastAtMs: new Map(lastAtMs) });
  return trails;
}
