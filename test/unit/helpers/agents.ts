import * as fs from 'node:fs';
import * as path from 'node:path';
import { agentLaunch, AgentLaunch } from '../../../src/core/agents/hooks';
import { writeHookScript } from '../../../src/core/agents/hooksScript';
import { AgentKind, BUILT_IN_KINDS, BuiltInKindName } from '../../../src/core/agents/kinds';
import { AgentActivity } from '../../../src/core/agents/state';
import { AgentStateEvent, AgentWatcher, ScreenCheckPolicy } from '../../../src/core/agents/stateWatcher';
import { Supervisor } from '../../../src/core/supervision/supervisor';
import { TmuxDriver, TmuxLaunch } from '../../../src/core/supervision/tmuxDriver';
import { UnitSpec } from '../../../src/core/supervision/types';
import { TmuxService } from '../../../src/tmux/service';
import { PrivateTmux } from './tmux';

/** The stand-in agents (test/fixtures/agents), from out/test/unit/helpers. */
export const STANDINS = path.resolve(__dirname, '..', '..', '..', '..', 'test', 'fixtures', 'agents');
export const PAYLOADS = JSON.parse(fs.readFileSync(path.join(STANDINS, 'payloads.json'), 'utf8')) as Record<string, Record<string, unknown>>;

export interface StandInAgent {
  readonly name: string;
  /** A built-in kind run as its stand-in, or a kind of the test's own. */
  readonly kind: BuiltInKindName | AgentKind;
  /** Scenario steps (see standin.js). */
  readonly scenario: readonly string[];
  readonly unit?: Partial<UnitSpec>;
  readonly cwd?: string;
}

/**
 * A private server running stand-in agents under a supervisor, through the tmux driver, each
 * with its hooks injected as for the real agent, and an AgentWatcher recording every state event.
 */
export class AgentHarness {
  readonly server = new PrivateTmux();
  readonly folder: string;
  readonly script: string;
  readonly log: string;
  service!: TmuxService;
  driver!: TmuxDriver;
  supervisor!: Supervisor<AgentActivity>;
  watcher!: AgentWatcher;
  readonly events: AgentStateEvent[] = [];
  readonly launches = new Map<string, AgentLaunch>();
  private readonly kinds = new Map<string, AgentKind>();
  private units: UnitSpec[] = [];

  constructor(private readonly agents: readonly StandInAgent[], private readonly screen: Partial<ScreenCheckPolicy> = {}) {
    this.folder = fs.mkdtempSync(path.join(this.server.folder, 'agents-'));
    this.script = writeHookScript(path.join(this.folder, 'hooks'), 'tmux');
    this.log = path.join(this.folder, 'starts.log');
    fs.writeFileSync(this.log, '');
  }

  /** A built-in kind whose commands run its stand-in with this agent's scenario. */
  standInKind(agent: StandInAgent): AgentKind {
    if (typeof agent.kind !== 'string') return agent.kind;
    const real = BUILT_IN_KINDS[agent.kind];
    const scenario = path.join(this.folder, `${agent.name}.scenario`);
    // `gate <name>` waits until the test calls release(agent, name).
    const steps = agent.scenario.map((step) => step.replace(/^((?:fresh:|resume:)\s*)?gate (\S+)$/, (_all, prefix: string | undefined, gate: string) => `${prefix ?? ''}${this.gate(agent.name, gate)}`));
    fs.writeFileSync(scenario, steps.join('\n') + '\n');
    const run = `env TSM_AGENT_SCENARIO=${scenario} TSM_AGENT_LOG=${this.log} ${process.execPath} ${path.join(STANDINS, 'standin.js')} ${agent.kind}`;
    const resumeFlags = real.resumeCommand!.split(' ').slice(1).join(' ');
    return { ...real, command: run, resumeCommand: `${run} ${resumeFlags}` };
  }

  async start(): Promise<void> {
    this.server.newSession('agents');
    this.service = new TmuxService(this.server.address);
    await this.service.start();
    for (const agent of this.agents) {
      const kind = this.standInKind(agent);
      this.kinds.set(agent.name, kind);
      const launch = agentLaunch(kind, { hookScript: this.script, tmuxPath: 'tmux', stateFolder: path.join(this.folder, agent.name), cwd: agent.cwd ?? this.folder });
      this.launches.set(agent.name, launch);
      this.units.push({ name: agent.name, restart: 'never', ...agent.unit });
    }
    const launchOf = (unit: UnitSpec): TmuxLaunch => {
      const launch = this.launches.get(unit.name)!;
      const agent = this.agents.find((each) => each.name === unit.name)!;
      return { session: 'agents', command: launch.command, ...(launch.resumeCommand ? { resumeCommand: launch.resumeCommand } : {}), cwd: agent.cwd ?? this.folder };
    };
    this.driver = new TmuxDriver((argv) => this.service.run(argv), this.server.address, launchOf, this.service.onDidChangeTree);
    await this.attach();
    await this.supervisor.up();
  }

  /** A supervisor and watcher (again, after reload(): from the saved record). */
  async attach(record?: unknown): Promise<void> {
    this.supervisor = new Supervisor<AgentActivity>({ units: this.units, driver: this.driver });
    if (record) await this.supervisor.restore(record);
    this.watcher = new AgentWatcher({ address: this.server.address, supervisor: this.supervisor, agents: this.units.map((unit) => ({ name: unit.name, kind: this.kinds.get(unit.name)! })), screen: this.screen });
    this.watcher.onDidChangeState((event) => this.events.push(event));
    await this.watcher.start();
  }

  /** A window reload: the supervisor and watcher go, new ones take over from the record. */
  async reload(): Promise<void> {
    const record = JSON.parse(JSON.stringify(this.supervisor.record()));
    this.watcher.dispose();
    this.supervisor.dispose();
    await this.attach(record);
  }

  /** Lets a stand-in past its `wait <file>` step. */
  release(agent: string, gate: string): void {
    fs.writeFileSync(path.join(this.folder, `${agent}.${gate}`), '');
  }

  gate(agent: string, gate: string): string {
    return `wait ${path.join(this.folder, `${agent}.${gate}`)}`;
  }

  pane(agent: string): string {
    return this.supervisor.status(agent).handle!;
  }

  starts(): string[] {
    return fs.readFileSync(this.log, 'utf8').split('\n').filter(Boolean);
  }

  async dispose(): Promise<void> {
    this.watcher?.dispose();
    if (this.supervisor) await Promise.race([this.supervisor.down().catch(() => undefined), new Promise((resolve) => setTimeout(resolve, 3000))]);
    this.supervisor?.dispose();
    this.driver?.dispose();
    await this.service?.dispose();
    this.server.kill();
  }
}
