// A tiny typed DOM builder: h('tag', {attributes and handlers}, ...children). Text children are escaped by the
// browser (text nodes), so values from the API never become markup.

export type Child = Node | string | number | null | undefined | false;

type Handler<K extends keyof HTMLElementEventMap> = (event: HTMLElementEventMap[K]) => void;

export interface Attrs {
  class?: string;
  id?: string;
  title?: string;
  href?: string;
  role?: string;
  type?: string;
  value?: string;
  name?: string;
  placeholder?: string;
  checked?: boolean;
  disabled?: boolean;
  selected?: boolean;
  colspan?: number;
  scope?: string;
  for?: string;
  /** <optgroup label>. */
  label?: string;
  download?: string;
  /** data-* and aria-* attributes, written as given. */
  data?: Record<string, string>;
  aria?: Record<string, string>;
  onclick?: Handler<'click'>;
  onchange?: Handler<'change'>;
  oninput?: Handler<'input'>;
  onsubmit?: Handler<'submit'>;
}

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'data' || key === 'aria') {
      for (const [name, v] of Object.entries(value as Record<string, string>))
        element.setAttribute(`${key}-${name}`, v);
    } else if (key.startsWith('on')) {
      element.addEventListener(key.slice(2), value as EventListener);
    } else if (key === 'checked' || key === 'selected' || key === 'value') {
      // Properties, so that later reads reflect them for inputs and options.
      (element as unknown as Record<string, unknown>)[key] = value;
    } else {
      element.setAttribute(key, value === true ? '' : String(value));
    }
  }
  append(element, ...children);
  return element;
}

export function append(parent: Node, ...children: Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    parent.appendChild(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Replaces every child of `parent`. */
export function replaceChildren(parent: Element, ...children: Child[]): void {
  parent.replaceChildren();
  append(parent, ...children);
}
