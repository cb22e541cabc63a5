// What a page owns while it is shown: its requests (aborted on leave), timers, event streams and charts. The
// router disposes the scope when the hash changes, so nothing of a left page keeps running.
import { type MountedChart, mountChart } from './charts/host';
import type { ChartOption } from './charts/option';

export class PageScope {
  readonly #controller = new AbortController();
  readonly #disposers: (() => void)[] = [];
  readonly #charts = new Map<string, MountedChart>();

  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  get disposed(): boolean {
    return this.#controller.signal.aborted;
  }

  onDispose(dispose: () => void): void {
    this.#disposers.push(dispose);
  }

  /** Calls `tick` every `ms` until the page is left; a tick still running is not overlapped. */
  every(ms: number, tick: () => Promise<void>): void {
    let running = false;
    const timer = setInterval(() => {
      if (running || this.disposed) return;
      running = true;
      tick().finally(() => {
        running = false;
      });
    }, ms);
    this.onDispose(() => clearInterval(timer));
  }

  /** Draws the chart NAME in `container`; drawn there already, its option is replaced in place. */
  chart(container: HTMLElement, name: string, option: ChartOption): MountedChart {
    const current = this.#charts.get(name);
    if (current !== undefined && current.chart.getDom() === container) {
      current.chart.setOption(option, { notMerge: true });
      return current;
    }
    current?.dispose();
    const mounted = mountChart(container, name, option);
    this.#charts.set(name, mounted);
    return mounted;
  }

  dispose(): void {
    this.#controller.abort();
    for (const chart of this.#charts.values()) chart.dispose();
    this.#charts.clear();
    for (const dispose of this.#disposers.splice(0).reverse()) dispose();
  }
}
