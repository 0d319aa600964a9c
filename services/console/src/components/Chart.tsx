import {
  BarController,
  BarElement,
  CategoryScale,
  Chart,
  Filler,
  Legend,
  LinearScale,
  LineController,
  LineElement,
  PointElement,
  Tooltip,
  type ChartData,
  type ChartOptions,
  type ChartType,
} from 'chart.js';
import { useEffect, useRef, type ReactNode } from 'react';

Chart.register(BarController, BarElement, LineController, LineElement, PointElement, CategoryScale, LinearScale, Tooltip, Legend, Filler);
Chart.defaults.color = '#93a1b5';
Chart.defaults.borderColor = 'rgba(148, 163, 184, 0.12)';
Chart.defaults.font.family = 'Inter, ui-sans-serif, system-ui, -apple-system, "Segoe UI", Roboto, sans-serif';
Chart.defaults.font.size = 11;
// Live data redraws often: no animation (and screenshots show the final state).
Chart.defaults.animation = false;
Chart.defaults.plugins.legend.labels.boxWidth = 10;
Chart.defaults.plugins.legend.labels.boxHeight = 10;

export const colors = {
  narrowing: '#f59e0b',
  widening: '#22c55e',
  mixed: '#a78bfa',
  refresh: '#64748b',
  revocation: '#ef4444',
  accent: '#38bdf8',
  p50: '#38bdf8',
  p99: '#f59e0b',
  max: '#ef4444',
} as const;

/**
 * A Chart.js chart on a canvas. Created once; new `data` updates it in place (no flicker while
 * streams update it several times a second).
 */
export function ChartView<T extends ChartType>({ type, data, options, height = 180, label }: { type: T; data: ChartData<T>; options?: ChartOptions<T>; height?: number; label: string }): ReactNode {
  const canvas = useRef<HTMLCanvasElement>(null);
  const chart = useRef<Chart<T> | undefined>(undefined);
  useEffect(() => {
    if (!canvas.current) return undefined;
    const c = new Chart<T>(canvas.current, { type, data, options: { responsive: true, maintainAspectRatio: false, ...options } as ChartOptions<T> });
    chart.current = c;
    return () => {
      c.destroy();
      chart.current = undefined;
    };
    // The chart is created once per type; data and options are applied below.
  }, [type]);
  useEffect(() => {
    const c = chart.current;
    if (!c) return;
    c.data = data;
    if (options) c.options = { responsive: true, maintainAspectRatio: false, ...options };
    c.update('none');
    // Options are re-applied with new data only: callers pass them inline.
  }, [data]);
  return (
    <div className="chart" style={{ height }}>
      <canvas ref={canvas} role="img" aria-label={label} />
    </div>
  );
}
