/**
 * A small line-chart writer, so the figures need no plotting dependency: axes with "nice" ticks,
 * linear or log-10 x, one polyline with markers per series, and a legend.
 */
export interface Series {
  name: string;
  points: [number, number][];
  color: string;
  dashed?: boolean;
}

export interface PlotSpec {
  title: string;
  xLabel: string;
  yLabel: string;
  xLog?: boolean;
  series: Series[];
  width?: number;
  height?: number;
}

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** 1-2-5 ticks covering [lo, hi]. */
export function niceTicks(lo: number, hi: number, count = 6): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const ticks: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) ticks.push(Number(v.toPrecision(12)));
  return ticks;
}

export function renderSvg(p: PlotSpec): string {
  const W = p.width ?? 640;
  const H = p.height ?? 400;
  const m = { l: 70, r: 20, t: 40, b: 55 };
  const pts = p.series.flatMap((s) => s.points).filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
  const xs = pts.map(([x]) => (p.xLog ? Math.log10(x) : x));
  const ys = pts.map(([, y]) => y);
  const xLo = Math.min(...xs, p.xLog ? 1 : 0);
  const xHi = Math.max(...xs, xLo + 1);
  const yTicks = niceTicks(0, Math.max(...ys, 1) * 1.1);
  const yHi = yTicks[yTicks.length - 1]!;
  const X = (x: number): number => m.l + (((p.xLog ? Math.log10(x) : x) - xLo) / (xHi - xLo)) * (W - m.l - m.r);
  const Y = (y: number): number => H - m.b - (y / yHi) * (H - m.t - m.b);
  const xTicks = p.xLog
    ? Array.from({ length: Math.floor(xHi) - Math.ceil(xLo) + 1 }, (_, i) => 10 ** (Math.ceil(xLo) + i))
    : niceTicks(xLo, xHi);
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${W / 2}" y="22" text-anchor="middle" font-size="15">${esc(p.title)}</text>`,
  ];
  for (const t of yTicks) {
    out.push(`<line x1="${m.l}" x2="${W - m.r}" y1="${Y(t)}" y2="${Y(t)}" stroke="#ddd"/>`,
      `<text x="${m.l - 6}" y="${Y(t) + 4}" text-anchor="end">${t}</text>`);
  }
  for (const t of xTicks) {
    out.push(`<line x1="${X(t)}" x2="${X(t)}" y1="${m.t}" y2="${H - m.b}" stroke="#eee"/>`,
      `<text x="${X(t)}" y="${H - m.b + 16}" text-anchor="middle">${t}</text>`);
  }
  out.push(`<line x1="${m.l}" x2="${W - m.r}" y1="${H - m.b}" y2="${H - m.b}" stroke="black"/>`,
    `<line x1="${m.l}" x2="${m.l}" y1="${m.t}" y2="${H - m.b}" stroke="black"/>`,
    `<text x="${(m.l + W - m.r) / 2}" y="${H - 12}" text-anchor="middle">${esc(p.xLabel)}</text>`,
    `<text transform="translate(16 ${(m.t + H - m.b) / 2}) rotate(-90)" text-anchor="middle">${esc(p.yLabel)}</text>`);
  p.series.forEach((s, i) => {
    const good = s.points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
    if (good.length > 0) {
      out.push(`<polyline fill="none" stroke="${s.color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="6 4"' : ''} points="${good.map(([x, y]) => `${X(x).toFixed(1)},${Y(y).toFixed(1)}`).join(' ')}"/>`);
      for (const [x, y] of good) out.push(`<circle cx="${X(x).toFixed(1)}" cy="${Y(y).toFixed(1)}" r="3.5" fill="${s.color}"/>`);
    }
    const ly = m.t + 8 + i * 18;
    out.push(`<line x1="${m.l + 12}" x2="${m.l + 36}" y1="${ly}" y2="${ly}" stroke="${s.color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="6 4"' : ''}/>`,
      `<text x="${m.l + 42}" y="${ly + 4}">${esc(s.name)}</text>`);
  });
  out.push('</svg>');
  return out.join('\n') + '\n';
}
