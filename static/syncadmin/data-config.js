// Data configuration page: rows added and removed in the browser, pickers, toggles.
// The server validates everything again on save; this only shapes the form.
const syncadminConfig = (() => {
  const form = document.querySelector("#entity-form, #opportunity-form");

  function nextIndex() {
    const next = Number(form.dataset.nextIndex || 0);
    form.dataset.nextIndex = String(next + 1);
    return next;
  }

  function direction() {
    const checked = form.querySelector("input[name=direction]:checked");
    return checked ? checked.value : "bidirectional";
  }

  function showFieldDirections() {
    // Field-level direction exists only when the entity syncs both ways (S-3.3).
    const both = direction() === "bidirectional";
    form.querySelectorAll(".field-direction").forEach((cell) => {
      cell.hidden = !both;
      cell.querySelectorAll("select").forEach((select) => { select.disabled = !both; });
    });
    // Settings that matter only for some directions (the conflict rule, the deletion policy)
    // are hidden otherwise, but keep their value and are still posted.
    form.querySelectorAll("[data-shown-for]").forEach((element) => {
      element.hidden = !element.dataset.shownFor.split(" ").includes(direction());
    });
  }

  // Unsaved changes: leaving the page (another tab, a link, a reload) asks first. A page shown
  // again with problems holds what was not saved yet.
  let unsaved = form.dataset.unsaved === "1";
  const changed = () => { unsaved = true; };
  form.addEventListener("input", changed);
  form.addEventListener("change", changed);
  document.body.addEventListener("htmx:afterSwap", (event) => {
    if (form.contains(event.detail.target)) changed();
  });
  form.addEventListener("submit", (event) => {
    if (!event.defaultPrevented) unsaved = false;
  });
  window.addEventListener("beforeunload", (event) => {
    if (!unsaved) return;
    event.preventDefault();
    event.returnValue = "";  // browsers show their own words, never a page's
  });

  form.addEventListener("click", (event) => {
    const remove = event.target.closest("[data-remove-row]");
    if (remove) {
      remove.closest("tr").remove();
      changed();
    }
  });

  // Option pairs: the summary counts the values paired and those left unpaired (not synced).
  form.addEventListener("change", (event) => {
    if (!event.target.matches("[data-option-pair]")) return;
    const pairs = event.target.closest("[data-option-pairs]");
    const selects = [...pairs.querySelectorAll("[data-option-pair]")];
    const unpaired = selects.filter((select) => select.value === "").length;
    // The words come translated from the template (data-paired-text, data-unpaired-text).
    const summary = pairs.querySelector("[data-pair-summary]");
    const words = (text, count) => text.replace("{count}", count);
    summary.textContent = words(summary.dataset.pairedText, selects.length - unpaired) +
      (unpaired ? `, ${words(summary.dataset.unpairedText, unpaired)}` : "");
  });

  form.querySelectorAll("input[name=selection]").forEach((radio) => radio.addEventListener("change", () => {
    document.getElementById("criteria").hidden = form.querySelector("input[name=selection]:checked").value !== "criteria";
  }));
  form.querySelectorAll("input[name=direction]").forEach((radio) => radio.addEventListener("change", showFieldDirections));
  document.body.addEventListener("htmx:afterSwap", showFieldDirections);
  if (form.id === "entity-form") showFieldDirections();

  const customFields = document.getElementById("custom-fields-enabled");
  if (customFields && !customFields.disabled) {
    customFields.addEventListener("change", () => {
      document.getElementById("permanent-warning").hidden = !customFields.checked;
      document.getElementById("opportunity-fields").hidden = !customFields.checked;
    });
    form.addEventListener("submit", (event) => {
      if (form.dataset.confirmPermanent === "1" && customFields.checked &&
          !window.confirm(form.dataset.confirmPermanentText)) {
        event.preventDefault();
      }
    });
  }

  // Pickers: a searchable list of checkboxes; "Add" fetches one row per checked field.
  document.querySelectorAll(".modal").forEach((modal) => {
    const search = modal.querySelector("[data-picker-search]");
    const items = modal.querySelectorAll("[data-picker-list] [data-label]");
    if (search) search.addEventListener("input", () => {
      const words = search.value.trim().toLowerCase();
      items.forEach((item) => { item.hidden = words !== "" && !item.dataset.label.includes(words); });
    });
    const add = modal.querySelector("[data-picker-add]");
    if (!add) return;
    add.addEventListener("click", () => {
      const picked = [...modal.querySelectorAll("[data-picker-list] input:checked")];
      if (picked.length === 0) return;
      const params = new URLSearchParams();
      picked.forEach((input) => params.append(add.dataset.param, input.value));
      params.set("index", form.dataset.nextIndex || "0");
      form.dataset.nextIndex = String(Number(form.dataset.nextIndex || 0) + picked.length);
      params.set("entity_direction", direction());
      htmx.ajax("GET", `${add.dataset.url}?${params}`, {target: add.dataset.target, swap: "beforeend"});
      picked.forEach((input) => { input.checked = false; input.closest("[data-label]").remove(); });
      // Bootstrap ignores hide() while the opening fade still runs (a quick keyboard user
      // gets there first): then close it as soon as it is shown.
      const close = () => bootstrap.Modal.getOrCreateInstance(modal).hide();
      modal.addEventListener("shown.bs.modal", close, {once: true});
      modal.addEventListener("hidden.bs.modal", () => modal.removeEventListener("shown.bs.modal", close), {once: true});
      close();
    });
  });

  // Values computed as htmx sends a request (the Content-Security-Policy allows no eval, so no
  // hx-vals="js:…"): data-value-from-self="param" sends the element's value as param,
  // data-value-from-config="param:function …" the result of nextIndex() or direction().
  const computed = {nextIndex, direction};
  document.body.addEventListener("htmx:configRequest", (event) => {
    const element = event.detail.elt;
    if (element.dataset.valueFromSelf) event.detail.parameters[element.dataset.valueFromSelf] = element.value;
    for (const pair of (element.dataset.valueFromConfig || "").split(" ").filter(Boolean)) {
      const [param, name] = pair.split(":");
      event.detail.parameters[param] = computed[name]();
    }
  });

  return {nextIndex, direction};
})();
