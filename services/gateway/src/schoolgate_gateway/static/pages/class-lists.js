import { api, roster } from "../core/api.js";
import { field, fill, h, heading, section } from "../core/dom.js";
import { say, working } from "../core/messages.js";
import { state } from "../core/state.js";
import { countOf } from "../core/words.js";
import { refreshMe } from "../ui/school.js";

/** Leaders: each class's pupils, and a pupil added by hand (a roster import adds many). */
export async function classListsView() {
  const body = h("div", { class: "stack" });

  async function draw() {
    const [classes, pupils] = await Promise.all([api("GET", roster("/classes")), api("GET", roster("/pupils"))]);
    classes.sort((a, b) => a.name.localeCompare(b.name, "en-GB", { numeric: true }));
    const lists = classes.map((c) => {
      const mine = pupils.filter((p) => p.class_id === c.class_id).sort((a, b) => `${a.surname} ${a.first_name}`.localeCompare(`${b.surname} ${b.first_name}`));
      return h("div", { class: "table-wrap" },
        h("table", null,
          h("caption", { text: `${c.name}: ${countOf(mine.length, "pupil")}` }),
          h("thead", null, h("tr", null, h("th", { scope: "col", text: "First name" }), h("th", { scope: "col", text: "Surname" }))),
          h("tbody", null, mine.map((p) => h("tr", null, h("td", { text: p.first_name }), h("td", { text: p.surname }))))));
    });

    if (!classes.length) {
      fill(body, h("p", null, "The school has no classes yet. ", h("a", { href: "#classes", text: "Add a year group and a class" }), " first, or import your roster."));
      return;
    }
    const first = h("input", { type: "text", required: true, maxlength: 100, autocomplete: "off" });
    const surname = h("input", { type: "text", required: true, maxlength: 100, autocomplete: "off" });
    const klass = h("select", { required: true }, classes.map((c) => h("option", { value: c.class_id, text: c.name })));
    const add = h("button", { type: "submit", text: "Add pupil" });
    const form = h("form", { class: "stack" },
      field("First name", { control: first }),
      field("Surname", { control: surname }),
      field("Class", { control: klass }),
      add);
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      working(add, "Adding…", async () => {
        const pupil = await api("POST", roster("/pupils"), { first_name: first.value.trim(), surname: surname.value.trim(), class_id: klass.value });
        await refreshMe();
        delete state.cache.pupils;
        await draw();
        say(`${pupil.first_name} ${pupil.surname} is in ${classes.find((c) => c.class_id === pupil.class_id)?.name}.`);
      });
    });
    fill(body, heading(2, "Add a pupil"), form, heading(2, "Classes"), lists);
  }

  await draw();
  return section(
    "Class lists",
    h("p", { text: "The pupils of each class. To bring in many at once, use Import pupils; here you add one at a time." }),
    body,
  );
}
