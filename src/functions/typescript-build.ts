/**
 * Compiles a TypeScript handler once, in the runner, so its workers import plain JavaScript.
 *
 * Loading a `.ts` handler through tsx in every worker starts tsx and esbuild's service per thread:
 * about 1.4 s of cold start on a loaded 2-core machine (bench/lambda.ts), against a 100 ms goal
 * (issue 6). Building once at deploy time (as `sam build` does with esbuild) leaves each cold start
 * a thread start plus a JavaScript import.
 *
 * The handler's own files are bundled; packages stay external and resolve from the function's
 * `node_modules`, because the output sits in `<codeDir>/node_modules/.cache/trellis/` (the usual
 * place for tools' caches). When that folder cannot be written, or esbuild rejects the code, the
 * runner falls back to tsx in the worker, which then reports the error as Lambda would.
 */
import { createHash } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { LoadPlan } from './function-pool.js';

/** The plan with the built JavaScript module, or `plan` itself when it keeps tsx. */
export async function buildTypeScriptHandler(codeDir: string, plan: LoadPlan): Promise<LoadPlan> {
  if (plan.tsxUrl === undefined) return plan;
  const entry = fileURLToPath(plan.moduleUrl);
  const outDir = join(codeDir, 'node_modules', '.cache', 'trellis');
  const tag = createHash('sha256').update(entry).digest('hex').slice(0, 12);
  const outfile = join(outDir, `${basename(entry).replace(/\.[cm]?ts$/, '')}-${tag}.mjs`);
  try {
    const esbuild = await import('esbuild');
    await mkdir(outDir, { recursive: true });
    await esbuild.build({
      entryPoints: [entry],
      outfile,
      bundle: true,
      packages: 'external',
      platform: 'node',
      format: 'esm',
      target: `node${process.versions.node.split('.')[0]}`,
      sourcemap: 'inline',
      logLevel: 'silent',
      // Bundled CommonJS helpers may call require(); ESM output has none of its own.
      banner: {
        js: "import { createRequire as __trellisCreateRequire } from 'node:module'; const require = __trellisCreateRequire(import.meta.url);",
      },
    });
    // Each worker is a new thread with its own module cache, so a rebuilt file needs no new URL.
    return {
      moduleUrl: pathToFileURL(outfile).href,
      exportName: plan.exportName,
      tsxUrl: undefined,
    };
  } catch {
    return plan;
  }
}
