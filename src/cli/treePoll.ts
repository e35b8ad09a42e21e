import { Disposable, Emitter } from '../tmux/emitter';
import { NoServerError } from '../tmux/errors';
import { EMPTY_TREE, Tree } from '../tmux/model';
import { ServerAddress } from '../tmux/server';
import { readTree } from './context';

/**
 * The live tree for a command that supervises services (`up`): read with one short tmux process
 * every `intervalMs` while the command runs. The tool starts no control-mode client and installs no
 * hooks (README, How it works), so reading again is how it sees a service's pane die; it stops
 * reading when disposed, and nothing is left on the server.
 */
export class PolledTree implements Disposable {
  private current: Tree = EMPTY_TREE;
  private readonly emitter = new Emitter<Tree>();
  private timer: NodeJS.Timeout | undefined;
  private disposed = false;

  readonly onTree = this.emitter.event;

  constructor(
    private readonly address: ServerAddress,
    private readonly intervalMs: number,
  ) {}

  get tree(): Tree {
    return this.current;
  }

  /** Reads the tree now; the regular reading starts after the first. */
  async start(): Promise<void> {
    await this.read();
    this.schedule();
  }

  /** One reading now (after a change the caller made itself). */
  async read(): Promise<Tree> {
    try {
      this.current = await readTree(this.address);
    } catch (error) {
      // The server went away (the session was the last one): an empty tree says so.
      if (!(error instanceof NoServerError)) throw error;
      this.current = { ...this.current, sessions: [] };
    }
    if (!this.disposed) this.emitter.fire(this.current);
    return this.current;
  }

  dispose(): void {
    this.disposed = true;
    if (this.timer) clearTimeout(this.timer);
    this.emitter.dispose();
  }

  private schedule(): void {
    if (this.disposed) return;
    this.timer = setTimeout(() => {
      // One reading that fails (tmux busy past its timeout) is simply taken again next time.
      void this.read()
        .catch(() => undefined)
        .finally(() => this.schedule());
    }, this.intervalMs);
  }
}
