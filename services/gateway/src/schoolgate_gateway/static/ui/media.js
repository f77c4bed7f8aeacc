// Photos, videos and PDFs: uploading, tagging who is in them, and showing them.
import { ApiError, mediaSrc, mediaUrl, storiesApi } from "../core/api.js";
import { checkbox, field, fill, h, uid } from "../core/dom.js";
import { failed, say, warn } from "../core/messages.js";
import { MEDIA_WORD } from "../core/words.js";

function mediaKindOf(file) {
  if (file.type.startsWith("video/")) return "video";
  if (file.type === "application/pdf" || /\.pdf$/i.test(file.name)) return "document";
  return "image";
}

/** Send one file to the stories service, telling `onProgress` how much has gone (0 to 1). */
function uploadMedia(file, onProgress, schoolId) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", storiesApi("/media", schoolId));
    xhr.setRequestHeader("accept", "application/json");
    xhr.setRequestHeader("content-type", file.type || "application/octet-stream");
    xhr.upload.addEventListener("progress", (event) => {
      if (event.lengthComputable) onProgress(event.loaded / event.total);
    });
    xhr.addEventListener("load", () => {
      let data = null;
      try {
        data = xhr.responseText ? JSON.parse(xhr.responseText) : null;
      } catch {
        data = null;
      }
      if (xhr.status >= 200 && xhr.status < 300) resolve(data || {});
      else reject(new ApiError(data || {}, xhr.status));
    });
    xhr.addEventListener("error", () =>
      reject(new ApiError({ detail: "We could not reach Schoolgate. Check your internet connection and try again." }, 0)),
    );
    xhr.send(file);
  });
}

/** Photos, videos and PDFs to look at: small pictures for staff, bigger ones for families. */
export function gallery(attachments, { schoolId, size = "thumb" } = {}) {
  const items = (attachments || []).filter((a) => a && (a.media_id || a.url));
  if (!items.length) return null;
  const list = h("ul", { class: `gallery ${size}` });
  for (const a of items) {
    const kind = a.kind || "image";
    const full = mediaSrc(a, "full", schoolId);
    const small = mediaSrc(a, "thumb", schoolId);
    const alt = a.alt_text || (kind === "image" ? "A photo from school" : "");
    let node;
    if (kind === "video") {
      node = h("video", { src: full, controls: true, preload: "metadata", playsinline: true, "aria-label": alt || "A video from school" });
    } else if (kind === "document") {
      node = h("a", { class: "file-link", href: full, target: "_blank", rel: "noopener", text: `Open the PDF${alt ? `: ${alt}` : ""} (opens in a new tab)` });
    } else {
      node = h("img", { src: size === "thumb" ? small : full, alt, loading: "lazy", decoding: "async" });
    }
    const hidden = a.hidden ? h("p", { class: "hidden-note", text: "Families do not see this: a child in it has no photo consent." }) : null;
    list.append(h("li", { class: hidden ? "hidden-media" : null }, node, hidden));
  }
  return list;
}

/**
 * The files on a story or a piece of work. Each file is sent as soon as it is chosen, with a
 * progress bar; then it shows a preview, a box to describe it for people who cannot see it
 * and, when `tagging`, which pupils are in it.
 */
export function attachmentsEditor({ initial = [], tagging = true, label, hint, accept, multiple = true, schoolId } = {}) {
  const entries = [];
  let pupils = [];
  let counter = 0;
  const list = h("ul", { class: "attachments" });
  const input = h("input", { type: "file", accept: accept || "image/*,video/*,application/pdf,.pdf", multiple });
  const picker = field(label || "Add photos, a short video or a PDF", {
    control: input,
    hint: hint || "Photos are made smaller and their hidden details, such as where they were taken, are removed.",
  });
  input.addEventListener("change", () => {
    for (const file of [...input.files]) addFile(file);
    input.value = "";
  });

  // One tap per photo: a pupil's name, or "no child can be recognised". The service refuses
  // a photo that says neither, so a forgotten tag cannot slip a child past consent.
  function tagsFor(entry) {
    if (!tagging || entry.kind === "document") return null;
    const word = `${MEDIA_WORD[entry.kind]} ${entry.n}`;
    const known = new Set(pupils.map((p) => p.pupil_id));
    const everyone = [...pupils, ...[...entry.tags].filter((id) => !known.has(id)).map((id) => ({ pupil_id: id, name: id }))];
    const set = h("fieldset", { class: "tags" }, h("legend", { text: `Who is in ${word}?` }));
    entry.tagBox = set;
    const names = [];
    const nobody = checkbox("No child can be recognised", {
      checked: entry.nobody,
      onchange: (event) => {
        entry.nobody = event.currentTarget.checked;
        if (!entry.nobody) return;
        entry.tags.clear();
        for (const box of names) box.checked = false;
      },
    });
    set.append(nobody);
    if (!everyone.length) set.append(h("p", { class: "hint", text: "Choose who will see the story first to name the children in it." }));
    for (const pupil of everyone) {
      const choice = checkbox(pupil.name, {
        value: pupil.pupil_id,
        checked: entry.tags.has(pupil.pupil_id),
        onchange: (event) => {
          if (event.currentTarget.checked) {
            entry.tags.add(pupil.pupil_id);
            entry.nobody = false;
            nobody.querySelector("input").checked = false;
          } else entry.tags.delete(pupil.pupil_id);
        },
      });
      names.push(choice.querySelector("input"));
      set.append(choice);
    }
    return set;
  }

  function draw(entry) {
    const word = `${MEDIA_WORD[entry.kind]} ${entry.n}`;
    let preview;
    if (entry.kind === "image" && (entry.preview || entry.media_id)) {
      preview = h("img", { src: entry.preview || mediaUrl(entry.media_id, "thumb", schoolId), alt: `Preview of ${word}` });
    } else {
      preview = h("span", { class: "file-badge", "aria-hidden": "true", text: entry.kind === "video" ? "▶" : "PDF" });
    }
    const parts = [h("p", { class: "attachment-name", text: entry.file ? `${word[0].toUpperCase()}${word.slice(1)}: ${entry.file.name}` : `${word[0].toUpperCase()}${word.slice(1)}` })];
    if (entry.status === "uploading") {
      const id = uid("upload");
      entry.bar = h("progress", { id, max: 100, value: Math.round(entry.progress * 100) });
      entry.barLabel = h("label", { for: id, text: `Sending ${word}: ${Math.round(entry.progress * 100)}%` });
      parts.push(h("div", { class: "progress-area" }, entry.barLabel, entry.bar));
    } else if (entry.status === "failed") {
      parts.push(h("p", { class: "notice-text", text: `${word[0].toUpperCase()}${word.slice(1)} was not added. ${entry.error}` }));
    } else {
      const alt = h("textarea", { rows: 2, maxlength: 500, value: entry.alt });
      alt.addEventListener("input", () => {
        entry.alt = alt.value;
      });
      parts.push(
        field(`Describe ${word}`, {
          control: alt,
          hint: entry.kind === "document" ? "What is in it, for example “Letter about the school trip”." : "For people who cannot see it, for example “Children planting seeds in the garden”.",
        }),
        tagsFor(entry),
      );
    }
    parts.push(
      h("button", {
        type: "button",
        class: "secondary small",
        text: "Remove",
        "aria-label": `Remove ${word}`,
        onclick: () => remove(entry),
      }),
    );
    fill(entry.node, h("div", { class: "attachment-preview" }, preview), h("div", { class: "attachment-body" }, ...parts));
  }

  function remove(entry) {
    entries.splice(entries.indexOf(entry), 1);
    entry.node.remove();
    if (entry.preview) URL.revokeObjectURL(entry.preview);
    say(`${MEDIA_WORD[entry.kind]} ${entry.n} removed.`);
    input.focus();
  }

  function make(values) {
    const entry = { n: ++counter, alt: "", tags: new Set(), nobody: false, status: "ready", progress: 0, node: h("li", { class: "attachment" }), ...values };
    entries.push(entry);
    list.append(entry.node);
    draw(entry);
    return entry;
  }

  async function addFile(file) {
    const kind = mediaKindOf(file);
    const entry = make({
      file,
      kind,
      status: "uploading",
      preview: kind === "image" && file.type.startsWith("image/") ? URL.createObjectURL(file) : null,
    });
    say(`Sending ${MEDIA_WORD[kind]} ${entry.n}…`);
    let lastShown = -1;
    try {
      const stored = await uploadMedia(
        file,
        (share) => {
          entry.progress = share;
          const percent = Math.round(share * 100);
          if (entry.bar && percent !== lastShown) {
            lastShown = percent;
            entry.bar.value = percent;
            entry.barLabel.textContent = `Sending ${MEDIA_WORD[entry.kind]} ${entry.n}: ${percent}%`;
          }
        },
        schoolId,
      );
      entry.media_id = stored.media_id;
      entry.kind = stored.kind || kind;
      entry.status = "ready";
      draw(entry);
      say(`${MEDIA_WORD[entry.kind][0].toUpperCase()}${MEDIA_WORD[entry.kind].slice(1)} ${entry.n} is ready. Describe it below.`);
    } catch (error) {
      if (error.status === 401) {
        failed(error);
        return;
      }
      entry.status = "failed";
      entry.error = error.message;
      draw(entry);
      warn(`${file.name} was not added. ${error.message}`);
    }
  }

  const keep = (list) => {
    for (const a of list) {
      make({
        media_id: a.media_id,
        kind: a.kind || "image",
        alt: a.alt_text || "",
        tags: new Set(a.tagged_pupil_ids || []),
        nobody: Boolean(a.no_child_recognisable),
      });
    }
  };
  keep(initial);

  return {
    node: h("div", { class: "attachments-editor" }, picker, list),
    input,
    addFile,
    busy: () => entries.some((e) => e.status === "uploading"),
    values: () =>
      entries
        .filter((e) => e.status === "ready" && e.media_id)
        .map((e) => ({
          media_id: e.media_id,
          kind: e.kind,
          alt_text: e.alt.trim(),
          tagged_pupil_ids: tagging ? [...e.tags] : [],
          no_child_recognisable: tagging && e.kind !== "document" && e.nobody && !e.tags.size,
        })),
    /** Warn about the first photo or video that does not say who is in it; true if one does not. */
    unsaid() {
      if (!tagging) return false;
      const first = entries.find((e) => e.status === "ready" && e.kind !== "document" && !e.nobody && !e.tags.size);
      if (!first) return false;
      warn(`Say who is in ${MEDIA_WORD[first.kind]} ${first.n}: tick the children in it, or “No child can be recognised”.`);
      first.tagBox?.querySelector("input")?.focus();
      return true;
    },
    setPupils(list) {
      pupils = list;
      const allowed = new Set(list.map((p) => p.pupil_id));
      for (const entry of entries) {
        for (const id of [...entry.tags]) if (!allowed.has(id)) entry.tags.delete(id);
        if (entry.status === "ready") draw(entry);
      }
    },
    clear() {
      for (const entry of entries) if (entry.preview) URL.revokeObjectURL(entry.preview);
      entries.length = 0;
      list.replaceChildren();
    },
    /** Start again from files already sent, such as those of work handed back. */
    reset(attachments) {
      this.clear();
      keep(attachments || []);
    },
  };
}
