#!/usr/bin/env bash
# Re-makes the pictures in this directory: the first page of the 通报 in each format, for a
# made-up city (three counties and 市直, 2026Q2–Q3, the seed notice's three annex cases).
#
#   docs/report-samples/make.sh
#
# Needs chromium, LibreOffice (Writer and Calc: Debian's libreoffice-writer-nogui and
# libreoffice-calc-nogui), pdftoppm (poppler-utils) and a Chinese font (fonts-wqy-microhei).
set -euo pipefail
cd "$(dirname "$0")/../.."
here=docs/report-samples

need() { command -v "$1" >/dev/null 2>&1 || { echo "missing $1: apt-get install $2" >&2; exit 1; }; }
need chromium chromium
need soffice "libreoffice-writer-nogui libreoffice-calc-nogui"
need pdftoppm poppler-utils

cargo build --release -q -p xunjian-collector -p xunjian-tests --bin xunjian-collector --bin xunjian-history
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
target/release/xunjian-history --out "$work" >/dev/null
for format in docx xlsx pdf html csv md; do
  target/release/xunjian-collector report --config "$work/collector.toml" --period 2026Q3 \
    --format "$format" --out "$work/通报.$format" 2>/dev/null
done

first_page() { # PDF → PNG of page 1, 80 dpi
  pdftoppm -png -r 80 -f 1 -l 1 -singlefile "$1" "$here/$2"
}
first_page "$work/通报.pdf" pdf
for format in docx xlsx csv; do
  mkdir -p "$work/$format"
  HOME="$work" soffice --headless --norestore --convert-to pdf --outdir "$work/$format" "$work/通报.$format" >/dev/null 2>&1
  first_page "$work/$format/通报.pdf" "$format"
done
# The web page as a browser shows it on screen (the PDF above is the same page printed).
HOME="$work" chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --user-data-dir="$work/profile" \
  --window-size=1000,1400 --screenshot="$here/html.png" "file://$work/通报.html" >/dev/null 2>&1
cp "$work/通报.md" "$here/sample.md"
ls -l "$here"
