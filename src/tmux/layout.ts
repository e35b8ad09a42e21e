/**
 * tmux's window layout strings (`window_layout`, `select-layout`): a checksum, then a tree of
 * cells `WxH,X,Y` that are either a pane (`,ID`), side by side (`{…}`) or stacked (`[…]`).
 * Siblings are separated by a one-cell border.
 */

export interface LayoutCell {
  width: number;
  height: number;
  x: number;
  y: number;
  /** A pane's id number (`%7` is 7) for a leaf. */
  paneId?: number;
  /** `row`: children side by side; `column`: stacked. */
  split?: 'row' | 'column';
  children?: LayoutCell[];
}

export class LayoutParseError extends Error {
  constructor(layout: string, reason: string) {
    super(`not a tmux layout (${reason}): ${layout}`);
    this.name = 'LayoutParseError';
  }
}

/** The window size a layout was made for, from its head (`aaaa,120x40,…`, checksum optional). */
export function layoutSize(layout: string): { width: number; height: number } | undefined {
  const match = /^(?:[0-9a-f]{4},)?(\d+)x(\d+),/.exec(layout);
  return match ? { width: Number(match[1]), height: Number(match[2]) } : undefined;
}

export function parseLayout(layout: string): LayoutCell {
  const body = /^[0-9a-f]{4},/.test(layout) ? layout.slice(5) : layout;
  let at = 0;
  const number = (): number => {
    const match = /^\d+/.exec(body.slice(at));
    if (!match) throw new LayoutParseError(layout, `a number expected at ${at + 5}`);
    at += match[0].length;
    return Number(match[0]);
  };
  const expect = (char: string) => {
    if (body[at] !== char) throw new LayoutParseError(layout, `"${char}" expected at ${at + 5}`);
    at++;
  };
  const cell = (): LayoutCell => {
    const width = number();
    expect('x');
    const height = number();
    expect(',');
    const x = number();
    expect(',');
    const y = number();
    const result: LayoutCell = { width, height, x, y };
    const open = body[at];
    if (open === ',') {
      at++;
      result.paneId = number();
    } else if (open === '{' || open === '[') {
      at++;
      result.split = open === '{' ? 'row' : 'column';
      result.children = [cell()];
      while (body[at] === ',') {
        at++;
        result.children.push(cell());
      }
      expect(open === '{' ? '}' : ']');
    } else {
      throw new LayoutParseError(layout, `"," "{" or "[" expected at ${at + 5}`);
    }
    return result;
  };
  const root = cell();
  if (at !== body.length) throw new LayoutParseError(layout, `unexpected text at ${at + 5}`);
  return root;
}

export function formatLayout(root: LayoutCell): string {
  const body = formatCell(root);
  return `${layoutChecksum(body).toString(16).padStart(4, '0')},${body}`;
}

function formatCell(cell: LayoutCell): string {
  const head = `${cell.width}x${cell.height},${cell.x},${cell.y}`;
  if (!cell.children) return `${head},${cell.paneId ?? 0}`;
  const [open, close] = cell.split === 'row' ? ['{', '}'] : ['[', ']'];
  return `${head}${open}${cell.children.map(formatCell).join(',')}${close}`;
}

/** tmux's checksum over the layout text (layout-custom.c): a 16-bit rotate-and-add. */
export function layoutChecksum(body: string): number {
  let sum = 0;
  for (let i = 0; i < body.length; i++) {
    sum = (sum >> 1) + ((sum & 1) << 15);
    sum = (sum + body.charCodeAt(i)) & 0xffff;
  }
  return sum;
}

export function layoutPaneCount(root: LayoutCell): number {
  return root.children ? root.children.reduce((n, child) => n + layoutPaneCount(child), 0) : 1;
}

/**
 * The same layout for a window of another size, every split keeping its proportions. tmux itself
 * gives or takes the difference from the last pane when a client of another size attaches, so a
 * 30-column side pane of a 160-column window is left 1 column wide at 80.
 */
export function scaleLayout(layout: string, width: number, height: number): string {
  const root = parseLayout(layout);
  const minimum = minimumSize(root);
  return formatLayout(place(root, Math.max(width, minimum.width), Math.max(height, minimum.height), 0, 0));
}

function place(cell: LayoutCell, width: number, height: number, x: number, y: number): LayoutCell {
  if (!cell.children) return { width, height, x, y, paneId: cell.paneId };
  const row = cell.split === 'row';
  const sizes = share(
    cell.children.map((child) => (row ? child.width : child.height)),
    (row ? width : height) - (cell.children.length - 1),
    cell.children.map((child) => (row ? minimumSize(child).width : minimumSize(child).height)),
  );
  let offset = row ? x : y;
  const children = cell.children.map((child, i) => {
    const placed = row ? place(child, sizes[i], height, offset, y) : place(child, width, sizes[i], x, offset);
    offset += sizes[i] + 1;
    return placed;
  });
  return { width, height, x, y, split: cell.split, children };
}

/** Splits `total` in proportion to `weights` (largest remainders first), each at least its minimum. */
function share(weights: readonly number[], total: number, minimums: readonly number[]): number[] {
  const sum = weights.reduce((a, b) => a + b, 0) || 1;
  const exact = weights.map((w) => (w / sum) * total);
  const sizes = exact.map((value, i) => Math.max(minimums[i], Math.floor(value)));
  let left = total - sizes.reduce((a, b) => a + b, 0);
  const byRemainder = exact.map((value, i) => ({ i, rest: value - Math.floor(value) })).sort((a, b) => b.rest - a.rest);
  for (let k = 0; left > 0; k = (k + 1) % sizes.length, left--) sizes[byRemainder[k].i]++;
  // Minimums may overshoot: take it back from the largest cells.
  while (left < 0) {
    const largest = sizes.reduce((best, size, i) => (size - minimums[i] > sizes[best] - minimums[best] ? i : best), 0);
    if (sizes[largest] <= minimums[largest]) break;
    sizes[largest]--;
    left++;
  }
  return sizes;
}

/** The smallest size a cell can take: one column and row per pane, plus the borders. */
function minimumSize(cell: LayoutCell): { width: number; height: number } {
  if (!cell.children) return { width: 1, height: 1 };
  const sizes = cell.children.map(minimumSize);
  const borders = cell.children.length - 1;
  return cell.split === 'row'
    ? { width: sizes.reduce((n, s) => n + s.width, 0) + borders, height: Math.max(...sizes.map((s) => s.height)) }
    : { width: Math.max(...sizes.map((s) => s.width)), height: sizes.reduce((n, s) => n + s.height, 0) + borders };
}

/**
 * A layout without its checksum and pane ids: what the user sees of it. Pane ids are new on every
 * server, so two layouts of the same shape from different servers differ only in those.
 */
export function layoutGeometry(layout: string): string {
  return layout.replace(/^[0-9a-f]{4},/, '').replace(/(\d+x\d+,\d+,\d+),\d+/g, '$1');
}
