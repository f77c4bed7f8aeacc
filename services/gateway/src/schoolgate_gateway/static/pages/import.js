import { api, roster, schoolPupils, sleep } from "../core/api.js";
import { checkbox, field, fill, h, heading, radioGroup, section, uid } from "../core/dom.js";
import { say, warn, working } from "../core/messages.js";
import { state } from "../core/state.js";
import { countOf, listOf, sentence, slugOf } from "../core/words.js";

const IMPORT_DONE = new Set(["previewed", "done", "failed", "expired"]);

const SKIPPED_WORDS = {
  other_schools: (n) => `${countOf(n, "row")} of other schools ignored`,
  guardians: (n) => `${countOf(n, "guardian row")}: families join with invite letters`,
  deleted: (n) => `${countOf(n, "row")} marked as deleted in the file`,
  inactive: (n) => `${countOf(n, "row")} marked as inactive in the file`,
  lessons: (n) => `${countOf(n, "lesson class", "lesson classes")} ignored: pupils are placed in their form class`,
  other_roles: (n) => `${countOf(n, "row")} of other roles, such as administrators, ignored`,
  no_role: (n) => `${countOf(n, "person", "people")} with no role in the file ignored`,
};

const KEPT_WORDS = {
  requested_import: "you are doing this import",
  added_by_hand: "added by hand in Schoolgate, not from a file",
};

/** "12 pupils would join, 3 would move class, 11 pupils and 7 staff would leave". */
function importSummary(report, { would }) {
  const verb = (plain, past) => (would ? `would ${plain}` : past);
  const staff = report.staff || {};
  const parts = [];
  const joining = report.added ?? 0;
  const staffJoining = staff.added?.length ?? 0;
  if (joining || staffJoining) {
    const who = [joining ? countOf(joining, "pupil") : "", staffJoining ? `${staffJoining} staff` : ""];
    parts.push(`${listOf(who.filter(Boolean))} ${verb("join", "joined")}`);
  }
  // "12 pupils would join, 3 would move class": the pupils are named once
  if (report.moved) parts.push(`${joining ? report.moved : countOf(report.moved, "pupil")} ${verb("move class", "moved class")}`);
  const leaving = report.left ?? 0;
  const staffLeaving = staff.left?.length ?? 0;
  if (leaving || staffLeaving) {
    const who = [leaving ? countOf(leaving, "pupil") : "", staffLeaving ? `${staffLeaving} staff` : ""];
    parts.push(`${listOf(who.filter(Boolean))} ${verb("leave", "left")}`);
  }
  if (!parts.length) return would ? "Nothing would change." : "Nothing changed.";
  return sentence(parts.join(", "));
}

/** Rows of a roster file, each by its file and line, in a table named by `caption`. */
function fileLinesTable(caption, items, what) {
  const body = h("tbody");
  for (const item of items) {
    body.append(h("tr", null, h("td", { text: item.file || "" }), h("td", { text: String(item.line ?? "") }), h("td", { text: item.reason || item.message || "" })));
  }
  return h(
    "div",
    { class: "table-wrap" },
    h(
      "table",
      null,
      h("caption", { text: caption }),
      h("thead", null, h("tr", null, h("th", { scope: "col", text: "File" }), h("th", { scope: "col", text: "Line" }), h("th", { scope: "col", text: what }))),
      body,
    ),
  );
}

function warningsTable(report) {
  const warnings = report.warnings || [];
  if (!warnings.length) return null;
  const count = report.warnings_count ?? warnings.length;
  return [
    heading(3, "Lines to check in the file"),
    h("p", { text: count > warnings.length ? `The first ${warnings.length} of ${count} lines are listed. The rest of the file imports.` : "These lines were passed over or read with a guess. The rest of the file imports." }),
    fileLinesTable("Warnings", warnings, "What we found"),
  ];
}

export async function importView() {
  const file = h("input", { type: "file", accept: ".csv,.zip,text/csv,application/zip", required: true });
  const full = checkbox("This file lists everyone at the school: anyone missing from it has left");
  const terms = checkbox("Use this file's term dates for the school (only if it is your school's own file)");
  const grades = radioGroup("Names for new year groups", uid("grades"), [
    ["uk", "UK: Reception, Year 1, Year 2…"],
    ["us", "US: Kindergarten, Grade 1, Grade 2…"],
  ]);
  const button = h("button", { type: "submit", text: "Upload and check" });
  const form = h(
    "form",
    { class: "stack" },
    field("Roster file", {
      control: file,
      hint: "A OneRoster zip from your school's information system, or a CSV file with one pupil a row and these columns: pupil_id, first_name, surname, year_group, class.",
    }),
    full,
    terms,
    grades,
    h("p", { class: "hint", text: "Year groups you already have keep their names. Nothing changes until you have seen what the import would do and said yes." }),
    button,
  );
  const progressArea = h("div", { class: "progress-area" });
  const result = h("div");
  // What the leader chose, kept for uploading the same file again with their school picked.
  let upload = null;

  function showProgress(job) {
    const id = "import-progress";
    const bar = h("progress", { id, max: Math.max(job.total, 1) });
    if (job.total > 0) bar.value = job.processed;
    const words = job.status === "applying" ? "Importing" : "Checking the file";
    fill(progressArea,
      h("label", { for: id, text: `${words}: ${job.processed} of ${job.total} rows` }),
      bar,
    );
  }

  async function follow(job) {
    showProgress(job);
    const stop = job.status === "applying" ? new Set(["done", "failed", "expired"]) : IMPORT_DONE;
    while (!stop.has(job.status)) {
      await sleep(400);
      job = await api("GET", roster(`/imports/${encodeURIComponent(job.import_id)}`));
      showProgress(job);
    }
    progressArea.replaceChildren();
    return job;
  }

  async function check(org) {
    const params = new URLSearchParams({
      full: String(upload.wholeSchool),
      grade_names: upload.gradeNames,
      replace_terms: String(upload.replaceTerms),
    });
    if (org) params.set("org", org);
    let job;
    try {
      job = await api("POST", roster(`/imports?${params}`), upload.file, { contentType: upload.contentType });
    } catch (error) {
      // a file that cannot be a roster at all is refused at once, with its problems listed
      if (error.problem?.errors?.length) return showProblem(error.problem);
      throw error;
    }
    say("Uploaded. Checking the file now.");
    await show(await follow(job));
  }

  async function show(job) {
    if (job.status === "failed") return showProblem(job.problem || {});
    if (job.status === "previewed") return showPreview(job);
    if (job.status === "expired") {
      fill(result, heading(2, "Nothing was imported"), h("p", { text: "This check is more than a day old, so it was not imported. Upload the file again to check it as it is now." }));
      result.querySelector("h2").focus();
      warn("Nothing was imported: upload the file again.");
      return undefined;
    }
    return showDone(job);
  }

  function schoolChoice(problem, intro) {
    const schools = problem.schools || [];
    const name = uid("school");
    const choice = h("fieldset", { class: "stack" }, h("legend", { text: "Which of these is your school?" }));
    schools.forEach((s, i) => {
      const id = uid(name);
      choice.append(h("div", { class: "way" }, h("input", { type: "radio", name, id, value: s.source_id, checked: i === 0 }), h("label", { for: id, text: s.name || s.source_id })));
    });
    const pick = h("button", { type: "submit", text: "Check my school's rows" });
    const picker = h("form", { class: "stack" }, choice, pick);
    picker.addEventListener("submit", (event) => {
      event.preventDefault();
      const org = picker.querySelector("input:checked")?.value;
      if (!org) return;
      working(pick, "Checking…", () => check(org));
    });
    fill(result, heading(2, "Choose your school"), h("p", { text: intro }), schools.length ? picker : null);
    result.querySelector("h2").focus();
  }

  function showProblem(problem) {
    const slug = slugOf(problem);
    if (slug === "choose-school") {
      schoolChoice(problem, `This file lists ${countOf((problem.schools || []).length, "school")}. Nothing has changed yet: choose yours and only its rows are checked.`);
      say("This file lists several schools. Choose yours.");
      return;
    }
    if (slug === "wrong-school") {
      schoolChoice(problem, `${sentence(problem.detail || "This file is for another school")} Nothing was imported. If the file does list your school, choose it below.`);
      warn("This file does not look like your school's, so nothing was imported.");
      return;
    }
    const errors = problem.errors || [];
    fill(result,
      heading(2, "Nothing was imported"),
      h("p", { text: problem.detail || problem.title || "The file could not be imported." }),
      errors.length ? fileLinesTable("Problems in the file", errors, "Problem") : null,
      problem.errors_not_shown ? h("p", { text: `${countOf(problem.errors_not_shown, "more problem")} not listed here.` }) : null,
      h("p", { text: "Fix these lines in the file and upload it again." }),
    );
    result.querySelector("h2").focus();
    warn("The roster file has problems, so nothing was imported.");
  }

  /** Names for the source ids a report lists, from the school's own records. */
  async function namesBySource() {
    const [pupils, staff] = await Promise.all([
      schoolPupils().catch(() => []),
      api("GET", roster("/staff")).catch(() => []),
    ]);
    const pupilNames = new Map(pupils.filter((p) => p.source_id).map((p) => [p.source_id, `${p.first_name} ${p.surname}`]));
    const staffNames = new Map(staff.filter((s) => s.source_id).map((s) => [s.source_id, s.display_name]));
    const staffById = new Map(staff.map((s) => [s.staff_id, s.display_name]));
    return { pupilNames, staffNames, staffById };
  }

  async function showPreview(job) {
    const report = job.report || {};
    const staff = report.staff || {};
    const leavers = report.pupils?.left || [];
    const staffLeavers = staff.left || [];
    const names = await namesBySource();
    const named = (ids, map) => ids.map((id) => h("li", { text: map.get(id) ? `${map.get(id)} (${id})` : id }));
    const summary = importSummary(report, { would: true });
    const fileSchool = report.school?.name;

    const leaving = leavers.length || staffLeavers.length
      ? h(
          "div",
          { class: "notice", role: "group", "aria-labelledby": "import-leavers" },
          h("h3", { id: "import-leavers", tabindex: "-1", text: `${listOf([leavers.length ? countOf(leavers.length, "pupil") : "", staffLeavers.length ? `${staffLeavers.length} staff` : ""].filter(Boolean))} would be marked as left` }),
          h("p", { class: "notice-text", text: "They are not in this file. Once marked as left they can no longer be given points, and staff can no longer sign in." }),
          leavers.length ? [h("p", { text: "Pupils:" }), h("ul", null, named(leavers, names.pupilNames))] : null,
          staffLeavers.length ? [h("p", { text: "Staff:" }), h("ul", null, named(staffLeavers, names.staffNames))] : null,
        )
      : null;

    const kept = report.kept || [];
    const keptList = kept.length
      ? [
          heading(3, "Staff this import leaves in place"),
          h("p", { text: "They are not in the file, but the import does not mark them as left:" }),
          h("ul", null, kept.map((k) => {
            const name = names.staffNames.get(k.source_id) || names.staffById.get(k.staff_id) || k.display_name || k.source_id || "A member of staff";
            return h("li", { text: `${name}: ${KEPT_WORDS[k.reason] || k.reason}` });
          })),
        ]
      : null;

    const skipped = Object.entries(report.skipped || {}).filter(([, n]) => n > 0);
    const skippedList = skipped.length
      ? [
          heading(3, "Rows passed over"),
          h("ul", null, skipped.map(([why, n]) => h("li", { text: (SKIPPED_WORDS[why] || ((m) => `${countOf(m, "row")} passed over: ${why.replace(/_/g, " ")}`))(n) }))),
        ]
      : null;

    const apply = h("button", { type: "button", text: "Import these changes" });
    const cancel = h("button", { type: "button", class: "secondary", text: "Cancel" });
    apply.addEventListener("click", () => {
      working(apply, "Importing…", async () => {
        cancel.disabled = true;
        const started = await api("POST", roster(`/imports/${encodeURIComponent(job.import_id)}/apply`));
        say("Importing the changes now.");
        await show(await follow(started));
      }).finally(() => {
        if (cancel.isConnected) cancel.disabled = false;
      });
    });
    cancel.addEventListener("click", () => {
      result.replaceChildren();
      file.focus();
      say("Cancelled. Nothing was imported.");
    });

    fill(result,
      heading(2, "Check before importing"),
      fileSchool ? h("p", { text: `The file's school: ${fileSchool}.` }) : null,
      h("p", { class: "import-summary", text: summary }),
      report.school?.details_changed ? h("p", { text: "The school's term dates would become the file's." }) : null,
      job.full ? h("p", { text: "You said this file lists everyone at the school." }) : h("p", { text: "Pupils and staff who are not in this file stay as they are." }),
      leaving,
      keptList,
      skippedList,
      warningsTable(report),
      h("p", { text: "Nothing has changed yet." }),
      h("div", { class: "row" }, apply, cancel),
    );
    result.querySelector("h2").focus();
    say(`Checked. ${summary} Nothing has changed yet.`);
  }

  function showDone(job) {
    const report = job.report || {};
    delete state.cache.pupils;
    delete state.cache.classes;
    delete state.cache["year-groups"];
    const table = h("table", null, h("caption", { text: "Pupils" }));
    const rows = h("tbody");
    for (const [key, label] of [["added", "Added"], ["moved", "Moved class"], ["renamed", "Name changed"], ["left", "Left"], ["unchanged", "Unchanged"]]) {
      rows.append(h("tr", null, h("th", { scope: "row", text: label }), h("td", { text: String(report[key] ?? 0) })));
    }
    table.append(rows);
    const staff = report.staff || {};
    const staffLine = [
      staff.added?.length ? `${staff.added.length} added` : "",
      staff.changed?.length ? `${staff.changed.length} changed` : "",
      staff.left?.length ? `${staff.left.length} left` : "",
    ].filter(Boolean).join(", ");
    fill(result,
      heading(2, "Import finished"),
      report.already_applied ? h("p", { text: "This file had already been imported, so nothing changed." }) : h("p", { text: importSummary(report, { would: false }) }),
      table,
      staffLine ? h("p", { text: `Staff: ${staffLine}.` }) : null,
      warningsTable(report),
      report.added ? h("p", null, h("a", { href: "#invites", text: "Make invite letters for the new pupils' families" })) : null,
    );
    result.querySelector("h2").focus();
    say(`Import finished: ${report.added ?? 0} added, ${report.moved ?? 0} moved, ${report.left ?? 0} left.`);
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const chosen = file.files[0];
    if (!chosen) return;
    const isZip = /\.zip$/i.test(chosen.name) || chosen.type.includes("zip");
    upload = {
      file: chosen,
      contentType: isZip ? "application/zip" : "text/csv",
      wholeSchool: full.querySelector("input").checked,
      replaceTerms: terms.querySelector("input").checked,
      gradeNames: grades.querySelector("input:checked")?.value || "uk",
    };
    result.replaceChildren();
    working(button, "Checking…", () => check(null)).finally(() => {
      if (!result.children.length) progressArea.replaceChildren();
    });
  });
  return section(
    "Import pupils",
    h("p", { text: "Bring your pupils, classes and staff in from a file. You see what it would change before anything changes." }),
    form,
    progressArea,
    result,
  );
}
