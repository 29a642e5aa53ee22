// Counters and histograms for the per-invocation metrics, which every run updates (the hello
// benchmark's path). prom-client's inc()/observe() validate and hash the label set on every call
// (about a microsecond each, measured); these keep one child per label set, found by one Map lookup,
// and turn the counts into prom-client's exposition objects only when scraped. They register in a
// prom-client Registry like its own metrics, so the text format is prom-client's.
import type { Registry } from "prom-client";

interface Sample {
  readonly labels: Record<string, string | number>;
  readonly value: number;
  readonly metricName?: string;
}

interface MetricObject {
  readonly name: string;
  readonly help: string;
  readonly type: "counter" | "histogram";
  readonly values: Sample[];
  readonly aggregator: "sum";
}

abstract class Labeled<Child> {
  private readonly children = new Map<string, { labels: Record<string, string>; child: Child }>();

  constructor(
    readonly name: string,
    readonly help: string,
    readonly labelNames: readonly string[],
    registry: Registry,
  ) {
    // The registry asks only for name, get() and reset(): a structural metric.
    registry.registerMetric(this as never);
  }

  protected abstract create(): Child;

  /** The child for these label values (in `labelNames` order); keep it to update without a lookup. */
  child(...values: string[]): Child {
    const key = values.length === 1 ? (values[0] as string) : values.join("\u0000");
    let entry = this.children.get(key);
    if (!entry) {
      const labels: Record<string, string> = {};
      this.labelNames.forEach((name, i) => {
        labels[name] = values[i] as string;
      });
      entry = { labels, child: this.create() };
      this.children.set(key, entry);
    }
    return entry.child;
  }

  protected entries(): Iterable<{ labels: Record<string, string>; child: Child }> {
    return this.children.values();
  }

  reset(): void {
    this.children.clear();
  }
}

export class CounterChild {
  value = 0;
  inc(by = 1): void {
    this.value += by;
  }
}

export class LabeledCounter extends Labeled<CounterChild> {
  readonly type = "counter";
  protected create(): CounterChild {
    return new CounterChild();
  }
  inc(values: readonly string[], by = 1): void {
    this.child(...values).inc(by);
  }
  get(): MetricObject {
    const values: Sample[] = [];
    for (const { labels, child } of this.entries()) values.push({ labels, value: child.value });
    return { name: this.name, help: this.help, type: "counter", values, aggregator: "sum" };
  }
}

export class HistogramChild {
  /** Per bucket (not cumulative), the last one for everything above the highest bound (+Inf). */
  readonly counts: number[];
  sum = 0;
  count = 0;
  constructor(private readonly bounds: readonly number[]) {
    this.counts = new Array<number>(bounds.length + 1).fill(0);
  }
  observe(value: number): void {
    let i = 0;
    while (i < this.bounds.length && value > (this.bounds[i] as number)) i++;
    (this.counts as number[])[i] = (this.counts[i] as number) + 1;
    this.sum += value;
    this.count++;
  }
}

export class LabeledHistogram extends Labeled<HistogramChild> {
  readonly type = "histogram";
  constructor(
    name: string,
    help: string,
    labelNames: readonly string[],
    /** Upper bounds, ascending, in the metric's unit. */
    private readonly bounds: readonly number[],
    registry: Registry,
  ) {
    super(name, help, labelNames, registry);
  }
  protected create(): HistogramChild {
    return new HistogramChild(this.bounds);
  }
  get(): MetricObject {
    const values: Sample[] = [];
    const bucket = `${this.name}_bucket`;
    for (const { labels, child } of this.entries()) {
      let cumulative = 0;
      this.bounds.forEach((le, i) => {
        cumulative += child.counts[i] as number;
        values.push({ labels: { ...labels, le }, value: cumulative, metricName: bucket });
      });
      values.push({ labels: { ...labels, le: "+Inf" }, value: child.count, metricName: bucket });
      values.push({ labels, value: child.sum, metricName: `${this.name}_sum` });
      values.push({ labels, value: child.count, metricName: `${this.name}_count` });
    }
    return { name: this.name, help: this.help, type: "histogram", values, aggregator: "sum" };
  }
}
