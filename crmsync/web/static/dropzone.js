// A drop zone around a file input: a file dropped anywhere on the zone becomes the
// input's file. Without script the plain file input works as it is.
(function () {
  "use strict";
  function wire(zone) {
    var input = zone.querySelector("input[type=file]");
    var hint = zone.querySelector("[data-dropzone-hint]");
    if (!input) return;
    zone.classList.add("dropzone-ready");
    if (hint) hint.hidden = false;
    function over(event) {
      event.preventDefault();
      zone.classList.add("dropzone-over");
    }
    zone.addEventListener("dragenter", over);
    zone.addEventListener("dragover", over);
    zone.addEventListener("dragleave", function () {
      zone.classList.remove("dropzone-over");
    });
    zone.addEventListener("drop", function (event) {
      event.preventDefault();
      zone.classList.remove("dropzone-over");
      var files = event.dataTransfer && event.dataTransfer.files;
      if (!files || !files.length) return;
      var chosen = new DataTransfer();
      chosen.items.add(files[0]);
      input.files = chosen.files;
      input.dispatchEvent(new Event("change", { bubbles: true }));
    });
    input.addEventListener("change", function () {
      if (hint && input.files && input.files.length) {
        hint.textContent = "Chosen: " + input.files[0].name;
      }
    });
  }
  document.querySelectorAll("[data-dropzone]").forEach(wire);
})();
