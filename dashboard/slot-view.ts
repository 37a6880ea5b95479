// One parameter on screen (a bed-view numeric or a ward-tile value): label, the "not a patient" badge, the value with
// its doubt mark, the unit it carries, a small line of notes and time. Built once; `render` changes text, classes
// and the accessible label only (present.ts decides what they say).
import { el, setClass, setData, setHidden, setText } from './dom.js';
import type { Shown } from './present.js';
import { MODE_TEXT } from './quality.js';

export interface SlotView {
  root: HTMLElement;
  label: HTMLElement;
  mode: HTMLElement;
  value: HTMLElement;
  mark: HTMLElement;
  unit: HTMLElement;
  sub: HTMLElement;
}

export function slotView(cls: string, label: string, unit: string, key: string): SlotView {
  const root = el('div', cls);
  root.dataset['mdc'] = key;
  root.setAttribute('role', 'group');
  const l = el('span', 'label', label);
  const mode = el('span', 'mode-mark');
  mode.hidden = true;
  const reading = el('span', 'reading');
  const value = el('span', 'value', '—');
  const mark = el('span', 'mark');
  mark.setAttribute('aria-hidden', 'true');
  reading.append(value, mark);
  const u = el('span', 'unit', unit);
  const sub = el('span', 'sub');
  root.append(l, mode, u, reading, sub);
  return { root, label: l, mode, value, mark, unit: u, sub };
}

/** `sub` picks the small line: the full one (bed view) or the short one (tiles). */
export function renderSlot(s: SlotView, v: Shown, sub: 'sub' | 'short'): void {
  setText(s.label, v.label);
  setText(s.value, v.value);
  setText(s.mark, v.mark);
  setText(s.unit, v.unit);
  setText(s.sub, v[sub]);
  setText(s.mode, v.mode ? MODE_TEXT[v.mode].badge : '');
  setHidden(s.mode, v.mode === '');
  setClass(s.root, 'is-empty', v.empty);
  setClass(s.root, 'is-stale', v.stale);
  setClass(s.root, 'is-doubtful', v.doubtful);
  setClass(s.root, 'is-struck', v.struck);
  setData(s.root, 'mode', v.mode || 'none');
  if (s.root.title !== v.title) {
    s.root.title = v.title;
    s.root.setAttribute('aria-label', v.title);
  }
}
