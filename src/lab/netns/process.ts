// A long-running child in its own process group, so that stopping it also
// stops whatever it started (ip netns exec → node → …).
import { spawn, type ChildProcess } from "node:child_process";

export interface SpawnOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Called with each complete line of stdout / stderr. */
  onLine?: (line: string, stream: "stdout" | "stderr") => void;
}

export interface ExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** Lines kept for error messages and post-mortems. */
const KEEP_LINES = 200;

export class LabProcess {
  readonly child: ChildProcess;
  readonly exited: Promise<ExitStatus>;
  private readonly lines: string[] = [];
  private status: ExitStatus | undefined;

  constructor(readonly argv: readonly string[], opts: SpawnOptions = {}) {
    const [file, ...args] = argv;
    if (file === undefined) throw new Error("LabProcess: empty argv");
    this.child = spawn(file, args, { detached: true, stdio: ["ignore", "pipe", "pipe"], env: opts.env ?? process.env, cwd: opts.cwd ?? process.cwd() });
    for (const stream of ["stdout", "stderr"] as const) {
      let buf = "";
      this.child[stream]?.setEncoding("utf8");
      this.child[stream]?.on("data", (chunk: string) => {
        buf += chunk;
        let i: number;
        while ((i = buf.indexOf("\n")) >= 0) {
          const line = buf.slice(0, i);
          buf = buf.slice(i + 1);
          this.lines.push(line);
          if (this.lines.length > KEEP_LINES) this.lines.shift();
          opts.onLine?.(line, stream);
        }
      });
    }
    this.exited = new Promise((resolve) => {
      this.child.on("error", (e) => {
        this.lines.push(`spawn error: ${e.message}`);
        this.status = { code: null, signal: null };
        resolve(this.status);
      });
      this.child.on("close", (code, signal) => {
        this.status = { code, signal };
        resolve(this.status);
      });
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get running(): boolean {
    return this.status === undefined;
  }

  /** The last lines the process printed (stdout and stderr interleaved). */
  output(n = 40): string {
    return this.lines.slice(-n).join("\n");
  }

  /** Sends a signal to the whole process group. */
  signal(sig: NodeJS.Signals): void {
    if (!this.running || this.child.pid === undefined) return;
    try {
      process.kill(-this.child.pid, sig);
    } catch {
      /* group already gone */
    }
  }

  /** SIGTERM, then SIGKILL after `graceMs`; resolves when it has exited. */
  async stop(graceMs = 2000): Promise<ExitStatus> {
    if (!this.running) return this.status as ExitStatus;
    this.signal("SIGTERM");
    const timer = setTimeout(() => this.signal("SIGKILL"), graceMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }

  killSync(): void {
    this.signal("SIGKILL");
  }
}
