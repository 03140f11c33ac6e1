#!/usr/bin/env bash
# Builds the fuzz targets with libFuzzer coverage instrumentation on stable Rust and runs each
# for SECONDS (default 20) from its corpus in fuzz/corpus/<target> (seeded from the test
# fixtures). Exits non-zero when a target crashes; the crashing input is in fuzz/artifacts/.
# Usage: fuzz/run.sh [SECONDS] [TARGET...]
set -euo pipefail
cd "$(dirname "$0")"
seconds="${1:-20}"
shift || true
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(push_decode html_extract feed_extract dates)
triple="$(rustc -vV | sed -n 's/^host: //p')"
export RUSTFLAGS="--cfg fuzzing -Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=4 \
-Cllvm-args=-sanitizer-coverage-inline-8bit-counters -Cllvm-args=-sanitizer-coverage-pc-table \
-Cllvm-args=-sanitizer-coverage-trace-compares -Cdebug-assertions -Coverflow-checks"
export CARGO_TARGET_DIR="${FUZZ_TARGET_DIR:-$PWD/target}"
cargo build --release --quiet --target "$triple" --bins
mkdir -p artifacts
for target in "${targets[@]}"; do
  mkdir -p "corpus/$target"
  if [ -z "$(ls -A "corpus/$target")" ]; then
    case "$target" in
      html_extract) cp ../tests/testdata/corpus/*.html "corpus/$target/" ;;
      push_decode) printf '\000{"schema_version":1,"batch_id":"abcdefgh","agent":"a","county":"c","sequence":1,"created_at":"2026-11-26T00:00:00Z","observations":[]}' > "corpus/$target/seed" ;;
      feed_extract) printf '<rss version="2.0"><channel><item><pubDate>Fri, 20 Nov 2026 08:00:00 +0800</pubDate></item></channel></rss>' > "corpus/$target/rss" ;;
      dates) printf '2026-11-20' > "corpus/$target/iso"; printf '3小时前' > "corpus/$target/relative" ;;
    esac
  fi
  echo "==> fuzz $target for ${seconds}s"
  "$CARGO_TARGET_DIR/$triple/release/$target" "corpus/$target" \
    -max_total_time="$seconds" -rss_limit_mb=2048 -max_len=262144 -timeout=10 \
    -artifact_prefix="artifacts/$target-" -print_final_stats=1 2>&1 \
    | grep -E '^(stat::number_of_executed_units|stat::peak_rss_mb|#[0-9]+ +DONE)|ERROR|panicked|SUMMARY' || true
  if ls artifacts/"$target"-* >/dev/null 2>&1; then
    echo "fuzz target $target found a crash: see fuzz/$(ls artifacts/"$target"-* | head -1)" >&2
    exit 1
  fi
done
