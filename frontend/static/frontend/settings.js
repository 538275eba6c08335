/* Settings: the side menu marks the section in view; Delete project is enabled once
 * the title is typed (the server checks it again). */
(function () {
  "use strict";
  var confirmInput = document.querySelector("[data-delete-confirm]");
  if (confirmInput) {
    var deleteButton = document.querySelector("[data-delete-project]");
    var sync = function () {
      deleteButton.disabled = confirmInput.value.trim() !== confirmInput.getAttribute("data-title").trim();
    };
    confirmInput.addEventListener("input", sync);
    sync();
  }
  var links = Array.prototype.slice.call(document.querySelectorAll(".side-menu a[href^='#']"));
  if (!links.length || !("IntersectionObserver" in window)) return;
  function mark(id) {
    links.forEach(function (link) {
      var on = link.getAttribute("href") === "#" + id;
      link.classList.toggle("active", on);
      if (on) link.setAttribute("aria-current", "true"); else link.removeAttribute("aria-current");
    });
  }
  var observer = new IntersectionObserver(function (entries) {
    entries.forEach(function (entry) { if (entry.isIntersecting) mark(entry.target.id); });
  }, { rootMargin: "-10% 0px -60% 0px" });
  links.forEach(function (link) {
    var section = document.getElementById(link.getAttribute("href").slice(1));
    if (section) observer.observe(section);
  });
})();
