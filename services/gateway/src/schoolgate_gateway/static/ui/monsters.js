// Friendly monsters: a picture for each pupil, drawn from their avatar id, and its chooser.
import { api, roster } from "../core/api.js";
import { fill, h, uid } from "../core/dom.js";
import { randomHex } from "../core/ids.js";
import { say, working } from "../core/messages.js";

function hashText(text) {
  let hash = 2166136261;
  for (const ch of text) {
    hash ^= ch.codePointAt(0);
    hash = Math.imul(hash, 16777619);
  }
  return hash >>> 0;
}

function randomFrom(seed) {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SVG_NS = "http://www.w3.org/2000/svg";

export function s(tag, attrs) {
  const el = document.createElementNS(SVG_NS, tag);
  for (const [key, value] of Object.entries(attrs)) el.setAttribute(key, String(value));
  return el;
}

export function monster(seedText) {
  const rnd = randomFrom(hashText(seedText || "pupil"));
  const pick = (n) => Math.floor(rnd() * n);
  const hue = pick(360);
  const body = `hsl(${hue} 70% 60%)`;
  const dark = `hsl(${hue} 55% 25%)`;
  const light = `hsl(${hue} 85% 82%)`;
  const svg = s("svg", { viewBox: "0 0 100 100", class: "monster", "aria-hidden": "true" });
  svg.setAttribute("focusable", "false");
  svg.append(s("circle", { cx: 50, cy: 50, r: 50, fill: `hsl(${(hue + 180) % 360} 70% 93%)` }));
  const line = { stroke: dark, "stroke-width": 3, "stroke-linecap": "round" };
  switch (pick(4)) {
    case 0: // horns
      svg.append(s("path", { d: "M30 34 L24 10 L42 28 Z", fill: light, ...line }));
      svg.append(s("path", { d: "M70 34 L76 10 L58 28 Z", fill: light, ...line }));
      break;
    case 1: // antennae
      svg.append(s("path", { d: "M42 30 L34 10", fill: "none", ...line }));
      svg.append(s("path", { d: "M58 30 L66 10", fill: "none", ...line }));
      svg.append(s("circle", { cx: 34, cy: 10, r: 5, fill: light, ...line }));
      svg.append(s("circle", { cx: 66, cy: 10, r: 5, fill: light, ...line }));
      break;
    case 2: // round ears
      svg.append(s("circle", { cx: 24, cy: 36, r: 11, fill: body, ...line }));
      svg.append(s("circle", { cx: 76, cy: 36, r: 11, fill: body, ...line }));
      break;
    default:
      break;
  }
  const skin = { fill: body, ...line };
  switch (pick(4)) {
    case 0:
      svg.append(s("circle", { cx: 50, cy: 58, r: 32, ...skin }));
      break;
    case 1:
      svg.append(s("rect", { x: 20, y: 26, width: 60, height: 64, rx: 24, ...skin }));
      break;
    case 2:
      svg.append(
        s("path", {
          d: "M20 88 V52 A30 30 0 0 1 80 52 V88 L70 80 L60 88 L50 80 L40 88 L30 80 Z",
          ...skin,
          "stroke-linejoin": "round",
        }),
      );
      break;
    default:
      svg.append(s("ellipse", { cx: 50, cy: 60, rx: 34, ry: 30, ...skin }));
  }
  svg.append(s("ellipse", { cx: 50, cy: 76, rx: 14, ry: 8, fill: light, opacity: 0.7 }));
  for (let i = pick(4); i > 0; i--) {
    const side = i % 2 ? 1 : -1;
    svg.append(
      s("circle", { cx: 50 + side * (18 + pick(8)), cy: 58 + pick(20), r: 2 + pick(3), fill: light }),
    );
  }
  const eyes = [[[50, 46, 11]], [[38, 46, 8], [62, 46, 8]], [[34, 48, 6.5], [50, 40, 6.5], [66, 48, 6.5]]][
    [0, 1, 1, 2][pick(4)]
  ];
  const look = (rnd() - 0.5) * 0.6;
  for (const [cx, cy, r] of eyes) {
    svg.append(s("circle", { cx, cy, r, fill: "#fff", stroke: dark, "stroke-width": 2 }));
    svg.append(s("circle", { cx: cx + look * r, cy: cy + r * 0.15, r: r * 0.45, fill: "#222" }));
    svg.append(s("circle", { cx: cx + look * r - r * 0.15, cy: cy - r * 0.1, r: r * 0.14, fill: "#fff" }));
  }
  switch (pick(3)) {
    case 0:
      svg.append(s("path", { d: "M38 64 Q50 76 62 64", fill: "none", ...line }));
      break;
    case 1:
      svg.append(s("ellipse", { cx: 50, cy: 67, rx: 8, ry: 6, fill: dark }));
      svg.append(s("ellipse", { cx: 50, cy: 70, rx: 5, ry: 2.5, fill: "#f28ba8" }));
      break;
    default:
      svg.append(s("path", { d: "M36 63 Q50 78 64 63 Z", fill: dark, "stroke-linejoin": "round" }));
      svg.append(s("path", { d: "M42 63.5 L46 63.5 L44 68 Z", fill: "#fff" }));
      svg.append(s("path", { d: "M54 63.5 L58 63.5 L56 68 Z", fill: "#fff" }));
  }
  return svg;
}

/** A friendly empty list item: a monster (always the same one for the same words) and the words. */
export function emptyState(text) {
  return h("li", { class: "empty-state" }, monster(text), h("p", { text }));
}

export function pictureButton(pupilId, avatar, name, onClick) {
  return h(
    "li",
    null,
    h(
      "button",
      { type: "button", class: "picture", dataset: { pupil: pupilId }, onclick: onClick },
      monster(avatar || pupilId),
      h("span", { class: "picture-name", text: name }),
    ),
  );
}

/** A few friendly monsters to choose from (with the current one first), saved as the avatar. */
export function monsterChooser(pupilId, current, saved) {
  let mine = current;
  const options = h("div", { class: "monster-options" });
  const save = h("button", { type: "submit", text: "Save my monster" });
  const deal = () => {
    const seeds = [mine, ...Array.from({ length: 5 }, () => `m-${randomHex(5)}`)];
    fill(options,
      ...seeds.map((seed, i) => {
        const id = uid("monster");
        return h(
          "div",
          { class: "monster-option" },
          h("input", { type: "radio", name: "monster", id, value: seed, checked: i === 0 }),
          h("label", { for: id }, monster(seed), h("span", { text: i === 0 ? "My monster now" : `Monster ${i}` })),
        );
      }),
    );
  };
  deal();
  const other = h("button", { type: "button", class: "secondary", text: "Show me other monsters", onclick: deal });
  const form = h(
    "form",
    { class: "monster-form" },
    h("fieldset", null, h("legend", { text: "Choose your monster" }), options),
    h("div", { class: "row" }, save, other),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const seed = form.querySelector("input[name=monster]:checked")?.value;
    if (!seed || seed === mine) {
      say("That is your monster already.");
      return;
    }
    working(save, "Saving…", async () => {
      await api("PUT", roster(`/pupils/${encodeURIComponent(pupilId)}/avatar`), { avatar: seed });
      mine = seed;
      saved(seed);
      deal();
      say("Your new monster is saved!");
    });
  });
  return h("details", { class: "monster-details" }, h("summary", { text: "Change my monster" }), form);
}
