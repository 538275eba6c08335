#!/usr/bin/env bash
# The labeling editor of Label Studio 1.23.2 (Apache-2.0), taken out of Label Studio's own
# PyPI wheel: only the editor's files of web/dist/apps/labelstudio/ (the webpack runtime,
# the app chunk whose modules the editor shares, and the editor's chunks, styles, audio
# worker and WebAssembly decoder) and the two Figtree fonts its styles name, and Label Studio's LICENSE and NOTICE, into
# frontend/static/editor-ls/VERSION/, each with a gzip copy (scripts/gzip_static.sh). The
# wheel is verified against the sha256 pinned below. The version in the folder's name
# makes every URL of the editor (the lazy chunks and fonts too) change with it, so
# the files are served as immutable (WHITENOISE_IMMUTABLE_FILE_TEST in settings).
# LabelHub's pages load these files without running Label Studio's application (see
# frontend/static/frontend/editor-ls-boot.js); nothing here is committed (.gitignore).
#
#   scripts/fetch_editor_ls.sh
#
# Overrides (for upgrades; change all of them together with LABELHUB_EDITOR_FILES in
# labelhub/settings.py, and check the module ids in editor-ls-boot.js against the new build):
#   EDITOR_LS_VERSION   default 1.23.2
#   EDITOR_LS_SHA256    default the pinned sha256 of label_studio-1.23.2-py3-none-any.whl
#   PYTHON              the interpreter whose pip downloads the wheel (default: .venv's, else python3)
#
# Idempotent: does nothing when every file is there and the stamp matches the pin and the
# files' own hashes (an edited or truncated file is installed again). The wheel (74 MB) is
# kept in .cache/editor-ls/ so that a re-install needs no download.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VERSION="${EDITOR_LS_VERSION:-1.23.2}"
SHA256="${EDITOR_LS_SHA256:-c575b2552d0b271554224c5e56ab2ce9449c6e62a0b4851bc8c706d8fe651137}"
DEST="$ROOT/frontend/static/editor-ls/$VERSION"
CACHE="$ROOT/.cache/editor-ls"
WHEEL="$CACHE/label_studio-$VERSION-py3-none-any.whl"
STAMP="$DEST/.editor-ls-stamp"

log() { printf 'fetch_editor_ls: %s\n' "$*" >&2; }
die() { printf 'fetch_editor_ls: ERROR: %s\n' "$*" >&2; exit 1; }

if [[ -z "${PYTHON:-}" ]]; then
  if [[ -x "$ROOT/.venv/bin/python" ]]; then PYTHON="$ROOT/.venv/bin/python"; else PYTHON=python3; fi
fi
command -v "$PYTHON" >/dev/null 2>&1 || die "$PYTHON not found"

# The wheel's members (under web/dist/apps/labelstudio/) that the editor needs:
#   runtime.js   webpack's runtime (chunk loading, publicPath from its own URL)
#   main.js      Label Studio's app chunk: its entry is never run, but ~200 of its modules
#                (React, mobx-state-tree glue, the shared UI library) are the editor's
#   vendor.js 594.js 288.js 358.js   the chunks Label Studio's own pages load for the
#                editor (Promise.all([502, 594, 288, 358]) then module 41607, which sets
#                window.LabelStudio)
#   710.js 943.js 779.js 99.js 559.js decode-audio.wasm   loaded on demand by audio
#                (WebAssembly decoder, FFT for spectrograms, its worker)
#   main.css 358.css   the shared design tokens and the editor's styles
#   *.LICENSE.txt 3rdpartylicenses.txt   the bundled libraries' licences
# and app-settings.js, made here: the feature flags Label Studio's pages give the editor.
MEMBERS=(runtime.js main.js vendor.js 594.js 288.js 358.js 710.js 943.js 779.js 99.js 559.js
  decode-audio.wasm main.css 358.css main.js.LICENSE.txt vendor.js.LICENSE.txt
  594.js.LICENSE.txt 288.js.LICENSE.txt 3rdpartylicenses.txt)
FONTS=(Figtree-Regular.ttf Figtree-SemiBold.ttf)

sha256_of() { "$PYTHON" -c 'import hashlib,sys
h=hashlib.sha256()
with open(sys.argv[1],"rb") as fh:
    for b in iter(lambda: fh.read(1<<20), b""): h.update(b)
print(h.hexdigest())' "$1"; }

stamp_text() {
  printf 'label-studio==%s sha256:%s\n' "$VERSION" "$SHA256"
  for m in "${MEMBERS[@]}" LICENSE NOTICE app-settings.js; do printf '%s %s\n' "$m" "$(sha256_of "$DEST/$m")"; done
  for f in "${FONTS[@]}"; do printf 'fonts/%s %s\n' "$f" "$(sha256_of "$DEST/fonts/$f")"; done
}

installed() {
  for m in "${MEMBERS[@]}" LICENSE NOTICE app-settings.js; do [[ -f "$DEST/$m" ]] || return 1; done
  for f in "${FONTS[@]}"; do [[ -f "$DEST/fonts/$f" ]] || return 1; done
  [[ -f "$STAMP" && "$(cat "$STAMP")" == "$(stamp_text)" ]]
}

# The unversioned layout of earlier checkouts (files straight in editor-ls/): not served
# any more, so removed.
for m in "${MEMBERS[@]}" LICENSE NOTICE app-settings.js .editor-ls-stamp; do
  rm -f "$ROOT/frontend/static/editor-ls/$m"
done
rm -rf "$ROOT/frontend/static/editor-ls/fonts"

if installed; then
  bash "$ROOT/scripts/gzip_static.sh" "$DEST"
  log "label-studio $VERSION editor already installed (wheel verified earlier)"
  exit 0
fi

mkdir -p "$CACHE"
if [[ -f "$WHEEL" && "$(sha256_of "$WHEEL")" != "$SHA256" ]]; then
  log "cached wheel $WHEEL does not match the pinned hash; downloading it again"
  rm -f "$WHEEL"
fi
if [[ ! -f "$WHEEL" ]]; then
  log "pip download label-studio==$VERSION --no-deps (74 MB, once)"
  req="$CACHE/requirement.txt"
  printf 'label-studio==%s --hash=sha256:%s\n' "$VERSION" "$SHA256" >"$req"
  # --require-hashes: pip itself refuses a wheel whose hash differs from the pin.
  "$PYTHON" -m pip download --disable-pip-version-check --progress-bar off -q --no-deps \
    --only-binary=:all: --require-hashes -r "$req" -d "$CACHE" </dev/null \
    || die "pip download label-studio==$VERSION failed (is the package index reachable?)"
  [[ -f "$WHEEL" ]] || die "pip did not produce $WHEEL"
fi
actual="$(sha256_of "$WHEEL")"
if [[ "$actual" != "$SHA256" ]]; then
  mv -f "$WHEEL" "$WHEEL.rejected"
  die "hash check FAILED for label-studio $VERSION
  expected: $SHA256
  actual:   $actual
  Refusing to install it. The wheel was moved to $WHEEL.rejected for inspection."
fi
log "wheel hash OK (sha256:$SHA256)"

tmp="$(mktemp -d "$CACHE/extract.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
"$PYTHON" - "$WHEEL" "$tmp" "$VERSION" "${MEMBERS[@]}" -- "${FONTS[@]}" <<'PY'
import ast, json, sys, zipfile
from pathlib import Path

wheel, out, version, *rest = sys.argv[1:]
split = rest.index("--")
members, fonts = rest[:split], rest[split + 1 :]
wanted = {f"web/dist/apps/labelstudio/{m}": Path(out, m) for m in members}
wanted.update({f"label_studio/core/static/fonts/{f}": Path(out, "fonts", f) for f in fonts})
wanted[f"label_studio-{version}.dist-info/licenses/LICENSE"] = Path(out, "LICENSE")
wanted[f"label_studio-{version}.dist-info/licenses/NOTICE"] = Path(out, "NOTICE")
with zipfile.ZipFile(wheel) as archive:
    names = set(archive.namelist())
    missing = sorted(name for name in wanted if name not in names)
    if missing:
        sys.exit(f"fetch_editor_ls: ERROR: the wheel lacks {', '.join(missing)}")
    for name, target in wanted.items():
        target.parent.mkdir(parents=True, exist_ok=True)
        data = archive.read(name)
        if not data:
            sys.exit(f"fetch_editor_ls: ERROR: {name} is empty in the wheel")
        if name.endswith("/main.css"):
            # Label Studio serves its fonts at /static/fonts/; ours sit beside the styles.
            data = data.replace(b"url(/static/fonts/", b"url(fonts/")
        target.write_bytes(data)
    # Label Studio's pages set window.APP_SETTINGS.feature_flags before the editor loads
    # (base.html): every flag of its feature_flags.json as its offline evaluation gives it
    # (no user targets: the fallthrough variation when on, the off variation when off),
    # then its stale flags, and true for any other (FEATURE_FLAGS_DEFAULT_VALUE in the
    # community edition). The editor reads them at load, so the same code paths run here.
    flags = {}
    for key, flag in json.loads(archive.read("label_studio/feature_flags.json"))["flags"].items():
        index = flag["fallthrough"].get("variation", 0) if flag["on"] else flag["offVariation"]
        flags[key] = flag["variations"][index]
    stale_source = archive.read("label_studio/core/feature_flags/stale_feature_flags.py").decode()
    for node in ast.parse(stale_source).body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "STALE_FEATURE_FLAGS":
            flags.update(ast.literal_eval(node.value))
    settings = {"feature_flags": flags, "feature_flags_default_value": True,
                "sentry_environment": "opensource"}
    Path(out, "app-settings.js").write_text(
        f"/* Generated by scripts/fetch_editor_ls.sh from label-studio {version}'s feature flags. */\n"
        f"window.APP_SETTINGS = Object.assign({json.dumps(settings, sort_keys=True)}, window.APP_SETTINGS || {{}});\n"
    )
PY

mkdir -p "$DEST/fonts"
rm -f "$STAMP"
for m in "${MEMBERS[@]}" LICENSE NOTICE app-settings.js; do
  cp "$tmp/$m" "$DEST/$m.tmp" && mv -f "$DEST/$m.tmp" "$DEST/$m"
done
for f in "${FONTS[@]}"; do
  cp "$tmp/fonts/$f" "$DEST/fonts/$f.tmp" && mv -f "$DEST/fonts/$f.tmp" "$DEST/fonts/$f"
done
stamp_text >"$STAMP"
bash "$ROOT/scripts/gzip_static.sh" "$DEST"
log "installed the label-studio $VERSION editor (${#MEMBERS[@]} files, fonts, LICENSE, NOTICE) into $DEST"
