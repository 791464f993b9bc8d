// Settings page: after a successful Connect, the confirmation dialog opens by itself.
(() => {
  const dialog = document.getElementById("connected-dialog");
  if (dialog) new bootstrap.Modal(dialog).show();
})();
