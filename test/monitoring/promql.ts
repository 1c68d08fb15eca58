// What a PromQL expression reads, by Prometheus' own grammar (@prometheus-io/lezer-promql): each
// metric it selects and the labels it relies on, so tests can hold a dashboard to a real /metrics.
import type { SyntaxNode } from '@lezer/common';
import { parser } from '@prometheus-io/lezer-promql';

/** A metric an expression selects, and the labels it matches, groups or joins it on. */
export interface MetricUse {
  metric: string;
  labels: Set<string>;
}

/** Grafana's interval variables, as Grafana substitutes them before the query reaches Prometheus. */
export function withGrafanaIntervals(expr: string): string {
  return expr
    .replaceAll('$__rate_interval', '1m')
    .replaceAll('$__interval', '1m')
    .replaceAll('$__range', '1h');
}

const childrenOf = (node: SyntaxNode): SyntaxNode[] => {
  const out: SyntaxNode[] = [];
  for (let c = node.firstChild; c !== null; c = c.nextSibling) out.push(c);
  return out;
};

/** Every metric an expression selects with its labels; throws on a syntax error. */
export function metricUses(expr: string): MetricUse[] {
  const tree = parser.parse(expr);
  const text = (n: SyntaxNode) => expr.slice(n.from, n.to);
  tree.iterate({
    enter(n) {
      if (n.type.isError) throw new Error(`PromQL syntax error at ${n.from} in: ${expr}`);
    },
  });
  const labelNames = (n: SyntaxNode | null): string[] =>
    n === null ? [] : n.getChildren('LabelName').map(text);

  const visit = (node: SyntaxNode): MetricUse[] => {
    if (node.name === 'VectorSelector') {
      const id = node.getChild('Identifier');
      if (id === null) throw new Error(`a selector without a metric name in: ${expr}`);
      const matchers = node.getChild('LabelMatchers');
      const labels = new Set<string>();
      for (const m of matchers === null ? [] : childrenOf(matchers))
        for (const l of labelNames(m)) labels.add(l);
      return [{ metric: text(id), labels }];
    }
    if (node.name === 'BinaryExpr') {
      // on (...) / ignoring (...): labels of both sides; group_left (...): of the right side (the
      // "one" side, whose labels it copies), group_right (...): of the left side.
      const left = node.firstChild === null ? [] : visit(node.firstChild);
      const right = node.lastChild === null ? [] : visit(node.lastChild);
      const clause = node.getChild('MatchingModifierClause');
      let keyword = '';
      for (const c of clause === null ? [] : childrenOf(clause)) {
        if (c.name !== 'GroupingLabels') {
          keyword = c.name;
          continue;
        }
        const to = keyword === 'GroupLeft' ? right : keyword === 'GroupRight' ? left : [...left, ...right];
        for (const use of to) for (const l of labelNames(c)) use.labels.add(l);
      }
      return [...left, ...right];
    }
    const below = childrenOf(node).flatMap(visit);
    // by (...) / without (...): labels of the series below.
    if (node.name === 'AggregateExpr')
      for (const l of labelNames(node.getChild('AggregateModifier')?.getChild('GroupingLabels') ?? null))
        for (const use of below) use.labels.add(l);
    return below;
  };
  return visit(tree.topNode);
}

/** Metric name → every label name seen on its samples, from Prometheus' text exposition format. */
export function exposition(text: string): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const line of text.split('\n')) {
    const typed = /^# TYPE (\S+) (\w+)/.exec(line);
    if (typed !== null) {
      const [, name = '', type] = typed;
      const names = type === 'histogram' ? ['_bucket', '_sum', '_count'].map((s) => name + s) : [name];
      for (const n of names) if (!out.has(n)) out.set(n, new Set());
      continue;
    }
    const sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? /.exec(line);
    if (sample === null) continue;
    const [, name = '', labels = ''] = sample;
    const set = out.get(name) ?? new Set<string>();
    for (const m of labels.matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="/g)) set.add(m[1] ?? '');
    out.set(name, set);
  }
  return out;
}

/** What is wrong with `uses` against the series `available` (metric → labels); empty if nothing. */
export function missing(uses: MetricUse[], available: Map<string, Set<string>>): string[] {
  const problems: string[] = [];
  for (const u of uses) {
    const labels = available.get(u.metric);
    if (labels === undefined) {
      problems.push(`no metric ${u.metric}`);
      continue;
    }
    for (const l of u.labels) if (!labels.has(l)) problems.push(`${u.metric} has no label ${l}`);
  }
  return problems;
}

/** Every PromQL query of a Grafana dashboard: panel targets and query variables (label_values(m, l) as m by l). */
export function dashboardQueries(dashboard: unknown): string[] {
  const d = dashboard as {
    panels?: { targets?: { expr?: string }[] }[];
    templating?: { list?: { type: string; query?: unknown }[] };
  };
  const out: string[] = [];
  for (const p of d.panels ?? []) for (const t of p.targets ?? []) if (t.expr !== undefined) out.push(t.expr);
  for (const v of d.templating?.list ?? []) {
    if (v.type !== 'query') continue;
    const q = typeof v.query === 'string' ? v.query : (v.query as { query: string }).query;
    const m = /^label_values\((.+),\s*(\w+)\)$/.exec(q);
    if (m === null) throw new Error(`a variable query that is not label_values(): ${q}`);
    out.push(`count by (${m[2]}) (${m[1]})`);
  }
  return out;
}
