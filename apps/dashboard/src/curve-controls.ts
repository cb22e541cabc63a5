// The controls every curve chart shares: x as step, epoch or wall time, EMA smoothing (a slider), a log y axis;
// zoom and pan are in the chart itself (wheel and drag, and the slider under it).
import type { CurveSettings, CurveX } from './charts/curve-data';
import { type Child, h } from './dom';

export const DEFAULT_CURVES: CurveSettings = { x: 'step', smoothing: 0, logY: false };

/** A row of controls that edits `settings` in place and calls `changed` after each edit; `extra` goes first. */
export function curveControls(settings: CurveSettings, changed: () => void, ...extra: Child[]): HTMLElement {
  const shown = h('output', {}, settings.smoothing.toFixed(2));
  const slider = h('input', {
    type: 'range',
    name: 'smoothing',
    value: String(settings.smoothing),
    aria: { label: 'smoothing (exponential moving average weight)' },
    oninput: () => {
      settings.smoothing = Number(slider.value);
      shown.textContent = settings.smoothing.toFixed(2);
      changed();
    },
  });
  slider.min = '0';
  slider.max = '0.99';
  slider.step = '0.01';
  const xSelect = h(
    'select',
    {
      name: 'curve-x',
      aria: { label: 'x axis of the curves' },
      onchange: () => {
        settings.x = xSelect.value as CurveX;
        changed();
      },
    },
    ...(['step', 'epoch', 'time'] as const).map((x) =>
      h('option', { value: x, selected: settings.x === x }, x === 'time' ? 'wall time' : x),
    ),
  );
  return h(
    'div',
    { class: 'curve-controls' },
    ...extra,
    h('label', {}, 'x ', xSelect),
    h('label', {}, 'smoothing ', slider, ' ', shown),
    h(
      'label',
      { class: 'check' },
      h('input', {
        type: 'checkbox',
        name: 'log-y',
        checked: settings.logY,
        onchange: (event) => {
          settings.logY = (event.target as HTMLInputElement).checked;
          changed();
        },
      }),
      ' log y',
    ),
    h('span', { class: 'note' }, 'zoom: wheel or the slider; pan: drag'),
  );
}
