# Shared setup for scripts/run and scripts/test: system packages and the virtualenv.
# Sourced, not executed.

PROJECT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$PROJECT_DIR/.venv"

# Installs the Debian packages that are missing; a no-op when all are present.
ensure_debian_packages() {
  local missing=()
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if ! command -v apt-get >/dev/null; then
    echo "缺少系统软件包：${missing[*]}（非 Debian 系统，请手工安装）" >&2
    return 1
  fi
  local sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  echo "安装系统软件包：${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

find_python() {
  for candidate in "${PYTHON:-}" python3.11 python3.12 python3.13 python3; do
    [ -n "$candidate" ] || continue
    if command -v "$candidate" >/dev/null &&
      "$candidate" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)'; then
      echo "$candidate"
      return 0
    fi
  done
  echo "需要 Python 3.11 或更新版本。" >&2
  return 1
}

# Creates .venv if needed and installs the requirements file when it changed.
ensure_venv() {
  local requirements="$1"
  local python
  python="$(find_python)"
  if [ ! -x "$VENV/bin/python" ]; then
    if ! "$python" -m venv "$VENV" 2>/dev/null; then
      ensure_debian_packages python3-venv
      rm -rf "$VENV"
      "$python" -m venv "$VENV"
    fi
  fi
  local stamp="$VENV/.installed-$(basename "$requirements")"
  local digest
  digest="$(cat "$PROJECT_DIR"/requirements*.txt | sha256sum | cut -d' ' -f1)"
  if [ "$(cat "$stamp" 2>/dev/null)" != "$digest" ]; then
    echo "安装 Python 依赖（$(basename "$requirements")）…"
    # grep drops pip's notes about local index folders some machines configure;
    # pipefail (set by the callers) still stops on a failed install.
    "$VENV/bin/python" -m pip install -q --upgrade pip 2>&1 | { grep -v "WARNING: Location" || true; }
    "$VENV/bin/python" -m pip install -q -r "$requirements" 2>&1 | { grep -v "WARNING: Location" || true; }
    echo "$digest" >"$stamp"
  fi
}

# WeasyPrint renders through Pango; Chinese pages and PDFs need a CJK font.
RUNTIME_PACKAGES=(libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-noto-cjk)
