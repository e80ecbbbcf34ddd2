/**
 * Plain-text tables for the operator's listings (`blocked`, `suspects`): a header, columns padded
 * to their widest cell, numbers on the right. A cell never breaks its row: a stored value with a
 * control character in it (a legacy table may hold one) is shown escaped.
 */

export interface Column {
  header: string;
  /** Numbers read best aligned on the right. */
  align?: 'left' | 'right';
}

// eslint-disable-next-line no-control-regex -- escaping control characters is the point
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f-\u009f]/g;

export function printable(value: string): string {
  return value.replace(CONTROL_CHARACTERS, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** The table as lines, with no trailing blanks; `rows` hold one cell per column. */
export function formatTable(columns: readonly Column[], rows: readonly (readonly string[])[]): string[] {
  const cells = [columns.map((column) => column.header), ...rows.map((row) => row.map(printable))];
  const widths = columns.map((_, index) => Math.max(...cells.map((row) => (row[index] ?? '').length)));
  return cells.map((row) =>
    columns
      .map((column, index) => {
        const cell = row[index] ?? '';
        const width = widths[index] ?? 0;
        return column.align === 'right' ? cell.padStart(width) : cell.padEnd(width);
      })
      .join('  ')
      .trimEnd(),
  );
}

export function count(value: number): string {
  return value.toLocaleString('en-US');
}
