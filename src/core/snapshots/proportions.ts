import { Runner } from '../../tmux/commands';
import { layoutGeometry as geometry, layoutPaneCount, parseLayout, scaleLayout } from '../../tmux/layout';
import { Tree, WindowId } from '../../tmux/model';

/** What the keeper reads from the tmux service (TmuxService satisfies it). */
export interface LayoutSource {
  readonly tree: Tree;
  onDidChangeTree(listener: (tree: Tree) => void): { dispose(): void };
  run: Runner;
}

interface Kept {
  readonly saved: string;
  /** Geometry tmux should report while the layout is still ours. */
  expected: string;
}

/**
 * Keeps restored windows in their saved proportions when a client of another size attaches. tmux
 * resizes a window by growing or shrinking its last pane only; this re-applies the saved layout
 * scaled to the new size instead. It lets go of a window as soon as its layout changes any other
 * way (the user split or resized a pane): from then on the layout is the user's.
 */
export class LayoutKeeper {
  private readonly kept = new Map<WindowId, Kept>();
  private readonly subscription: { dispose(): void };
  private applying = Promise.resolve();

  constructor(private readonly source: LayoutSource) {
    this.subscription = source.onDidChangeTree((tree) => this.check(tree));
  }

  keep(windows: readonly { readonly id: WindowId; readonly layout: string }[]): void {
    for (const { id, layout } of windows) this.kept.set(id, { saved: layout, expected: geometry(layout) });
  }

  /** Windows still followed, for tests and the log. */
  get size(): number {
    return this.kept.size;
  }

  /** Resolves once every re-layout started so far has been sent. */
  settled(): Promise<void> {
    return this.applying;
  }

  private check(tree: Tree): void {
    const present = new Set<string>();
    for (const session of tree.sessions) {
      for (const window of session.windows) {
        present.add(window.id);
        const kept = this.kept.get(window.id);
        if (!kept || window.zoomed) continue;
        const now = geometry(window.layout);
        if (now === kept.expected) continue;
        const size = sizeOf(window.layout);
        if (!size || size === sizeOf(kept.expected) || window.panes.length !== layoutPaneCount(parseLayout(kept.saved))) {
          this.kept.delete(window.id); // Changed by hand, not by a resize.
          continue;
        }
        const [width, height] = size.split('x').map(Number);
        const scaled = scaleLayout(kept.saved, width, height);
        kept.expected = geometry(scaled);
        this.applying = this.applying.then(() => this.source.run(['select-layout', '-t', window.id, scaled]).then(
            () => undefined,
            () => void this.kept.delete(window.id),
          ),
        );
      }
    }
    for (const id of this.kept.keys()) if (!present.has(id)) this.kept.delete(id);
  }

  dispose(): void {
    this.subscription.dispose();
    this.kept.clear();
  }
}

function sizeOf(layoutOrGeometry: string): string | undefined {
  return /^(?:[0-9a-f]{4},)?(\d+x\d+),/.exec(layoutOrGeometry)?.[1];
}
