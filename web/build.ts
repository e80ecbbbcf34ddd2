/**
 * Bundles the explorer page with esbuild: web/src/main.ts and its imports (cytoscape included)
 * into one minified app-HASH.js, web/styles.css into app-HASH.css, and index.html pointing at
 * both, each also brotli- and gzip-compressed beside it. Hashed names let the server cache them for
 * good, and the compressed copies spare it compressing per request (src/http/routes/explorer.ts).
 *
 * `npm run build` runs it as a script into dist/public; the browser tests call `buildExplorer`.
 */
import { copyFile, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { brotliCompress, constants, gzip } from 'node:zlib';
import { build } from 'esbuild';

const WEB_DIR = dirname(fileURLToPath(import.meta.url));

export interface ExplorerBundle {
  /** The files a browser loads, with their sizes in bytes as written and as brotli sends them. */
  files: { name: string; bytes: number; brotliBytes: number }[];
}

const compressWithBrotli = promisify(brotliCompress);
const compressWithGzip = promisify(gzip);

export async function buildExplorer(outDir: string): Promise<ExplorerBundle> {
  await rm(outDir, { recursive: true, force: true });
  await mkdir(outDir, { recursive: true });
  const result = await build({
    entryPoints: { app: join(WEB_DIR, 'src/main.ts'), 'app-style': join(WEB_DIR, 'styles.css') },
    entryNames: 'app-[hash]',
    outdir: outDir,
    bundle: true,
    minify: true,
    format: 'esm',
    target: ['es2022'],
    metafile: true,
    logLevel: 'warning',
  });
  const outputs = Object.keys(result.metafile.outputs).map((path) => basename(path));
  const script = single(outputs, '.js');
  const stylesheet = single(outputs, '.css');

  let html = (await readFile(join(WEB_DIR, 'index.html'), 'utf8')).replace(/<!--[^]*?-->\s*/g, '');
  html = replaceOnce(html, 'src="app.js"', `src="${script}"`);
  html = replaceOnce(html, 'href="app.css"', `href="${stylesheet}"`);
  await writeFile(join(outDir, 'index.html'), html);
  await copyFile(join(WEB_DIR, 'favicon.svg'), join(outDir, 'favicon.svg'));

  const files = await Promise.all(['index.html', 'favicon.svg', script, stylesheet].map((name) => writeCompressed(join(outDir, name))));
  return { files };
}

/** Writes `path.br` and `path.gz` beside `path`; returns the sizes. */
async function writeCompressed(path: string): Promise<ExplorerBundle['files'][number]> {
  const content = await readFile(path);
  const brotli = await compressWithBrotli(content, { params: { [constants.BROTLI_PARAM_QUALITY]: constants.BROTLI_MAX_QUALITY } });
  await writeFile(`${path}.br`, brotli);
  await writeFile(`${path}.gz`, await compressWithGzip(content, { level: 9 }));
  return { name: basename(path), bytes: content.length, brotliBytes: brotli.length };
}

function single(outputs: string[], extension: string): string {
  const matches = outputs.filter((name) => name.endsWith(extension));
  if (matches.length !== 1) throw new Error(`expected one ${extension} output, got ${matches.join(', ') || 'none'}`);
  return matches[0] as string;
}

/** index.html must hold `from` exactly once: a renamed or doubled tag fails the build, not the page. */
function replaceOnce(html: string, from: string, to: string): string {
  const parts = html.split(from);
  if (parts.length !== 2) throw new Error(`web/index.html must contain ${from} exactly once`);
  return parts.join(to);
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const outDir = resolve(process.argv[2] ?? join(WEB_DIR, '../dist/public'));
  const { files } = await buildExplorer(outDir);
  const kib = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`;
  for (const { name, bytes, brotliBytes } of files)
    process.stdout.write(`${join(outDir, name)}  ${kib(bytes)} (${kib(brotliBytes)} brotli)\n`);
}
