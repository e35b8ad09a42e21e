import * as fs from 'node:fs';
import * as path from 'node:path';
import { Summary } from './stats';

/** One line of the results table: a timed distribution, or a single value. */
export interface Row {
  readonly section: string;
  readonly label: string;
  readonly unit: string;
  readonly summary?: Summary;
  readonly value?: number;
  /** Free text shown instead of a number (a skip, an error). */
  readonly text?: string;
  /** What we aim for, in words, and whether this run met it. */
  readonly target?: string;
  readonly pass?: boolean;
}

export class Report {
  readonly rows: Row[] = [];
  readonly notes: string[] = [];
  readonly meta: Record<string, unknown> = {};

  add(row: Row): Row {
    this.rows.push(row);
    return row;
  }

  note(text: string): void {
    this.notes.push(text);
  }

  /** The table as text: one block per section, numbers right-aligned. */
  render(): string {
    const header = ['metric', 'median', 'p90', 'n', 'unit', 'target', 'result'];
    const body: string[][] = [];
    let section = '';
    const sectionRows: number[] = [];
    // Rows of a section stay together even when a later phase adds to an earlier section.
    const order = [...new Set(this.rows.map((row) => row.section))];
    const rows = [...this.rows].sort((a, b) => order.indexOf(a.section) - order.indexOf(b.section));
    for (const row of rows) {
      if (row.section !== section) {
        section = row.section;
        sectionRows.push(body.length);
        body.push([`[${section}]`, '', '', '', '', '', '']);
      }
      const median = row.summary ? fmt(row.summary.median) : row.value !== undefined ? fmt(row.value) : row.text ?? '';
      body.push([
        '  ' + row.label,
        median,
        row.summary ? fmt(row.summary.p90) : '',
        row.summary ? String(row.summary.n) : '',
        row.unit,
        row.target ?? '',
        row.pass === undefined ? '' : row.pass ? 'PASS' : 'MISS',
      ]);
    }
    const widths = header.map((h, i) => Math.max(h.length, ...body.filter((_, r) => !sectionRows.includes(r)).map((cells) => cells[i].length)));
    const line = (cells: string[]) =>
      cells.map((cell, i) => (i === 1 || i === 2 || i === 3 ? cell.padStart(widths[i]) : cell.padEnd(widths[i]))).join('  ').trimEnd();
    const out = [line(header), widths.map((w) => '-'.repeat(w)).join('  ')];
    body.forEach((cells, r) => out.push(sectionRows.includes(r) ? cells[0] : line(cells)));
    return out.join('\n');
  }

  write(file: string): void {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const json = {
      ...this.meta,
      rows: this.rows.map((row) => ({ ...row, summary: row.summary && roundSummary(row.summary) })),
      notes: this.notes,
    };
    fs.writeFileSync(file, JSON.stringify(json, null, 2) + '\n');
  }
}

/** Three significant decimals for small numbers, fewer for large ones. */
export function fmt(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  const abs = Math.abs(value);
  if (abs >= 100) return value.toFixed(0);
  if (abs >= 10) return value.toFixed(1);
  if (abs >= 1) return value.toFixed(2);
  return value.toFixed(3);
}

function roundSummary(summary: Summary): Summary {
  const r = (v: number) => Math.round(v * 1000) / 1000;
  return { n: summary.n, median: r(summary.median), p90: r(summary.p90), p95: r(summary.p95), min: r(summary.min), max: r(summary.max), mean: r(summary.mean) };
}
