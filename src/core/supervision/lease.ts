import { quoteArgument } from '../../tmux/quote';

/**
 * Which process supervises a session's units. Two VS Code windows on one tmux server would both
 * see a service exit and both restart it; only the holder of the session's lease acts, the others
 * show what the holder does. The lease is a session user option holding "<pid>-<ms>-<random>" of
 * its holder (an extension host or a `tsm up --foreground`): it is free when unset or when that
 * process is gone, which is how a window that reloads or closes hands it on. Taking it is one
 * `if-shell -F`, which tmux runs without letting another client in: an atomic compare-and-set.
 */
export const LEASE_OPTION = '@tsm-supervisor';

/** Where a lease lives: a session's option (a profile's services), or a global one (a server's agents). */
export interface LeaseScope {
  readonly option: string;
  /** The session id (`$3`); none: a global option of the server. */
  readonly session?: string;
}

/** The lease of a profile session's services. */
export function sessionLease(sessionId: string): LeaseScope {
  return { option: LEASE_OPTION, session: sessionId };
}

/** The lease of every agent of a server: one window restarts them and enforces their limits. */
export const AGENTS_LEASE: LeaseScope = { option: '@tsm-agents-supervisor' };

export type Runner = (argv: readonly string[]) => Promise<string[]>;

/** A holder token for this process: its pid, when, and a random part (two holders in one process differ). */
export function newLeaseToken(now = Date.now()): string {
  return `${process.pid}-${now}-${Math.random().toString(36).slice(2, 10)}`;
}

/** Whether the process named by a holder token is gone (a token we cannot read is as good as gone). */
export function holderGone(token: string): boolean {
  const match = /^(\d+)-\d+-/.exec(token);
  if (!match) return true;
  try {
    process.kill(Number(match[1]), 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

export interface LeaseAnswer {
  readonly held: boolean;
  /** The holder now: our token when held, another's when not, '' when nobody (the session is gone). */
  readonly holder: string;
}

/**
 * Takes the lease for `token` when it is free or its holder is gone; keeps it when `token`
 * already holds it.
 */
export async function takeLease(run: Runner, scope: LeaseScope, token: string): Promise<LeaseAnswer> {
  let expected = '';
  for (let attempt = 0; attempt < 3; attempt++) {
    const [holder = ''] = await run(compareAndSet(scope, expected, token));
    if (holder === token) return { held: true, holder };
    if (holder !== '' && holderGone(holder) && holder !== expected) {
      expected = holder;
      continue;
    }
    return { held: false, holder };
  }
  return { held: false, holder: expected };
}

/** Frees the lease if `token` still holds it (a successor's lease is never freed). */
export async function releaseLease(run: Runner, scope: LeaseScope, token: string): Promise<void> {
  const { ifShell, where } = targets(scope);
  await run([...ifShell, '-F', `#{==:#{${scope.option}},${token}}`, `set-option -u ${where} ${scope.option}`]);
}

function compareAndSet(scope: LeaseScope, expected: string, token: string): string[] {
  const { ifShell, where, display } = targets(scope);
  return [
    ...ifShell, '-F', `#{==:#{${scope.option}},${expected}}`,
    `set-option ${where} ${scope.option} ${token} ; display-message -p ${display} ${token}`,
    `display-message -p ${display} "#{${scope.option}}"`,
  ];
}

function targets(scope: LeaseScope): { ifShell: string[]; where: string; display: string } {
  if (scope.session === undefined) return { ifShell: ['if-shell'], where: '-g', display: '' };
  const target = quoteArgument(scope.session);
  return { ifShell: ['if-shell', '-t', scope.session], where: `-t ${target}`, display: `-t ${target}` };
}
