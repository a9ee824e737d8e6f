// `npm start`'s build step: compiles src/ to dist/ only when something it is
// built from changed since the last build (dist/.tsbuildinfo), and then
// incrementally, so a second `npm start` with nothing changed starts at once.
// Plain JavaScript on purpose: it runs before anything is compiled.
import { spawnSync } from 'node:child_process';
import process from 'node:process';
import { readdirSync, statSync, utimesSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import console from 'node:console';

const BUILD_INFO = 'dist/.tsbuildinfo';
/** What the build reads besides src/: a change in any of them rebuilds. */
const INPUTS = ['tsconfig.json', 'tsconfig.build.json', 'package.json', 'package-lock.json'];

/** Newest modification time under a path (directories count: a deleted file changes its directory). */
function newest(path) {
  let stat;
  try {
    stat = statSync(path);
  } catch {
    return 0;
  }
  let latest = stat.mtimeMs;
  if (stat.isDirectory()) for (const entry of readdirSync(path)) latest = Math.max(latest, newest(join(path, entry)));
  return latest;
}

const built = newest(BUILD_INFO);
const changed = Math.max(newest('src'), ...INPUTS.map(newest));
if (built > 0 && built >= changed) {
  console.error('build: dist/ is up to date with src/, not compiling');
} else {
  console.error(built > 0 ? 'build: src/ changed, compiling what changed into dist/ …' : 'build: compiling src/ into dist/ (the first time takes a while) …');
  const started = new Date();
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  const result = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.build.json', '--incremental', '--tsBuildInfoFile', BUILD_INFO], { stdio: 'inherit' });
  if (result.status !== 0) process.exit(result.status ?? 1);
  // tsc leaves the build info untouched when nothing it emits changed (a touched file): mark this build as
  // done, as of its start, so a file saved while it ran is newer and builds next time.
  utimesSync(BUILD_INFO, started, started);
}
