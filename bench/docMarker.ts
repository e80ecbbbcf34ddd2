/**
 * Bench results in the docs are written by the bench: the lines after a marker such as
 * `<!-- bench: check -->`, up to the first blank line, are replaced by the run's own.
 */
import { readFile, writeFile } from 'node:fs/promises';

export async function writeAfterMarker(doc: URL, marker: string, lines: readonly string[]): Promise<void> {
  const text = (await readFile(doc, 'utf8')).split('\n');
  const at = text.indexOf(marker);
  if (at < 0) throw new Error(`${doc.pathname} has no ${marker} marker`);
  let end = at + 1;
  while (end < text.length && text[end] !== '') end++;
  text.splice(at + 1, end - at - 1, ...lines);
  await writeFile(doc, text.join('\n'));
  process.stdout.write(`written to ${doc.pathname}\n`);
}
