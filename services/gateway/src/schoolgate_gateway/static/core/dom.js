// Building the page: plain DOM, and every piece of text through textContent (never innerHTML),
// because names are people's data.
export const $ = (id) => document.getElementById(id);

const PROPS = new Set(["value", "checked", "disabled", "hidden", "required", "selected", "readOnly"]);

export function h(tag, props, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") el.className = value;
    else if (key === "text") el.textContent = value;
    else if (key === "dataset") Object.assign(el.dataset, value);
    else if (key.startsWith("on") && typeof value === "function") {
      el.addEventListener(key.slice(2), value);
    } else if (PROPS.has(key)) el[key] = value;
    else el.setAttribute(key, value === true ? "" : String(value));
  }
  add(el, children);
  return el;
}

/** Replace an element's children (skipping the empty ones, as `h` does). */
export function fill(el, ...children) {
  el.replaceChildren();
  return add(el, children);
}

export function add(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
  return el;
}

let ids = 0;

export const uid = (prefix) => `${prefix}-${++ids}`;

/** A labelled input (or select/textarea given as `control`), with an optional hint. */
export function field(label, { hint, control, ...attrs } = {}) {
  const id = attrs.id || uid("field");
  const hintId = hint ? `${id}-hint` : undefined;
  const input = control || h("input", { type: "text", ...attrs });
  input.id = id;
  if (hintId) input.setAttribute("aria-describedby", hintId);
  return h(
    "div",
    { class: "field" },
    h("label", { for: id, text: label }),
    hint ? h("p", { class: "hint", id: hintId, text: hint }) : null,
    input,
  );
}

export function checkbox(label, attrs = {}) {
  const id = attrs.id || uid("check");
  return h(
    "div",
    { class: "check" },
    h("input", { type: "checkbox", ...attrs, id }),
    h("label", { for: id, text: label }),
  );
}

export function heading(level, text, attrs = {}) {
  return h(`h${level}`, { tabindex: "-1", ...attrs, text });
}

export function section(title, ...children) {
  const id = uid("title");
  return h("section", { "aria-labelledby": id }, heading(1, title, { id }), ...children);
}

export function busy(button, on, label) {
  if (on) {
    button.dataset.label = button.textContent;
    button.textContent = label || "Please wait…";
    button.disabled = true;
  } else {
    button.textContent = button.dataset.label || button.textContent;
    button.disabled = false;
  }
}

export function svgImage(svgText, alt) {
  return h("img", {
    class: "qr",
    alt,
    src: `data:image/svg+xml;charset=utf-8,${encodeURIComponent(svgText)}`,
  });
}

/** A school-value radio group; the first is chosen. */
export function radioGroup(legend, name, options, cls = "ways") {
  const set = h("fieldset", { class: cls }, h("legend", { text: legend }));
  options.forEach(([value, label], i) => {
    const id = uid(name);
    set.append(h("div", { class: "way" }, h("input", { type: "radio", name, id, value, checked: i === 0 }), h("label", { for: id, text: label })));
  });
  return set;
}

/** After a change re-draws part of a page, put focus back on the control that was used. */
export function refocus(container, key) {
  if (key) container.querySelector(`[data-focus="${key}"]`)?.focus();
}

export function paragraphs(text, cls = "story-text") {
  if (!text) return null;
  const box = h("div", { class: cls });
  for (const part of String(text).split(/\n\s*\n/)) box.append(h("p", { text: part }));
  return box;
}
