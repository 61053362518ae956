// Safe viewing: click blurred media (or a Reveal button) to show it; click again to blur it again.
// Videos stay muted even if the user un-mutes them in the player.
"use strict";
document.addEventListener("click", function (event) {
  var target = event.target;
  if (!(target instanceof Element)) return;
  if (target.classList.contains("safe")) {
    if (target.tagName === "VIDEO" && target.classList.contains("revealed")) return; // let controls work
    event.preventDefault();
    target.classList.toggle("revealed");
    return;
  }
  if (target.classList.contains("reveal")) {
    document.querySelectorAll(target.getAttribute("data-target") || ".safe").forEach(function (el) {
      el.classList.toggle("revealed");
    });
  }
});
document.addEventListener("volumechange", function (event) {
  var video = event.target;
  if (video instanceof HTMLVideoElement && !video.muted) video.muted = true;
}, true);
