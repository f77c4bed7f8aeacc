// What the pages that set a school up share: seeing your own change everywhere at once, and
// how a value (kindness, courage…) looks.
import { api, caughtUp, URLS } from "../core/api.js";
import { h, uid } from "../core/dom.js";
import { say } from "../core/messages.js";
import { signedIn } from "../core/router.js";
import { state } from "../core/state.js";

/**
 * After a change to the school's classes, values or staff: wait until every read shows it,
 * then ask again who is signed in, so the menu, the award page and the class pickers have it.
 */
export async function refreshMe() {
  await caughtUp();
  signedIn(await api("GET", URLS.me));
  // the menu was drawn again: it still shows which page this is
  const here = location.hash.slice(1) || "home";
  document.querySelector(`#nav-list a[data-page="${CSS.escape(here)}"]`)?.setAttribute("aria-current", "page");
}

/** After a change: once everyone sees it, draw the page again and say what changed. */
export async function redrawSaying(redraw, words) {
  await refreshMe();
  await redraw();
  say(words);
}

/** The icons a value may have (the roster knows their names; these are how they look). */
export const ICONS = {
  star: ["⭐", "Star"],
  heart: ["❤️", "Heart"],
  hands: ["🤝", "Hands"],
  book: ["📖", "Book"],
  bulb: ["💡", "Light bulb"],
  shield: ["🛡️", "Shield"],
  sun: ["☀️", "Sun"],
  tree: ["🌳", "Tree"],
  smile: ["😊", "Smile"],
  trophy: ["🏆", "Trophy"],
};

/** Colours a value may have: each a shade white text is readable on (style.css, .look-*). */
export const COLOURS = {
  red: "Red",
  orange: "Orange",
  green: "Green",
  teal: "Teal",
  blue: "Blue",
  purple: "Purple",
  pink: "Pink",
  grey: "Grey",
};

/** A value's name in its colour, after its icon. */
export function valueBadge(way) {
  const colour = way.colour in COLOURS ? way.colour : "none";
  const icon = ICONS[way.icon];
  return h("span", { class: `value-badge look-${colour}` }, icon ? h("span", { "aria-hidden": "true", text: `${icon[0]} ` }) : null, way.name);
}

/** Each value of a group of value choices shown in its colour, after its icon. */
export function withLooks(group, looks = state.me?.school_way_looks || {}) {
  for (const input of group.querySelectorAll("input")) {
    const label = input.id ? group.querySelector(`label[for="${input.id}"]`) : null;
    if (label && looks[input.value]) label.replaceChildren(valueBadge({ name: label.textContent, ...looks[input.value] }));
  }
  return group;
}

/** Radio buttons to choose an icon and a colour, the current ones chosen. */
export function lookChoices(current = {}) {
  const choice = (legend, options, chosen, show) => {
    const name = uid("look");
    const set = h("fieldset", { class: "ways look-choices" }, h("legend", { text: legend }));
    for (const [value, label] of [["", "None"], ...options]) {
      const id = uid(name);
      set.append(
        h("div", { class: "way" },
          h("input", { type: "radio", name, id, value, checked: value === (chosen || "") }),
          h("label", { for: id }, show(value, label))),
      );
    }
    return set;
  };
  const icons = choice("Icon", Object.entries(ICONS).map(([k, [, label]]) => [k, label]), current.icon, (value, label) =>
    value ? [h("span", { "aria-hidden": "true", text: `${ICONS[value][0]} ` }), label] : label);
  const colours = choice("Colour", Object.entries(COLOURS), current.colour, (value, label) =>
    h("span", { class: `swatch look-${value || "none"}`, text: label }));
  const picked = (set) => set.querySelector("input:checked")?.value || "";
  return { icons, colours, value: () => ({ icon: picked(icons), colour: picked(colours) }) };
}

/** The school's details as the roster takes them back: every field, its terms unchanged. */
export const schoolBody = (school, changes) => ({
  name: school.name,
  timezone: school.timezone,
  working_days: school.working_days,
  day_starts: school.day_starts.slice(0, 5),
  day_ends: school.day_ends.slice(0, 5),
  week_start: school.week_start,
  terms: school.terms,
  holidays: school.holidays || [],
  ...changes,
});
