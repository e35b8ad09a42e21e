import * as fs from 'node:fs';
import * as path from 'node:path';
import { execa } from 'execa';

/**
 * The git side of agents: a worktree and a branch of its own per agent, made one at a time per
 * repository, and removed only when nothing in it would be lost.
 *
 * Where worktrees go: `<parent>/<repo>.worktrees/<session>`, beside the repository rather than
 * inside it. Inside, the main checkout's `git status`, file watchers, search and test runners would
 * all see every agent's copy; beside it, on the same disk, `git worktree add` stays a cheap local
 * checkout, the folder name says which repository it belongs to, and Clean Up knows that anything
 * under that one folder was made by us.
 */

/** Our branches are `agent/<session>`: Clean Up only ever proposes branches under this prefix. */
export const BRANCH_PREFIX = 'agent/';

export class GitError extends Error {
  constructor(
    message: string,
    readonly stderr = '',
  ) {
    super(message);
    this.name = 'GitError';
  }
}

async function git(cwd: string, args: readonly string[], options: { readonly allowFailure?: boolean } = {}): Promise<{ stdout: string; stderr: string; ok: boolean }> {
  let result;
  try {
    result = await execa('git', ['-C', cwd, ...args], { reject: false, stripFinalNewline: false, env: { GIT_TERMINAL_PROMPT: '0', LC_ALL: 'C' } });
  } catch (error) {
    throw new GitError(`git could not be run (${(error as Error).message}); install git, or spawn agents without worktrees.`);
  }
  if ((result as { code?: string }).code === 'ENOENT') throw new GitError('git is not installed (or not on PATH); install it, or spawn agents without worktrees.');
  const out = { stdout: String(result.stdout ?? ''), stderr: String(result.stderr ?? ''), ok: !result.failed };
  if (!out.ok && !options.allowFailure) throw new GitError(`git ${args.join(' ')} failed in ${cwd}: ${out.stderr.trim() || `exit ${result.exitCode}`}`, out.stderr);
  return out;
}

/** The repository's top folder, or undefined when `folder` is not in a git repository. */
export async function repositoryTop(folder: string): Promise<string | undefined> {
  const result = await git(folder, ['rev-parse', '--show-toplevel'], { allowFailure: true });
  return result.ok ? result.stdout.trim() : undefined;
}

/** The branch checked out in `repo` (the default base), or undefined on a detached HEAD. */
export async function currentBranch(repo: string): Promise<string | undefined> {
  const result = await git(repo, ['symbolic-ref', '--quiet', '--short', 'HEAD'], { allowFailure: true });
  return result.ok ? result.stdout.trim() : undefined;
}

/** The folder our worktrees of `repo` live in. */
export function worktreeRoot(repo: string): string {
  return path.join(path.dirname(repo), `${path.basename(repo)}.worktrees`);
}

/** A session name made fit for a folder and a branch name: what git refuses in a ref, and glob characters, become `-`. */
export function safeRefPart(session: string): string {
  const cleaned = session
    .replace(/[\s~^:?*[\]\\@{}'"`$;&|<>()!#,]+/g, '-')
    .replace(/\.{2,}/g, '-')
    .replace(/\/+/g, '-')
    .replace(/^[.-]+|[.-]+$/g, '')
    .replace(/\.lock$/i, '-lock');
  return cleaned || 'agent';
}

export function worktreeFolder(repo: string, session: string): string {
  return path.join(worktreeRoot(repo), safeRefPart(session));
}

export function branchFor(session: string): string {
  return `${BRANCH_PREFIX}${safeRefPart(session)}`;
}

/**
 * git takes a lock on the repository's worktree list while it adds one; a second `worktree add`
 * at the same moment fails on that lock. So adds (and removes) of one repository wait their turn
 * here; different repositories go side by side.
 */
export class RepositoryQueue {
  private readonly tails = new Map<string, Promise<unknown>>();

  run<T>(repo: string, work: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(repo) ?? Promise.resolve();
    const next = previous.catch(() => undefined).then(work);
    const tail = next.catch(() => undefined);
    this.tails.set(repo, tail);
    void tail.then(() => {
      if (this.tails.get(repo) === tail) this.tails.delete(repo);
    });
    return next;
  }
}

/** Whether `ref` names a commit in `repo`. */
export async function refExists(repo: string, ref: string): Promise<boolean> {
  return (await git(repo, ['rev-parse', '--verify', '--quiet', `${ref}^{commit}`], { allowFailure: true })).ok;
}

export async function branchExists(repo: string, branch: string): Promise<boolean> {
  return (await git(repo, ['show-ref', '--verify', '--quiet', `refs/heads/${branch}`], { allowFailure: true })).ok;
}

/** `git worktree add -b <branch> <folder> <base>`; refuses a branch or folder that exists (nothing of the user's is reused or overwritten). */
export async function addWorktree(repo: string, folder: string, branch: string, base: string): Promise<void> {
  if (await branchExists(repo, branch)) throw new GitError(`Branch "${branch}" already exists in ${repo}; finish the agent that has it, delete the branch, or pick another task name.`);
  if (fs.existsSync(folder)) throw new GitError(`${folder} already exists; remove it (or run Clean Up Agents), or pick another task name.`);
  fs.mkdirSync(path.dirname(folder), { recursive: true });
  await git(repo, ['worktree', 'add', '--quiet', '-b', branch, folder, base]);
}

/**
 * `git status --porcelain` of the worktree: one line per change, untracked files included (they are
 * work too). Undefined when the folder is gone or is no longer a worktree.
 */
export async function worktreeChanges(folder: string): Promise<string[] | undefined> {
  if (!fs.existsSync(folder)) return undefined;
  const result = await git(folder, ['status', '--porcelain', '--untracked-files=all'], { allowFailure: true });
  if (!result.ok) return undefined;
  return result.stdout.split('\n').filter((line) => line !== '');
}

/**
 * Removes a clean worktree: `git worktree remove` without --force, so git itself refuses one that
 * changed after we looked. Returns the changes that kept it, or [] once removed.
 */
export async function removeCleanWorktree(repo: string, folder: string): Promise<string[]> {
  const changes = await worktreeChanges(folder);
  if (changes === undefined) {
    // Gone already: only git's note of it is left.
    await git(repo, ['worktree', 'prune'], { allowFailure: true });
    return [];
  }
  if (changes.length > 0) return changes;
  const result = await git(repo, ['worktree', 'remove', folder], { allowFailure: true });
  if (!result.ok) {
    const again = await worktreeChanges(folder);
    if (again && again.length > 0) return again;
    throw new GitError(`git worktree remove ${folder} failed: ${result.stderr.trim()}`, result.stderr);
  }
  removeEmptyRoot(folder);
  return [];
}

function removeEmptyRoot(folder: string): void {
  try {
    fs.rmdirSync(path.dirname(folder));
  } catch {
    // Other agents' worktrees are still there, or it was never ours to remove.
  }
}

/**
 * Deletes the branch only when no commit would be lost: every commit on it is also on another
 * branch (merged, or it never got a commit of its own). Returns whether it was deleted.
 */
export async function deleteBranchIfSafe(repo: string, branch: string): Promise<boolean> {
  if (!(await branchExists(repo, branch))) return false;
  // A branch checked out in a worktree that is still there is not ours to delete.
  const own = await git(repo, ['rev-list', '--count', `refs/heads/${branch}`, '--not', `--exclude=${branch}`, '--branches'], { allowFailure: true });
  if (!own.ok || Number(own.stdout.trim()) !== 0) return false;
  const result = await git(repo, ['branch', '-D', '--quiet', branch], { allowFailure: true });
  return result.ok;
}

/** Commits everything in the worktree (untracked files too) to its branch; the new commit's id, or undefined when there was nothing to commit. */
export async function commitAll(folder: string, message: string): Promise<string | undefined> {
  await git(folder, ['add', '-A']);
  const staged = await git(folder, ['diff', '--cached', '--quiet'], { allowFailure: true });
  if (staged.ok) return undefined;
  const result = await git(folder, ['commit', '--quiet', '--no-verify', '-m', message], { allowFailure: true });
  if (!result.ok) {
    const identity = /tell me who you are|user\.email|user\.name/i.test(result.stderr);
    throw new GitError(
      identity
        ? `Cannot commit in ${folder}: git does not know who you are. Set user.name and user.email (git config --global user.name "…"), then finish again; the worktree was kept.`
        : `Cannot commit in ${folder}: ${result.stderr.trim()}; the worktree was kept.`,
      result.stderr,
    );
  }
  return (await git(folder, ['rev-parse', 'HEAD'])).stdout.trim();
}

export interface ListedWorktree {
  readonly folder: string;
  readonly branch?: string;
  readonly prunable: boolean;
}

/** `git worktree list --porcelain`, the main checkout left out. */
export async function listWorktrees(repo: string): Promise<ListedWorktree[]> {
  const result = await git(repo, ['worktree', 'list', '--porcelain'], { allowFailure: true });
  if (!result.ok) return [];
  const found: ListedWorktree[] = [];
  for (const [index, block] of result.stdout.split('\n\n').entries()) {
    if (index === 0) continue;
    const lines = block.split('\n');
    const folder = lines.find((line) => line.startsWith('worktree '))?.slice('worktree '.length);
    if (!folder) continue;
    const branch = lines.find((line) => line.startsWith('branch refs/heads/'))?.slice('branch refs/heads/'.length);
    found.push({ folder, ...(branch ? { branch } : {}), prunable: lines.some((line) => line.startsWith('prunable')) });
  }
  return found;
}

/** Whether `folder` is inside `root` (both as given; no symlinks followed). */
export function isInside(folder: string, root: string): boolean {
  const relative = path.relative(root, folder);
  return relative !== '' && !relative.startsWith('..') && !path.isAbsolute(relative);
}
