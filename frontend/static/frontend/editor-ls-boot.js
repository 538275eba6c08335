/* Boots the Label Studio 1.23.2 editor (editor-ls/, taken from Label Studio's wheel by
 * scripts/fetch_editor_ls.sh) without Label Studio's application.
 *
 * Label Studio's pages load runtime.js, vendor.js and main.js (its app, chunk 792), and
 * the app loads the editor with Promise.all([502, 594, 288, 358].map(require.e)) then
 * require(41607), the module that assigns window.LabelStudio. The editor's chunks share
 * ~200 modules with main.js (React, mobx glue, the UI library), so main.js is loaded too,
 * but its entry (the app: router, API calls, service worker) is dropped here before the
 * runtime sees it. Order in _editor_assets.html (all `defer`, so they run in this order):
 *
 *   editor-ls/app-settings.js  the feature flags Label Studio's base.html would set
 *   editor-ls/main.js vendor.js 594.js 288.js 358.js   queue their chunks (no runtime yet)
 *   this file                  drops the app's entry, queues the boot below
 *   editor-ls/runtime.js       registers the queued chunks, runs the boot (publicPath is
 *                              runtime.js's own folder, for the audio chunks it loads later)
 *
 * The boot also does what the app's entry did for the editor's looks: it injects the
 * Tailwind stylesheet (module 97562) with style-loader (as the app's module does).
 * Module ids belong to this build; scripts/fetch_editor_ls.sh pins the wheel's hash.
 */
(function () {
  "use strict";
  var APP_CHUNK = 792;
  var EDITOR_MODULE = 41607;
  var queue = self.webpackChunklabelstudio = self.webpackChunklabelstudio || [];
  queue.forEach(function (chunk) {
    if (chunk[0].indexOf(APP_CHUNK) >= 0 && chunk.length > 2) chunk.length = 2; // no entry
  });
  // Label Studio's base.html defines window.exports for the bundle's UMD wrappers.
  if (!window.exports) window.exports = function () {};

  function fromModule(m) { return m && m.__esModule ? m.default : m; }

  queue.push([["labelhub-editor-boot"], {}, function (require) {
    try {
      fromModule(require(72591))(require(97562).A, {
        styleTagTransform: fromModule(require(73656)),
        setAttributes: fromModule(require(30855)),
        insert: fromModule(require(88128)).bind(null, "head"),
        domAPI: fromModule(require(1740)),
        insertStyleElement: fromModule(require(93051)),
      });
      require(EDITOR_MODULE);
    } catch (error) {
      window.console.error("The labeling editor (editor-ls) did not load:", error);
    }
  }]);
})();
