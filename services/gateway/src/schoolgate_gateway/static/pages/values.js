import { api, roster } from "../core/api.js";
import { field, fill, h, heading, section, uid } from "../core/dom.js";
import { working } from "../core/messages.js";
import { lookChoices, redrawSaying, valueBadge } from "../ui/school.js";

const wayPath = (way, action = "") => roster(`/school-ways/${encodeURIComponent(way.school_way_id)}${action}`);

/** The fields of a value: its name, what it means, its icon and colour. */
function valueForm(current, buttonText, save) {
  const name = h("input", { type: "text", required: true, maxlength: 100, value: current.name || "" });
  const about = h("textarea", { maxlength: 500, rows: 2 });
  about.value = current.description || "";
  const looks = lookChoices(current);
  const button = h("button", { type: "submit", text: buttonText });
  const form = h("form", { class: "stack" },
    field("Name", { control: name, hint: "One or two words children know, e.g. Kindness." }),
    field("What it means (optional)", { control: about }),
    looks.icons,
    looks.colours,
    button);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    working(button, "Saving…", () => save({ name: name.value.trim(), description: about.value.trim(), ...looks.value() }));
  });
  return form;
}

/** Leaders: the school's values that points are given for. */
export async function valuesView() {
  const body = h("div", { class: "stack" });

  const saved = (words) => redrawSaying(draw, words);

  async function draw() {
    const ways = (await api("GET", roster("/school-ways"))).filter((w) => w.status === "active");
    const cards = ways.map((way) => {
      const titleId = uid("value");
      const change = h("details", null,
        h("summary", { text: `Change ${way.name}` }),
        valueForm(way, "Save changes", async (changed) => {
          await api("PUT", wayPath(way), changed);
          await saved(`${changed.name} is saved.`);
        }));
      const retire = h("button", { type: "button", class: "secondary", text: `Stop using ${way.name}` });
      retire.addEventListener("click", () =>
        working(retire, "Saving…", async () => {
          await api("POST", wayPath(way, "/retire"));
          await saved(`${way.name} is no longer used for new points. Points given for it stay.`);
        }));
      return h("article", { class: "card", "aria-labelledby": titleId },
        h("h3", { id: titleId }, valueBadge(way)),
        way.description ? h("p", { text: way.description }) : null,
        change,
        retire);
    });
    fill(body,
      cards.length ? h("div", { class: "cards" }, cards) : h("p", { text: "No values yet: add the first one below." }),
      heading(2, "Add a value"),
      valueForm({}, "Add value", async (value) => {
        await api("POST", roster("/school-ways"), value);
        await saved(`${value.name} is added. Staff can give points for it now.`);
      }),
    );
  }

  await draw();
  return section(
    "Our values",
    h("p", { text: "The values your school gives points for, such as kindness or courage. Each can have an icon and a colour that staff and families see." }),
    body,
  );
}
