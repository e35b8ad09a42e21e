import { Runner } from '../../tmux/commands';
import { layoutGeometry as geometry, layoutPaneCount, layoutSize, parseLayout, scaleLayout } from '../../tmux/layout';
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
        const size = layoutSize(window.layout);
        const expected = layoutSize(kept.expected);
        const resized = size && !(expected && size.width === expected.width && size.height === expected.height);
        if (!size || !resized || window.panes.length !== layoutPaneCount(parseLayout(kept.saved))) {
          this.kept.delete(window.id); // Changed by hand, not by a resize.
          continue;
        }
        const scaled = scaleLayout(kept.saved, size.width, size.height);
        kept.expected = geometry(scaled);
        const apply = () => this.source.run(['select-layout', '-t', window.id, scaled]);
        this.applying = this.applying.then(apply).then(
          () => undefined,
          () => void this.kept.delete(window.id),
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
