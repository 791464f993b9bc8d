// User management: picking a suggestion fills the hidden fields of the Add form; removing
// someone asks first.
(() => {
  const suggestions = document.getElementById("suggestions");
  if (suggestions) {
    suggestions.addEventListener("click", (event) => {
      const button = event.target.closest("[data-pick]");
      if (!button) return;
      const form = document.getElementById("add-user-form");
      for (const field of ["source", "key", "name", "email"]) {
        form.elements[field].value = button.dataset[field] || "";
      }
      document.getElementById("picked-name").textContent = button.dataset.name;
      document.getElementById("picked-email").textContent = button.dataset.email;
      document.getElementById("picked").hidden = false;
      document.getElementById("add-user-button").disabled = false;
      suggestions.replaceChildren();
      // The picked button is gone with the list: the keyboard goes on from the role, not the top.
      document.getElementById("add-role").focus();
    });
  }
  document.querySelectorAll("form[data-confirm]").forEach((form) => {
    form.addEventListener("submit", (event) => {
      if (!window.confirm(form.dataset.confirm)) event.preventDefault();
    });
  });
})();
