import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';

/** Renders a vega-lite spec to SVG, headless (vega's View without a canvas). */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** One bar per row: `label` on the y axis, `value` along x, grouped by colour when `series` is set. */
export function barChart(title: string, unit: string, rows: { label: string; value: number; series?: string }[]): TopLevelSpec {
  const grouped = rows.some((row) => row.series);
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title,
    width: 480,
    data: { values: rows },
    mark: { type: 'bar', tooltip: true },
    encoding: {
      y: { field: 'label', type: 'nominal', sort: null, title: null, axis: { labelLimit: 320 } },
      x: { field: 'value', type: 'quantitative', title: unit },
      ...(grouped ? { color: { field: 'series', type: 'nominal', title: null }, yOffset: { field: 'series' } } : {}),
    },
    config: { font: 'sans-serif' },
  } as TopLevelSpec;
}

/** Lines of `value` against `x`, one per series, with points. */
export function lineChart(title: string, xTitle: string, yTitle: string, rows: { x: number; value: number; series: string }[]): TopLevelSpec {
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title,
    width: 420,
    height: 240,
    data: { values: rows },
    mark: { type: 'line', point: true },
    encoding: {
      x: { field: 'x', type: 'quantitative', title: xTitle },
      y: { field: 'value', type: 'quantitative', title: yTitle },
      color: { field: 'series', type: 'nominal', title: null },
    },
    config: { font: 'sans-serif' },
  } as TopLevelSpec;
}

/** Several charts side by side. */
export function concat(title: string, charts: TopLevelSpec[]): TopLevelSpec {
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title,
    hconcat: charts.map((chart) => {
      const inner = { ...(chart as unknown as Record<string, unknown>) };
      delete inner.$schema;
      delete inner.config;
      return inner;
    }),
    config: { font: 'sans-serif' },
  } as unknown as TopLevelSpec;
}
