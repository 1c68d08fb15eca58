// A dependency-free SVG line chart: backlog and concurrency over time with scaling actions
// marked. Shared by the playground, the what-if simulator and the benchmark report.

export interface Series {
  name: string;
  /** [seconds since start, value] pairs, in time order. */
  points: readonly (readonly [number, number])[];
  color: string;
  /** Which y axis the series is read against. */
  axis: 'left' | 'right';
  /** Draw as steps (a value that holds until the next point), e.g. concurrency. */
  step?: boolean;
}

export interface Marker {
  /** Seconds since start. */
  t: number;
  label: string;
  color?: string;
}

export interface ChartOptions {
  title: string;
  leftLabel: string;
  rightLabel: string;
  series: readonly Series[];
  markers?: readonly Marker[];
  width?: number;
  height?: number;
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** A "nice" upper bound for an axis (1, 2 or 5 times a power of ten). */
function niceMax(v: number): number {
  if (!(v > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

/** Renders the chart as a standalone SVG document. */
export function lineChart(o: ChartOptions): string {
  const width = o.width ?? 960;
  const height = o.height ?? 420;
  const pad = { left: 70, right: 70, top: 58, bottom: 50 };
  const plotW = width - pad.left - pad.right;
  const plotH = height - pad.top - pad.bottom;
  const all = o.series.flatMap((s) => s.points);
  const tMax = Math.max(1, ...all.map(([t]) => t), ...(o.markers ?? []).map((m) => m.t));
  const axisMax = (axis: 'left' | 'right') =>
    niceMax(
      Math.max(0, ...o.series.filter((s) => s.axis === axis).flatMap((s) => s.points.map(([, v]) => v))),
    );
  const yMax = { left: axisMax('left'), right: axisMax('right') };
  const x = (t: number) => pad.left + (t / tMax) * plotW;
  const y = (v: number, axis: 'left' | 'right') => pad.top + plotH - (v / yMax[axis]) * plotH;
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
    `<text x="${width / 2}" y="22" text-anchor="middle" font-size="15" font-weight="bold">${esc(o.title)}</text>`,
  );
  for (let i = 0; i <= 5; i++) {
    const yy = pad.top + (plotH * i) / 5;
    out.push(`<line x1="${pad.left}" y1="${yy}" x2="${pad.left + plotW}" y2="${yy}" stroke="#e5e5e5"/>`);
    out.push(
      `<text x="${pad.left - 6}" y="${yy + 4}" text-anchor="end">${Math.round(yMax.left * (1 - i / 5))}</text>`,
    );
    out.push(
      `<text x="${pad.left + plotW + 6}" y="${yy + 4}" text-anchor="start">${Math.round(yMax.right * (1 - i / 5))}</text>`,
    );
  }
  for (let i = 0; i <= 6; i++) {
    const t = (tMax * i) / 6;
    out.push(
      `<text x="${x(t)}" y="${pad.top + plotH + 18}" text-anchor="middle">${formatDuration(t)}</text>`,
    );
  }
  out.push(
    `<rect x="${pad.left}" y="${pad.top}" width="${plotW}" height="${plotH}" fill="none" stroke="#999"/>`,
    `<text transform="translate(18 ${pad.top + plotH / 2}) rotate(-90)" text-anchor="middle">${esc(o.leftLabel)}</text>`,
    `<text transform="translate(${width - 14} ${pad.top + plotH / 2}) rotate(90)" text-anchor="middle">${esc(o.rightLabel)}</text>`,
    `<text x="${pad.left + plotW / 2}" y="${height - 10}" text-anchor="middle">time</text>`,
  );
  for (const m of o.markers ?? []) {
    const color = m.color ?? '#888';
    out.push(
      `<line x1="${x(m.t)}" y1="${pad.top}" x2="${x(m.t)}" y2="${pad.top + plotH}" stroke="${color}" stroke-dasharray="3 3"><title>${esc(m.label)}</title></line>`,
      `<circle cx="${x(m.t)}" cy="${pad.top + 4}" r="3" fill="${color}"><title>${esc(m.label)}</title></circle>`,
    );
  }
  for (const s of o.series) {
    if (s.points.length === 0) continue;
    const d: string[] = [];
    s.points.forEach(([t, v], i) => {
      if (i === 0) d.push(`M${x(t).toFixed(1)},${y(v, s.axis).toFixed(1)}`);
      else if (s.step === true) {
        const prev = s.points[i - 1]?.[1] ?? v;
        d.push(
          `L${x(t).toFixed(1)},${y(prev, s.axis).toFixed(1)} L${x(t).toFixed(1)},${y(v, s.axis).toFixed(1)}`,
        );
      } else d.push(`L${x(t).toFixed(1)},${y(v, s.axis).toFixed(1)}`);
    });
    out.push(`<path d="${d.join(' ')}" fill="none" stroke="${s.color}" stroke-width="2"/>`);
  }
  // Legend entries side by side, each as wide as its text (about 6.5 px per character at 12 px).
  let lx = pad.left + 10;
  for (const s of o.series) {
    const label = `${s.name} (${s.axis})`;
    out.push(
      `<rect x="${lx}" y="${pad.top - 16}" width="14" height="4" fill="${s.color}"/>`,
      `<text x="${lx + 20}" y="${pad.top - 10}">${esc(label)}</text>`,
    );
    lx += 20 + label.length * 6.5 + 16;
  }
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}

/** 90 → "1m30s", 3600 → "1h0m". */
export function formatDuration(seconds: number): string {
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${s % 60 === 0 ? '' : `${s % 60}s`}`;
  return `${Math.floor(s / 3600)}h${Math.floor((s % 3600) / 60)}m`;
}
