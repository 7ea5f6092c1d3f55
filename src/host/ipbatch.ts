// One long-lived `ip -force -batch -`: lifetime refreshes (rule 8 of the
// election) go down its stdin five times a second without a fork each.
//
// `ip -batch` buffers stdout when it is a pipe and prints nothing for a
// command that succeeds, but it writes errors to (unbuffered) stderr and,
// with -force, goes on after them, ending each failure with
// `Command failed -:LINE`. So every command is followed by a sync line that
// always fails (`address show dev k3vip-sync`): its `Command failed` line
// proves the command before it was applied, and a `Command failed` naming
// the command's own line carries the command's error.
//
// A command not answered within `timeoutMs` gets the child killed, and is
// rejected only once the child has exited: a settled exec() is never applied
// later (the election removes the VIP only after the refresh settled, since
// `ip addr change` re-creates a missing address).
import { spawn, type ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";

/** Sends one `ip` batch line; resolves once applied, rejects with ip's error. */
export interface IpLineChannel {
  exec(line: string): Promise<void>;
  close(): Promise<void>;
}

export interface IpBatchOptions {
  /** The command line (default `ip -force -batch -`). */
  argv?: readonly string[];
  /** Milliseconds before an unanswered command kills the child. Default 2000. */
  timeoutMs?: number;
}

const SYNC = "address show dev k3vip-sync";

interface Pending {
  line: number;
  resolve: () => void;
  reject: (e: Error) => void;
  error?: string;
  timer: NodeJS.Timeout;
}

export class IpBatchError extends Error {
  override readonly name = "IpBatchError";
}

/** One `ip -batch` child and the commands sent to it. */
class Session {
  readonly child: ChildProcess;
  readonly exited: Promise<void>;
  private lines = 0;
  private readonly pending = new Map<number, Pending>();
  /** stderr lines since the last `Command failed`: the next failure's message. */
  private message: string[] = [];
  private tail: string[] = [];
  dead = false;

  constructor(
    private readonly argv: readonly string[],
    private readonly timeoutMs: number,
  ) {
    const [file, ...args] = argv;
    const child = spawn(file ?? "ip", args, { stdio: ["pipe", "ignore", "pipe"] });
    this.child = child;
    child.stdin?.on("error", () => undefined); // EPIPE after the child died: reported by "exit"
    if (child.stderr) createInterface({ input: child.stderr }).on("line", (l) => this.onStderr(l));
    this.exited = new Promise<void>((resolve) => {
      let once = false;
      const done = (why: string) => {
        if (once) return;
        once = true;
        this.dead = true;
        this.failAll(`${why}${this.tail.length ? `: ${this.tail.join(" | ")}` : ""}`);
        resolve();
      };
      child.on("error", (e) => done(`could not run ${argv.join(" ")} (${e.message})`));
      child.on("exit", (code, signal) => done(`${argv.join(" ")} exited (${signal ?? `code ${code}`})`));
    });
  }

  exec(command: string): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const line = ++this.lines;
      this.lines++; // the sync line
      const timer = setTimeout(() => this.abort(`ip -batch did not answer within ${this.timeoutMs} ms`), this.timeoutMs);
      this.pending.set(line, { line, resolve, reject, timer });
      this.child.stdin?.write(`${command}\n${SYNC}\n`);
    });
  }

  private onStderr(raw: string): void {
    const l = raw.trim();
    this.tail = [...this.tail.slice(-4), l];
    const m = /^Command failed -:(\d+)$/.exec(l);
    if (!m) {
      this.message.push(l);
      return;
    }
    const n = Number(m[1]);
    const cmd = this.pending.get(n);
    if (cmd) {
      cmd.error = this.message.join(" | ") || "failed";
    } else {
      // A sync line: the command just before it has been applied (or failed).
      const done = this.pending.get(n - 1);
      if (done) {
        this.pending.delete(n - 1);
        clearTimeout(done.timer);
        if (done.error === undefined) done.resolve();
        else done.reject(new IpBatchError(`ip: ${done.error}`));
      }
    }
    this.message = [];
  }

  /** Kill the child; pending commands are rejected once it has exited, so none can land later. */
  abort(why: string): void {
    if (this.dead) return;
    this.dead = true;
    for (const p of this.pending.values()) p.error ??= why;
    this.child.kill("SIGKILL");
  }

  private failAll(why: string): void {
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.reject(new IpBatchError(p.error ?? why));
    }
    this.pending.clear();
  }
}

export class IpBatch implements IpLineChannel {
  private session: Session | null = null;
  private readonly argv: readonly string[];
  private readonly timeoutMs: number;

  constructor(opts: IpBatchOptions = {}) {
    this.argv = opts.argv ?? ["ip", "-force", "-batch", "-"];
    this.timeoutMs = opts.timeoutMs ?? 2000;
  }

  exec(command: string): Promise<void> {
    if (/[\n\r]/.test(command)) return Promise.reject(new IpBatchError(`ip batch: a command must be one line: ${JSON.stringify(command)}`));
    if (!this.session || this.session.dead) this.session = new Session(this.argv, this.timeoutMs);
    return this.session.exec(command);
  }

  /** The child's pid (tests). */
  get pid(): number | undefined {
    return this.session?.dead === false ? this.session.child.pid : undefined;
  }

  async close(): Promise<void> {
    const s = this.session;
    this.session = null;
    if (!s || s.dead) return;
    s.child.stdin?.end();
    const killer = setTimeout(() => s.abort("closed"), 1000);
    await s.exited;
    clearTimeout(killer);
  }
}
