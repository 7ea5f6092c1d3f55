// Runs a program without a shell and turns failures into errors that carry
// what a reader needs (execa's model): the argv, the exit code or signal, the
// last lines of stderr, and the original error as `cause`.
import { execFile } from "node:child_process";

export interface CommandResult {
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  /** Milliseconds before the child is killed (SIGKILL); 0 = none. */
  timeoutMs?: number;
  /** Data written to the child's stdin. */
  input?: string;
}

/** How many stderr lines an error keeps: enough for `ip`/arping, short enough for one log line. */
const STDERR_LINES = 5;

export class CommandError extends Error {
  override readonly name = "CommandError";
  /** What the command printed on stdout before it failed (arping -D prints the reply there). */
  readonly stdout: string;
  constructor(
    readonly argv: readonly string[],
    readonly exitCode: number | undefined,
    readonly signal: string | undefined,
    readonly stderr: string,
    options: { cause: unknown; timedOut?: boolean; stdout?: string },
  ) {
    const tail = lastLines(stderr, STDERR_LINES);
    const how = options.timedOut
      ? "timed out"
      : exitCode !== undefined
        ? `exited with code ${exitCode}`
        : signal
          ? `was killed by ${signal}`
          : `could not start (${errorMessage(options.cause)})`;
    super(`command ${formatArgv(argv)} ${how}${tail ? `: ${tail}` : ""}`, { cause: options.cause });
    this.stdout = options.stdout ?? "";
  }
}

export function formatArgv(argv: readonly string[]): string {
  return argv.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : JSON.stringify(a))).join(" ");
}

function lastLines(text: string, n: number): string {
  return text.trim().split("\n").slice(-n).join(" | ");
}

function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** Runs `argv[0]` with the rest as arguments; resolves with its output or rejects with a CommandError. */
export function run(argv: readonly string[], opts: RunOptions = {}): Promise<CommandResult> {
  const [file, ...args] = argv;
  if (file === undefined) return Promise.reject(new Error("run: empty argv"));
  return new Promise((resolve, reject) => {
    const child = execFile(
      file,
      args,
      { encoding: "utf8", maxBuffer: 16 * 1024 * 1024, timeout: opts.timeoutMs ?? 0, killSignal: "SIGKILL" },
      (err, stdout, stderr) => {
        if (!err) {
          resolve({ stdout, stderr });
          return;
        }
        const e = err as NodeJS.ErrnoException & { code?: unknown; signal?: NodeJS.Signals | null; killed?: boolean };
        const exitCode = typeof e.code === "number" ? e.code : undefined;
        const signal = e.signal ?? undefined;
        const timedOut = (opts.timeoutMs ?? 0) > 0 && e.killed === true && signal === "SIGKILL";
        reject(new CommandError(argv, exitCode, signal, stderr, { cause: err, timedOut, stdout }));
      },
    );
    if (opts.input !== undefined) child.stdin?.end(opts.input);
  });
}
