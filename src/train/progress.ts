// Progress sink: a one-line bar on a TTY (redrawn in place), plain lines every few seconds otherwise,
// nothing when silent. Work is counted in arbitrary units (the ETA assumes a constant rate); the
// label counts whole items (runs).
export interface ProgressOptions {
  readonly stream?: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  readonly silent?: boolean;
  /** Minimum seconds between plain (non-TTY) lines. */
  readonly plainEvery?: number;
  readonly now?: () => number;
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return "--:--";
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = String(s % 60).padStart(2, "0");
  return h > 0 ? `${h}:${String(m).padStart(2, "0")}:${sec}` : `${m}:${sec}`;
}

export class ProgressBar {
  readonly #stream: NonNullable<ProgressOptions["stream"]>;
  readonly #silent: boolean;
  readonly #tty: boolean;
  readonly #plainEvery: number;
  readonly #now: () => number;
  readonly #start: number;
  #lastPlain = -Infinity;
  #items = 0;
  #work = 0;
  #detail = "";

  constructor(
    readonly totalItems: number,
    readonly totalWork: number,
    readonly unit: string,
    opts: ProgressOptions = {},
  ) {
    this.#stream = opts.stream ?? process.stderr;
    this.#silent = opts.silent ?? false;
    this.#tty = this.#stream.isTTY === true;
    this.#plainEvery = opts.plainEvery ?? 5;
    this.#now = opts.now ?? (() => performance.now() / 1000);
    this.#start = this.#now();
  }

  /** The status line: bar, items done/total, elapsed, ETA. */
  line(width = 24): string {
    const frac = this.totalWork > 0 ? Math.min(1, this.#work / this.totalWork) : 1;
    const elapsed = this.#now() - this.#start;
    const eta = frac > 0 ? (elapsed * (1 - frac)) / frac : NaN;
    const filled = Math.round(frac * width);
    const bar = "#".repeat(filled) + "-".repeat(width - filled);
    const detail = this.#detail === "" ? "" : `  ${this.#detail}`;
    return `[${bar}] ${this.#items}/${this.totalItems} ${this.unit}  ${formatDuration(elapsed)} elapsed  ETA ${formatDuration(eta)}${detail}`;
  }

  /** Report absolute progress: whole items finished and work done (finished plus partial); `detail` ends the line. */
  update(items: number, work: number, force = false, detail = this.#detail): void {
    this.#items = items;
    this.#work = work;
    this.#detail = detail;
    if (this.#silent) return;
    if (this.#tty) {
      this.#stream.write(`\r${this.line()}\x1b[K`);
      return;
    }
    const t = this.#now();
    if (force || t - this.#lastPlain >= this.#plainEvery) {
      this.#lastPlain = t;
      this.#stream.write(`${this.line()}\n`);
    }
  }

  /** Final line (ends the TTY line). */
  done(message = ""): void {
    if (this.#silent) return;
    this.update(this.#items, this.totalWork, true);
    if (this.#tty) this.#stream.write("\n");
    if (message !== "") this.#stream.write(`${message}\n`);
  }
}
