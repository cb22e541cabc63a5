// A status line that redraws in place on a terminal (carriage return + ANSI erase-line) and prints one line per
// change otherwise (logs, CI, pipes).

export class StatusLine {
  private last = '';
  private shown = '';
  private drawn = false;

  constructor(private readonly stream: NodeJS.WriteStream = process.stdout) {}

  get isTty(): boolean {
    return this.stream.isTTY === true;
  }

  update(text: string): void {
    if (text === this.last) return;
    this.last = text;
    if (this.isTty) {
      const width = this.stream.columns || 120;
      this.shown = text.length > width - 1 ? text.slice(0, width - 1) : text;
      this.stream.write(`\r\x1b[2K${this.shown}`);
      this.drawn = true;
    } else {
      this.stream.write(`${text}\n`);
    }
  }

  /** Prints `line` above the status line (the status line is redrawn after it on a terminal). */
  log(line: string): void {
    if (this.isTty && this.drawn) {
      this.stream.write(`\r\x1b[2K${line}\n${this.shown}`);
    } else {
      this.stream.write(`${line}\n`);
    }
  }

  /** Ends the line so that later output starts on a fresh one. */
  finish(): void {
    if (this.isTty && this.drawn) this.stream.write('\n');
    this.drawn = false;
  }
}
